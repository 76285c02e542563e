/** Field specs and record shapes shared by the merge's example and property tests. */
import { itemsByKey, mergedAttributes, primaryKey } from '../../../src/core/sync/items.ts';
import { applyWrite, mergeRecords } from '../../../src/core/sync/merge.ts';
import type { MergeInput } from '../../../src/core/sync/merge.ts';
import { readCollection, readScalar } from '../../../src/core/sync/record.ts';
import type {
  CanonicalRecord,
  CollectionFieldSpec,
  ConflictPolicy,
  Direction,
  FieldSpec,
} from '../../../src/core/sync/record.ts';
import { canonicalJson } from '../../../src/core/canonical.ts';
import type { JsonValue } from '../../../src/core/types.ts';

/** Lower-cased, trimmed e-mail address: the key of an e-mail item. */
export const normaliseEmail = (value: string): string => value.trim().toLowerCase();

/** A scalar field spec. */
export function scalar(name: string, policy: ConflictPolicy, direction: Direction = 'both'): FieldSpec {
  return { kind: 'scalar', name, direction, policy };
}

/** An e-mail collection with a `primary` flag, keyed by the lower-cased address. */
export function emails(policy: ConflictPolicy, direction: Direction = 'both'): CollectionFieldSpec {
  return {
    kind: 'collection',
    name: 'emails',
    direction,
    policy,
    normalise: normaliseEmail,
    primaryAttribute: 'primary',
  };
}

/** A field's value as a vendor would see it, without the spelling of item values and their order. */
export function shape(record: CanonicalRecord, spec: FieldSpec): JsonValue {
  if (spec.kind === 'scalar') return readScalar(record, spec.name);
  const items = itemsByKey(readCollection(record, spec.name), spec);
  return {
    items: Object.fromEntries([...items].map(([key, item]) => [key, mergedAttributes(item, spec)])),
    primary: primaryKey(items, spec),
  };
}

/** Both sides after the merge's writes, and the merge itself. */
export function mergeAndApply(input: MergeInput) {
  const result = mergeRecords(input);
  return {
    result,
    a: applyWrite(input.a, result.writes.a),
    b: applyWrite(input.b, result.writes.b),
  };
}

/** The state a previous sync leaves for `record`: both sides and both bases hold its merged form. */
export function synced(fields: readonly FieldSpec[], record: CanonicalRecord): CanonicalRecord {
  return mergeRecords({ fields, a: record, b: record, base: undefined }).base.a;
}

/** Canonical JSON of a merge's output (its lists are read-only, so they are not typed as JsonValue). */
export function json(value: unknown): string {
  return canonicalJson(value as JsonValue);
}
