/**
 * The delta of one side: what changed in its canonical record since its base snapshot, per field, and for
 * collection fields per item key. The merge reports both deltas with its result (run history, `sync plan`).
 */
import type { JsonValue } from '../types.ts';
import { itemsByKey, mergedAttributes, primaryKey } from './items.ts';
import { readCollection, readScalar, sameJson } from './record.ts';
import type { CanonicalRecord, CollectionFieldSpec, CollectionItem, FieldSpec } from './record.ts';

/** A value before and after. */
export interface Change<T> {
  /** The base snapshot's value. */
  readonly from: T;
  /** The current value. */
  readonly to: T;
}

/** The attributes that changed on an item present in the base and now. */
export interface ItemChange {
  /** The item's normalised key. */
  readonly key: string;
  /** Changed attributes by name (`null` for absent). The primary flag is reported on the collection instead. */
  readonly attributes: { readonly [name: string]: Change<JsonValue> };
}

/** A scalar field whose value changed. */
export interface ScalarDelta extends Change<JsonValue> {
  /** Discriminator. */
  readonly kind: 'scalar';
  /** Canonical field name. */
  readonly field: string;
}

/** A collection field whose items changed. */
export interface CollectionDelta {
  /** Discriminator. */
  readonly kind: 'collection';
  /** Canonical field name. */
  readonly field: string;
  /** Items whose key is new. */
  readonly added: readonly CollectionItem[];
  /** Items whose key is gone. */
  readonly removed: readonly CollectionItem[];
  /** Items kept whose attributes changed. */
  readonly changed: readonly ItemChange[];
  /** Set when another item (or none) is primary now: the keys before and after. */
  readonly primary?: Change<string | null>;
}

/** The change of one field. */
export type FieldDelta = ScalarDelta | CollectionDelta;

/** The fields of `current` that differ from `base`, in the order of `fields`. */
export function diffRecord(
  current: CanonicalRecord,
  base: CanonicalRecord,
  fields: readonly FieldSpec[],
): FieldDelta[] {
  const deltas: FieldDelta[] = [];
  for (const spec of fields) {
    const delta =
      spec.kind === 'scalar' ? diffScalar(current, base, spec.name) : diffCollection(current, base, spec);
    if (delta !== undefined) deltas.push(delta);
  }
  return deltas;
}

function diffScalar(current: CanonicalRecord, base: CanonicalRecord, field: string): ScalarDelta | undefined {
  const from = readScalar(base, field);
  const to = readScalar(current, field);
  return sameJson(from, to) ? undefined : { kind: 'scalar', field, from, to };
}

function diffCollection(
  current: CanonicalRecord,
  base: CanonicalRecord,
  spec: CollectionFieldSpec,
): CollectionDelta | undefined {
  const before = itemsByKey(readCollection(base, spec.name), spec);
  const now = itemsByKey(readCollection(current, spec.name), spec);
  const added = [...now].filter(([key]) => !before.has(key)).map(([, item]) => item);
  const removed = [...before].filter(([key]) => !now.has(key)).map(([, item]) => item);
  const changed: ItemChange[] = [];
  for (const [key, item] of now) {
    const old = before.get(key);
    if (old === undefined) continue;
    const attributes = attributeChanges(mergedAttributes(old, spec), mergedAttributes(item, spec));
    if (Object.keys(attributes).length > 0) changed.push({ key, attributes });
  }
  const primary = { from: primaryKey(before, spec), to: primaryKey(now, spec) };
  const primaryChanged = primary.from !== primary.to;
  if (added.length === 0 && removed.length === 0 && changed.length === 0 && !primaryChanged) return undefined;
  return {
    kind: 'collection',
    field: spec.name,
    added,
    removed,
    changed,
    ...(primaryChanged ? { primary } : {}),
  };
}

function attributeChanges(
  before: { readonly [name: string]: JsonValue },
  now: { readonly [name: string]: JsonValue },
): { [name: string]: Change<JsonValue> } {
  const changes: { [name: string]: Change<JsonValue> } = {};
  for (const name of new Set([...Object.keys(before), ...Object.keys(now)])) {
    const change = { from: before[name] ?? null, to: now[name] ?? null };
    if (!sameJson(change.from, change.to)) changes[name] = change;
  }
  return changes;
}
