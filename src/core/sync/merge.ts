/**
 * The field-level three-way merge of one link: both sides' canonical records against their base snapshots.
 * Fields changed on one side only flow to the other, equal changes are no-ops, and only a true same-field (or
 * same item attribute) conflict goes to the field's policy; a parked (manual) conflict keeps both values and its
 * base while every other field still merges. Pure: no I/O, no clock (change times come from the caller).
 *
 * The result says what to write to each side (only what changes there), the new base snapshots, the conflicts
 * and both deltas. Merging the written records again against the new bases writes nothing.
 */
import type { JsonValue } from '../types.ts';
import { itemOperations, mergeCollection } from './collection-merge.ts';
import type { ItemOperations } from './collection-merge.ts';
import { diffRecord } from './diff.ts';
import type { FieldDelta } from './diff.ts';
import { collectionText } from './items.ts';
import { readCollection, readScalar, sameJson } from './record.ts';
import type {
  CanonicalRecord,
  ChangeTimes,
  CollectionFieldSpec,
  CollectionItem,
  FieldSpec,
  FieldValue,
  ScalarFieldSpec,
} from './record.ts';
import { conflictOf, mergeSlot } from './slot.ts';
import type { MergeConflict } from './slot.ts';

/** Everything one merge reads. */
export interface MergeInput {
  /** The fields to merge, with direction and policy. Fields of the records not listed here are ignored. */
  readonly fields: readonly FieldSpec[];
  /** Side a's current canonical record. */
  readonly a: CanonicalRecord;
  /** Side b's current canonical record. */
  readonly b: CanonicalRecord;
  /** Each side's base snapshot; `undefined` for a link never synced (every field then counts as new). */
  readonly base: { readonly a: CanonicalRecord; readonly b: CanonicalRecord } | undefined;
  /** When each side changed, for `newest-wins`. */
  readonly times?: ChangeTimes;
}

/** What to write to one side. */
export interface SideWrite {
  /** Only the fields that change on this side; a collection field as its full new set (EspoCRM replaces it). */
  readonly fields: { readonly [field: string]: FieldValue };
  /** For each collection field in `fields`, the same change item by item, for vendors that write items singly. */
  readonly items: { readonly [field: string]: ItemOperations };
}

/** Counts of a merge, for logs and the run history. */
export interface MergeSummary {
  /** Number of fields written to side a. */
  readonly writesA: number;
  /** Number of fields written to side b. */
  readonly writesB: number;
  /** Conflicts settled by a winning side. */
  readonly settled: number;
  /** Conflicts parked for a person to resolve. */
  readonly parked: number;
}

/** The outcome of a merge. */
export interface MergeResult {
  /** What to write per side; empty `fields` means no write to that side. */
  readonly writes: { readonly a: SideWrite; readonly b: SideWrite };
  /** The base snapshots to store once the writes succeeded (every merged field, per side). */
  readonly base: { readonly a: CanonicalRecord; readonly b: CanonicalRecord };
  /** True same-slot conflicts, in field order. A parked one is reported again by every merge until resolved. */
  readonly conflicts: readonly MergeConflict[];
  /** What changed on each side since its base. */
  readonly deltas: { readonly a: readonly FieldDelta[]; readonly b: readonly FieldDelta[] };
  /** Counts. */
  readonly summary: MergeSummary;
}

const NO_BASE: CanonicalRecord = {};

/** Merges one link's two records against their base snapshots. */
export function mergeRecords(input: MergeInput): MergeResult {
  const baseA = input.base?.a ?? NO_BASE;
  const baseB = input.base?.b ?? NO_BASE;
  const times = input.times ?? {};
  const writeA = new SideWriteBuilder();
  const writeB = new SideWriteBuilder();
  const nextBaseA: Record<string, FieldValue> = {};
  const nextBaseB: Record<string, FieldValue> = {};
  const conflicts: MergeConflict[] = [];

  for (const spec of input.fields) {
    if (spec.kind === 'scalar') {
      const values = {
        a: readScalar(input.a, spec.name),
        b: readScalar(input.b, spec.name),
        baseA: readScalar(baseA, spec.name),
        baseB: readScalar(baseB, spec.name),
      };
      const outcome = mergeSlot(values, spec, times);
      pushIfSet(conflicts, conflictOf({ field: spec.name }, outcome, values, spec));
      writeA.scalar(spec, values.a, outcome.a);
      writeB.scalar(spec, values.b, outcome.b);
      nextBaseA[spec.name] = outcome.baseA;
      nextBaseB[spec.name] = outcome.baseB;
    } else {
      const lists = {
        a: readCollection(input.a, spec.name),
        b: readCollection(input.b, spec.name),
        baseA: readCollection(baseA, spec.name),
        baseB: readCollection(baseB, spec.name),
      };
      const outcome = mergeCollection(lists, spec, times);
      conflicts.push(...outcome.conflicts);
      writeA.collection(spec, lists.a, outcome.a);
      writeB.collection(spec, lists.b, outcome.b);
      nextBaseA[spec.name] = outcome.baseA;
      nextBaseB[spec.name] = outcome.baseB;
    }
  }

  const writes = { a: writeA.done(), b: writeB.done() };
  const parked = conflicts.filter((conflict) => conflict.outcome === 'parked').length;
  return {
    writes,
    base: { a: nextBaseA, b: nextBaseB },
    conflicts,
    deltas: { a: diffRecord(input.a, baseA, input.fields), b: diffRecord(input.b, baseB, input.fields) },
    summary: {
      writesA: Object.keys(writes.a.fields).length,
      writesB: Object.keys(writes.b.fields).length,
      settled: conflicts.length - parked,
      parked,
    },
  };
}

/** Whether a merge writes nothing to either side. */
export function writesNothing(result: MergeResult): boolean {
  return result.summary.writesA === 0 && result.summary.writesB === 0;
}

/** The written record of a side: its current record with the merge's writes applied. */
export function applyWrite(record: CanonicalRecord, write: SideWrite): CanonicalRecord {
  return { ...record, ...write.fields };
}

/** Collects one side's writes: a field goes in only when its merged value differs from the current one. */
class SideWriteBuilder {
  private readonly fields: Record<string, FieldValue> = {};
  private readonly items: Record<string, ItemOperations> = {};

  scalar(spec: ScalarFieldSpec, current: JsonValue, next: JsonValue): void {
    if (!sameJson(current, next)) this.fields[spec.name] = next;
  }

  collection(spec: CollectionFieldSpec, current: readonly CollectionItem[], next: CollectionItem[]): void {
    if (collectionText(current, spec) === collectionText(next, spec)) return;
    this.fields[spec.name] = next;
    this.items[spec.name] = itemOperations(current, next, spec);
  }

  done(): SideWrite {
    return { fields: this.fields, items: this.items };
  }
}

function pushIfSet<T>(list: T[], item: T | undefined): void {
  if (item !== undefined) list.push(item);
}
