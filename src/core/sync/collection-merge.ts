/**
 * The three-way merge of a collection field, item by item and attribute by attribute, with the same slot rule
 * as scalars:
 * - an item present on both sides merges per attribute (an attribute changed on one side flows, a different
 *   change on both is a conflict of that attribute);
 * - otherwise the item's presence merges as one slot whose value is its attributes (`null` when absent): added
 *   on one side is added on the other, removed on one side and untouched on the other is removed, removed on
 *   one side and changed (or added) on the other is a conflict settled by the policy;
 * - which item is primary is one more slot (the primary item's key), so after the merge at most one item per
 *   side carries the flag; a primary key whose item is not in a side's set leaves that side without a primary,
 *   and a side or base whose primary item the merge removes counts as having no primary (removing the primary
 *   item is not by itself a change of the primary; setting a new primary is).
 * The spelling of an item's value is each side's own; an item new to a side takes the spelling it came with.
 */
import type { JsonObject, JsonValue } from '../types.ts';
import { isPrimary, itemText, itemsByKey, makeItem, mergedAttributes, primaryKey } from './items.ts';
import type { ItemsByKey } from './items.ts';
import type { ChangeTimes, CollectionFieldSpec, CollectionItem } from './record.ts';
import { conflictOf, mergeSlot } from './slot.ts';
import type { ConflictLocation, MergeConflict, SlotOutcome, SlotValues } from './slot.ts';

/** The four lists a collection merge reads and writes: each side's items and each side's base snapshot. */
export interface CollectionSlots<T> {
  /** Side a's items. */
  readonly a: T;
  /** Side b's items. */
  readonly b: T;
  /** Side a's base snapshot items. */
  readonly baseA: T;
  /** Side b's base snapshot items. */
  readonly baseB: T;
}

/** The merged collection per side and per base, and the conflicts met on the way. */
export interface CollectionOutcome extends CollectionSlots<CollectionItem[]> {
  /** Conflicts in field order: items by key order, then the primary flag. */
  readonly conflicts: readonly MergeConflict[];
}

/** What a side's vendor must do item by item to turn its current set into the merged one. */
export interface ItemOperations {
  /** Items to create. */
  readonly created: readonly CollectionItem[];
  /** Items whose attributes (or primary flag) change, as they must be after the write. */
  readonly updated: readonly CollectionItem[];
  /** Items to remove, as they are now. */
  readonly removed: readonly CollectionItem[];
}

type Position = keyof CollectionSlots<unknown>;
const POSITIONS: readonly Position[] = ['a', 'b', 'baseA', 'baseB'];
/** Where an item's spelling comes from, per position: the side itself first, then the other side. */
const SPELLING_ORDER: CollectionSlots<readonly Position[]> = {
  a: ['a', 'b', 'baseA', 'baseB'],
  b: ['b', 'a', 'baseB', 'baseA'],
  baseA: ['a', 'b', 'baseA', 'baseB'],
  baseB: ['b', 'a', 'baseB', 'baseA'],
};

/** Merges one slot and records its conflict, if any, at the given location. */
type SlotMerger = (location: ConflictLocation, values: SlotValues) => SlotOutcome;

/** Merged attributes by key, per position (a side's set, a side's base). */
type MergedItems = CollectionSlots<Map<string, JsonObject>>;

const NO_PRIMARY: SlotOutcome = { a: null, b: null, baseA: null, baseB: null };

/** Merges one collection field. */
export function mergeCollection(
  lists: CollectionSlots<readonly CollectionItem[]>,
  spec: CollectionFieldSpec,
  times: ChangeTimes,
): CollectionOutcome {
  const maps = mapSlots((position) => itemsByKey(lists[position], spec));
  const conflicts: MergeConflict[] = [];
  const merge: SlotMerger = (location, values) => {
    const outcome = mergeSlot(values, spec, times);
    const conflict = conflictOf(location, outcome, values, spec);
    if (conflict !== undefined) conflicts.push(conflict);
    return outcome;
  };
  const merged = mergeItems(maps, spec, merge);
  const primary = mergePrimary(maps, merged, spec, merge);

  const spell = (position: Position, key: string): string =>
    SPELLING_ORDER[position].map((from) => maps[from].get(key)?.value).find((value) => value !== undefined)!;
  const build = (position: Position, primaryOf: JsonValue): CollectionItem[] =>
    orderedKeys(position, maps, merged[position]).map((key) =>
      makeItem(spell(position, key), merged[position].get(key)!, key === primaryOf, spec),
    );
  const a = build('a', primary.a);
  const b = build('b', primary.b);
  // The base records what each side holds after the write; only a parked primary conflict keeps its old base.
  const parked = primary.conflict === 'parked';
  return {
    a,
    b,
    baseA: build('baseA', parked ? primary.baseA : primaryIn(a, spec)),
    baseB: build('baseB', parked ? primary.baseB : primaryIn(b, spec)),
    conflicts,
  };
}

