/**
 * Canonical records and the field specs of a sync flow: what the three-way merge works on. A canonical record is
 * one side's record mapped to canonical field names with JSON values (the mapping itself lives elsewhere). A
 * field is either a scalar, compared by canonical JSON, or a collection: a set of items without vendor ids,
 * keyed by a normalised value (a lower-cased e-mail address, a phone number's digits), each with attributes.
 */
import { canonicalJson } from '../canonical.ts';
import { CrmsyncError } from '../errors.ts';
import type { JsonValue } from '../types.ts';

/** The two sides of a link. `a` and `b` are positions, not vendors: the flow config says which is which. */
export type Side = 'a' | 'b';

/**
 * One item of a collection field, e.g. an e-mail address with `{ type: 'work', primary: true, optOut: false }`.
 * Its identity is the normalised `value` (see {@link CollectionFieldSpec.normalise}); the spelling of `value`
 * is each side's own and is not merged. An absent attribute and a `null` attribute mean the same.
 */
export type CollectionItem = {
  /** The value as the vendor spells it (`Max@Example.com`, `+49 30 1234-5`). */
  readonly value: string;
  /** Per-item attributes with JSON values. */
  readonly attributes: { readonly [name: string]: JsonValue };
};

/** The value of one field: a JSON value for a scalar field, a list of items for a collection field. */
export type FieldValue = JsonValue | readonly CollectionItem[];

/**
 * One side's record in canonical field names. A field the record does not carry counts as `null` (scalar) or
 * as the empty set (collection). Order of collection items carries no meaning.
 */
export type CanonicalRecord = { readonly [field: string]: FieldValue | undefined };

/** Which way a field flows: both ways, or one way only (the source side owns the field). */
export type Direction = 'both' | 'a-to-b' | 'b-to-a';

/**
 * How a true same-field conflict (both sides changed the field to different values) is settled.
 * - `a-wins` / `b-wins`: that side's value is taken.
 * - `newest-wins`: the side with the later change time wins; equal or unknown times fall back to `onTie`.
 * - `manual`: the conflict is parked; both sides keep their values and the base stays, the other fields merge.
 */
export type ConflictPolicy =
  | { readonly kind: 'a-wins' }
  | { readonly kind: 'b-wins' }
  | { readonly kind: 'newest-wins'; readonly onTie: Side }
  | { readonly kind: 'manual' };

/** What every field spec says: its canonical name, its direction and its conflict policy. */
export interface FieldRules {
  /** The canonical field name, the key in {@link CanonicalRecord}. */
  readonly name: string;
  /** Which way the field flows. */
  readonly direction: Direction;
  /** How a same-field conflict is settled (only for `both`; a one-way field has no conflicts). */
  readonly policy: ConflictPolicy;
}

/** A field with one JSON value, compared by canonical JSON. */
export interface ScalarFieldSpec extends FieldRules {
  /** Discriminator. */
  readonly kind: 'scalar';
}

/** A field holding a set of items without vendor ids (EspoCRM `emailAddressData`, `phoneNumberData`). */
export interface CollectionFieldSpec extends FieldRules {
  /** Discriminator. */
  readonly kind: 'collection';
  /** Maps an item's value to its key; two items with the same key are the same item. Must be pure. */
  readonly normalise: (value: string) => string;
  /**
   * Name of the boolean attribute that marks the one primary item (EspoCRM `primary`), if the collection has
   * one. The merge treats "which item is primary" as one value of the collection, so at most one item is
   * primary on every side after a merge.
   */
  readonly primaryAttribute?: string;
}

/** The spec of one merged field. */
export type FieldSpec = ScalarFieldSpec | CollectionFieldSpec;

/**
 * When each side last changed, as epoch milliseconds, for `newest-wins`. Supplied by the caller (a vendor's
 * modification time, or when a change was first seen); an unknown time makes every comparison a tie.
 */
export interface ChangeTimes {
  /** Change time of side a's record. */
  readonly a?: number | undefined;
  /** Change time of side b's record. */
  readonly b?: number | undefined;
}

/** The other side. */
export function otherSide(side: Side): Side {
  return side === 'a' ? 'b' : 'a';
}

/** Whether two JSON values are equal, whatever the order of their object keys. */
export function sameJson(left: JsonValue, right: JsonValue): boolean {
  return canonicalJson(left) === canonicalJson(right);
}

/** A scalar field's value; absent is `null`. */
export function readScalar(record: CanonicalRecord, field: string): JsonValue {
  const value = record[field];
  return value === undefined ? null : (value as JsonValue);
}

/**
 * A collection field's items; absent or `null` is the empty set. Anything else than a list of
 * `{ value: string, attributes: object }` is a mapping defect and raises `SYNC_COLLECTION_INVALID`.
 */
export function readCollection(record: CanonicalRecord, field: string): readonly CollectionItem[] {
  const value = record[field];
  if (value === undefined || value === null) return [];
  if (isCollection(value)) return value;
  throw new CrmsyncError(
    'SYNC_COLLECTION_INVALID',
    `Field "${field}" is a collection field, but its value is not a list of { value: string, attributes: {} } items; fix the mapping that produces it.`,
    { details: { field } },
  );
}

function isCollection(value: FieldValue): value is readonly CollectionItem[] {
  return Array.isArray(value) && (value as readonly unknown[]).every(isCollectionItem);
}

function isCollectionItem(item: unknown): boolean {
  if (item === null || typeof item !== 'object') return false;
  const { value, attributes } = item as { value?: unknown; attributes?: unknown };
  return (
    typeof value === 'string' &&
    attributes !== null &&
    typeof attributes === 'object' &&
    !Array.isArray(attributes)
  );
}
