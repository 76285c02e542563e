/**
 * The oracle of the convergence test (issue 10): every human edit with its place in time, and the rule that
 * says which final values are acceptable under the Beteiligte flow's policy (a-wins: EspoCRM wins a
 * same-field conflict). Pure: the scenario feeds it the edits and the final state it read.
 *
 * Why a rule and not one expected value: which edits a run sees together depends on timing (webhook batches,
 * re-check ticks, retries, a killed worker), so "EspoCRM and Advoware edited the field between two syncs" is
 * not known in advance. The rule, per record pair and canonical field, with edits totally ordered by the
 * order the test made them in (one driver, one edit at a time):
 *
 * 1. both sides hold the same value (checked by the scenario, which reports a difference as a violation);
 * 2. no edit of the field: the value is the one the pair converged on before the edits began;
 * 3. otherwise the value is the **newest edit** of the field (on either side), or
 * 4. it is the newest EspoCRM (side a) edit of the field, Advoware edited the field later, and the store
 *    holds a conflict record of the pair's link for that field, settled `a`, that names either that value
 *    as side a's or Advoware's newest edit as side b's: the a-wins policy explains why the newer Advoware
 *    edit lost. (A run may see side a as it was a moment before: read before a slow Advoware read, or taken
 *    from the job's newest webhook while a newer one is still on its way; its conflict record then shows
 *    that older side-a value, and the newer one follows with its own webhook.) When only one side edited
 *    the field, rule 3 applies alone (there is nothing to conflict with), so that side's newest edit must
 *    win.
 *
 * An edit not final is either superseded by a newer edit of the same field or lost a recorded conflict;
 * anything else (a value older than both sides' newest edits, the newest edit lost without a conflict, a
 * conflict won by the wrong side) is a violation.
 */
import type { ConflictRecord } from '../../src/ports/store.ts';

/** The mapped canonical fields the test edits. */
export const CANONICAL_FIELDS = ['firstName', 'lastName', 'companyName'] as const;
/** One of {@link CANONICAL_FIELDS}. */
export type CanonicalField = (typeof CANONICAL_FIELDS)[number];
/** Canonical values of one record. */
export type CanonicalValues = Record<CanonicalField, string | null>;

/** One human edit: which record (by the test's key), which side, field and value, in order of making. */
export interface Edit {
  /** Order of the edit among all edits (the driver makes one at a time). */
  readonly seq: number;
  /** The test's key of the record pair (stable from before the pair is linked). */
  readonly key: string;
  readonly side: 'a' | 'b';
  readonly field: CanonicalField;
  readonly value: string;
  /** Milliseconds since the scenario started, for the printed trace. */
  readonly atMs: number;
}

/** What the oracle found wrong with one pair's field. */
export interface Violation {
  readonly key: string;
  readonly field: CanonicalField;
  readonly problem: string;
}

/** How the edits of one field came out: for the summary. */
export interface FieldVerdict {
  /** Edits of the field. */
  readonly edits: number;
  /** Whether a conflict record explained the final value (rule 4). */
  readonly explainedByConflict: boolean;
}

/** The newest edit of `side` among `edits` (ordered by seq), or undefined. */
function newestOf(edits: readonly Edit[], side?: 'a' | 'b'): Edit | undefined {
  let newest: Edit | undefined;
  for (const edit of edits)
    if ((side === undefined || edit.side === side) && (newest === undefined || edit.seq > newest.seq))
      newest = edit;
  return newest;
}

/**
 * Judges one field of one pair: `initial` is the value before the edits, `final` the value both sides hold,
 * `edits` the edits of this field of this pair, `conflicts` the pair's link's conflict records of this field.
 * Returns the violation, or the verdict.
 */
export function judgeField(input: {
  readonly key: string;
  readonly field: CanonicalField;
  readonly initial: string | null;
  readonly final: string | null;
  readonly edits: readonly Edit[];
  readonly conflicts: readonly ConflictRecord[];
}): Violation | FieldVerdict {
  const { key, field, initial, final, edits, conflicts } = input;
  const show = (value: unknown) => JSON.stringify(value);
  const newest = newestOf(edits);
  if (newest === undefined)
    return final === initial
      ? { edits: 0, explainedByConflict: false }
      : { key, field, problem: `never edited, but ${show(initial)} became ${show(final)}` };
  if (final === newest.value) return { edits: edits.length, explainedByConflict: false };
  const newestA = newestOf(edits, 'a');
  const lostToA =
    newestA !== undefined &&
    newest.side === 'b' &&
    final === newestA.value &&
    conflicts.some(
      (conflict) => conflict.outcome === 'a' && (conflict.a === final || conflict.b === newest.value),
    );
  if (lostToA) return { edits: edits.length, explainedByConflict: true };
  const trail = edits.map((edit) => `#${edit.seq}${edit.side}=${show(edit.value)}`).join(' ');
  const recorded = conflicts.map((conflict) => `${conflict.outcome}:${show(conflict.a)}/${show(conflict.b)}`);
  return {
    key,
    field,
    problem:
      `final ${show(final)} is neither the newest edit ${show(newest.value)} (#${newest.seq}, side ${newest.side})` +
      ` nor side a's newest edit explained by an a-wins conflict; edits: ${trail}; conflicts: [${recorded.join(', ')}]`,
  };
}

/** Whether `result` is a violation. */
export function isViolation(result: Violation | FieldVerdict): result is Violation {
  return 'problem' in result;
}