/** Merges every item: per attribute where both sides have it, else its presence. */
function mergeItems(
  maps: CollectionSlots<ItemsByKey>,
  spec: CollectionFieldSpec,
  merge: SlotMerger,
): MergedItems {
  const merged = mapSlots(() => new Map<string, JsonObject>());
  for (const key of [...allKeys(maps)].sort()) {
    const attributes = mapSlots((position) => {
      const item = maps[position].get(key);
      return item === undefined ? null : mergedAttributes(item, spec);
    });
    if (attributes.a !== null && attributes.b !== null) {
      const next = mapSlots((): JsonObject => ({}));
      for (const name of attributeNames(attributes)) {
        const outcome = merge(
          { field: spec.name, item: key, attribute: name },
          mapSlots((position) => attributes[position]?.[name] ?? null),
        );
        for (const position of POSITIONS)
          if (outcome[position] !== null) next[position][name] = outcome[position];
      }
      for (const position of POSITIONS) merged[position].set(key, next[position]);
    } else {
      const outcome = merge({ field: spec.name, item: key }, attributes);
      for (const position of POSITIONS) {
        const kept = outcome[position];
        if (kept !== null) merged[position].set(key, kept as JsonObject);
      }
    }
  }
  return merged;
}

/**
 * Merges which item is primary. A side or base whose primary item is gone after the item merge counts as
 * having none: a set can only hold a primary it has an item for, so a parked primary conflict keeps exactly
 * the base it compared against.
 */
function mergePrimary(
  maps: CollectionSlots<ItemsByKey>,
  merged: MergedItems,
  spec: CollectionFieldSpec,
  merge: SlotMerger,
): SlotOutcome {
  if (spec.primaryAttribute === undefined) return NO_PRIMARY;
  return merge(
    { field: spec.name, attribute: spec.primaryAttribute },
    mapSlots((position) => {
      const key = primaryKey(maps[position], spec);
      return key !== null && merged[position].has(key) ? key : null;
    }),
  );
}

/** The item operations that turn `current` into `next`. */
export function itemOperations(
  current: readonly CollectionItem[],
  next: readonly CollectionItem[],
  spec: CollectionFieldSpec,
): ItemOperations {
  const before = itemsByKey(current, spec);
  const after = itemsByKey(next, spec);
  return {
    created: [...after].filter(([key]) => !before.has(key)).map(([, item]) => item),
    updated: [...after]
      .filter(([key, item]) => before.has(key) && itemText(before.get(key)!, spec) !== itemText(item, spec))
      .map(([, item]) => item),
    removed: [...before].filter(([key]) => !after.has(key)).map(([, item]) => item),
  };
}

function mapSlots<T>(make: (position: Position) => T): CollectionSlots<T> {
  return { a: make('a'), b: make('b'), baseA: make('baseA'), baseB: make('baseB') };
}

function allKeys(maps: CollectionSlots<ItemsByKey>): Set<string> {
  return new Set(POSITIONS.flatMap((position) => [...maps[position].keys()]));
}

function attributeNames(attributes: CollectionSlots<JsonObject | null>): string[] {
  return [...new Set(POSITIONS.flatMap((position) => Object.keys(attributes[position] ?? {})))].sort();
}

/**
 * A side keeps its own order; items new to it follow in the other side's order. A base is in key order: its
 * order means nothing, and a fixed one makes equal bases equal as JSON.
 */
function orderedKeys(
  position: Position,
  maps: CollectionSlots<ItemsByKey>,
  merged: ReadonlyMap<string, JsonObject>,
): string[] {
  if (position === 'baseA' || position === 'baseB') return [...merged.keys()].sort();
  const keys = new Set(SPELLING_ORDER[position].flatMap((from) => [...maps[from].keys()]));
  return [...keys].filter((key) => merged.has(key));
}

function primaryIn(items: readonly CollectionItem[], spec: CollectionFieldSpec): string | null {
  const item = items.find((candidate) => isPrimary(candidate, spec));
  return item === undefined ? null : spec.normalise(item.value);
}
