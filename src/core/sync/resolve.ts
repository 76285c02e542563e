/**
 * Operators' resolutions of parked conflicts, applied to a merge. A resolution names a field and the value
 * both sides get: one side's current value (`take: 'a' | 'b'`, read at the time it is applied, so an edit
 * made since the conflict was parked is what is taken) or a value the operator gave. The field is then
 * written to each side where it differs, its base snapshots become that value, and its parked conflicts are
 * dropped from the result: the next merge sees both sides equal to their base and writes nothing. Pure.
 */
import type { JsonValue } from '../types.ts';
import { itemOperations } from './collection-merge.ts';
import type { ItemOperations } from './collection-merge.ts';
import type { MergeResult } from './merge.ts';
import { readCollection, sameJson } from './record.ts';
import type { CanonicalRecord, FieldSpec, FieldValue, Side } from './record.ts';

/** An operator's choice for a field with a parked conflict. */
export interface FieldResolution {
  readonly field: string;
  /** Side a's or side b's current value, or `value`. */
  readonly take: Side | 'value';
  /** The value for `take: 'value'`. */
  readonly value?: JsonValue;
}

/** The merge with `resolutions` applied to records `current` (the merge's input records). */
export function applyResolutions(
  result: MergeResult,
  current: { readonly a: CanonicalRecord; readonly b: CanonicalRecord },
  fields: readonly FieldSpec[],
  resolutions: readonly FieldResolution[],
): MergeResult {
  if (resolutions.length === 0) return result;
  const writes = {
    a: { fields: { ...result.writes.a.fields }, items: { ...result.writes.a.items } },
    b: { fields: { ...result.writes.b.fields }, items: { ...result.writes.b.items } },
  };
  const base = { a: { ...result.base.a }, b: { ...result.base.b } };
  const resolved = new Set<string>();
  for (const resolution of resolutions) {
    const spec = fields.find((field) => field.name === resolution.field);
    if (spec === undefined) continue;
    const value: FieldValue =
      resolution.take === 'value'
        ? (resolution.value ?? null)
        : (current[resolution.take][spec.name] ?? (spec.kind === 'collection' ? [] : null));
    for (const side of ['a', 'b'] as const) {
      const before = current[side][spec.name] ?? (spec.kind === 'collection' ? [] : null);
      base[side][spec.name] = value;
      if (sameJson(before as JsonValue, value as JsonValue)) {
        delete writes[side].fields[spec.name];
        delete writes[side].items[spec.name];
        continue;
      }
      writes[side].fields[spec.name] = value;
      if (spec.kind === 'collection')
        writes[side].items[spec.name] = itemOperations(
          readCollection(current[side], spec.name),
          readCollection({ [spec.name]: value }, spec.name),
          spec,
        ) satisfies ItemOperations;
    }
    resolved.add(spec.name);
  }
  const conflicts = result.conflicts.filter((conflict) => !resolved.has(conflict.field));
  const parked = conflicts.filter((conflict) => conflict.outcome === 'parked').length;
  return {
    ...result,
    writes,
    base,
    conflicts,
    summary: {
      writesA: Object.keys(writes.a.fields).length,
      writesB: Object.keys(writes.b.fields).length,
      settled: conflicts.length - parked,
      parked,
    },
  };
}
