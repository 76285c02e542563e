/**
 * The three-way rule for one value (a slot): a scalar field, one attribute of a collection item, an item's
 * presence, or which item of a collection is primary. Every part of the merge goes through this one rule, so
 * scalars and collections settle changes and conflicts the same way.
 */
import type { JsonValue } from '../types.ts';
import { sameJson } from './record.ts';
import type { ChangeTimes, ConflictPolicy, Direction, FieldRules, Side } from './record.ts';

/** A slot's current value on each side and each side's base snapshot value. */
export interface SlotValues {
  /** Current value on side a. */
  readonly a: JsonValue;
  /** Current value on side b. */
  readonly b: JsonValue;
  /** Side a's base snapshot value. */
  readonly baseA: JsonValue;
  /** Side b's base snapshot value. */
  readonly baseB: JsonValue;
}

/** How a same-slot conflict ended: the winning side, or `parked` for a manual conflict. */
export type ConflictOutcome = Side | 'parked';

/** The merged slot: the new value on each side, the new base per side, and the conflict if there was one. */
export interface SlotOutcome extends SlotValues {
  /** Set when both sides changed the slot to different values. */
  readonly conflict?: ConflictOutcome;
}

/**
 * Merges one slot.
 * - Neither side changed it (each equals its base): nothing happens, even if the sides differ.
 * - One-way field: once either side changed it, the source side's value is taken on both sides (a change on the
 *   receiving side is overwritten: the source owns the field, so the sides agree again).
 * - One side changed it: the change flows to the other side.
 * - Both changed it to the same value: agreed, nothing to write.
 * - Both changed it to different values: a conflict, settled by the policy; a parked conflict leaves the values
 *   and the bases as they are.
 */
export function mergeSlot(values: SlotValues, rules: FieldRules, times: ChangeTimes): SlotOutcome {
  const changedA = !sameJson(values.a, values.baseA);
  const changedB = !sameJson(values.b, values.baseB);
  if (!changedA && !changedB) return values;
  const source = oneWaySource(rules.direction);
  if (source !== undefined) return agreed(values[source]);
  if (!changedB) return agreed(values.a);
  if (!changedA || sameJson(values.a, values.b)) return agreed(values.b);
  const conflict = settle(rules.policy, times);
  if (conflict === 'parked') return { ...values, conflict };
  return { ...agreed(values[conflict]), conflict };
}

/** The side that owns a one-way field, `undefined` for `both`. */
function oneWaySource(direction: Direction): Side | undefined {
  if (direction === 'a-to-b') return 'a';
  if (direction === 'b-to-a') return 'b';
  return undefined;
}

function agreed(value: JsonValue): SlotOutcome {
  return { a: value, b: value, baseA: value, baseB: value };
}

/** Applies a conflict policy: the winning side, or `parked`. */
export function settle(policy: ConflictPolicy, times: ChangeTimes): ConflictOutcome {
  switch (policy.kind) {
    case 'a-wins':
      return 'a';
    case 'b-wins':
      return 'b';
    case 'manual':
      return 'parked';
    case 'newest-wins': {
      const { a, b } = times;
      if (a === undefined || b === undefined || a === b) return policy.onTie;
      return a > b ? 'a' : 'b';
    }
  }
}

/** Where in a record a conflict is: a field, an item of a collection field, an attribute of that item. */
export interface ConflictLocation {
  /** Canonical field name. */
  readonly field: string;
  /**
   * Normalised key of the collection item. Without `attribute`, the conflict is about the item itself: removed
   * on one side and changed on the other (the values are its attributes, `null` for removed).
   */
  readonly item?: string;
  /**
   * The item's attribute in conflict. Without `item`, it is the collection's primary flag and the values are
   * the keys of the primary items.
   */
  readonly attribute?: string;
}

/** A true same-slot conflict: both values, both bases, the policy applied and how it ended. */
export interface MergeConflict extends ConflictLocation {
  /** Side a's value. */
  readonly a: JsonValue;
  /** Side b's value. */
  readonly b: JsonValue;
  /** The base snapshot values per side. */
  readonly base: { readonly a: JsonValue; readonly b: JsonValue };
  /** The field's policy. */
  readonly policy: ConflictPolicy;
  /** The winning side, or `parked` (manual: both sides keep their values, the base stays). */
  readonly outcome: ConflictOutcome;
}

/** The conflict of a merged slot, `undefined` when there was none. */
export function conflictOf(
  location: ConflictLocation,
  outcome: SlotOutcome,
  values: SlotValues,
  rules: FieldRules,
): MergeConflict | undefined {
  if (outcome.conflict === undefined) return undefined;
  return {
    ...location,
    a: values.a,
    b: values.b,
    base: { a: values.baseA, b: values.baseB },
    policy: rules.policy,
    outcome: outcome.conflict,
  };
}
