/**
 * Collection items by key: the normal form the diff and the merge compare. An item's attributes are compared
 * without `null`s (absent and `null` are the same) and without the primary flag, which is one value of the
 * whole collection (the key of the primary item), so no merge can end with two primary items.
 */
import { canonicalJson } from '../canonical.ts';
import type { JsonObject } from '../types.ts';
import type { CollectionFieldSpec, CollectionItem } from './record.ts';

/** A side's items by normalised key. */
export type ItemsByKey = ReadonlyMap<string, CollectionItem>;

/** Items by key; when two items share a key, the first one counts (the merge writes the set without the twin). */
export function itemsByKey(items: readonly CollectionItem[], spec: CollectionFieldSpec): ItemsByKey {
  const byKey = new Map<string, CollectionItem>();
  for (const item of items) {
    const key = spec.normalise(item.value);
    if (!byKey.has(key)) byKey.set(key, item);
  }
  return byKey;
}

/** An item's attributes as merged and compared: no `null`s, no primary flag. */
export function mergedAttributes(item: CollectionItem, spec: CollectionFieldSpec): JsonObject {
  const attributes: JsonObject = {};
  for (const [name, value] of Object.entries(item.attributes)) {
    if (value !== null && name !== spec.primaryAttribute) attributes[name] = value;
  }
  return attributes;
}

/** The key of the primary item (the first flagged one), or `null` when none is or the collection has no flag. */
export function primaryKey(items: ItemsByKey, spec: CollectionFieldSpec): string | null {
  for (const [key, item] of items) if (isPrimary(item, spec)) return key;
  return null;
}

/** An item with the given attributes; with a primary flag configured, the flag is set on every item. */
export function makeItem(
  value: string,
  attributes: JsonObject,
  primary: boolean,
  spec: CollectionFieldSpec,
): CollectionItem {
  if (spec.primaryAttribute === undefined) return { value, attributes };
  return { value, attributes: { ...attributes, [spec.primaryAttribute]: primary } };
}

/** Whether an item carries the primary flag. */
export function isPrimary(item: CollectionItem, spec: CollectionFieldSpec): boolean {
  return spec.primaryAttribute !== undefined && item.attributes[spec.primaryAttribute] === true;
}

/** Text that is equal for two items exactly when a vendor would see no difference between them. */
export function itemText(item: CollectionItem, spec: CollectionFieldSpec): string {
  return canonicalJson({
    value: item.value,
    attributes: mergedAttributes(item, spec),
    primary: isPrimary(item, spec),
  });
}

/**
 * Text that is equal for two lists exactly when they hold the same items in whatever order. Twins (two items
 * with one key) and a second primary item count, so a list that has them differs from the merged set.
 */
export function collectionText(items: readonly CollectionItem[], spec: CollectionFieldSpec): string {
  return canonicalJson(items.map((item) => itemText(item, spec)).sort());
}
