/**
 * The conflict inbox of a sync run. Every true same-field conflict of a merge becomes a conflict record in the
 * run's outcome commit: one settled by its policy is stored `closed` with the policy's resolution (history),
 * a parked one (`manual`) is stored `open` once per field and updated by every later merge that still finds
 * it. An operator resolves an open conflict (`crmsync sync conflicts resolve`); the next run of the link
 * applies the resolution (`applyResolutions`) and closes it. Each new conflict sends one operator notice.
 */
import type { FieldResolution } from '../../../core/sync/resolve.ts';
import type { MergeConflict } from '../../../core/sync/slot.ts';
import { recordKey } from '../../../core/types.ts';
import type { JsonValue } from '../../../core/types.ts';
import type {
  ConflictInput,
  ConflictRecord,
  ConflictResolution,
  Link,
  OutcomeCommit,
} from '../../../ports/store.ts';
import type { RunContext } from '../../handlers.ts';
import type { Sides } from './plan.ts';

/** The conflicts a link has in the inbox that a run must know: open ones, and resolved ones to apply. */
export interface KnownConflicts {
  readonly open: readonly ConflictRecord[];
  readonly resolved: readonly ConflictRecord[];
}

/** The resolutions of a link's resolved conflicts, for the merge. */
export function resolutionsOf(known: KnownConflicts): FieldResolution[] {
  return known.resolved.flatMap((conflict) =>
    conflict.resolution === null || conflict.item !== null || conflict.attribute !== null
      ? []
      : [{ field: conflict.field, take: conflict.resolution.take, value: conflict.resolution.value }],
  );
}

/** The commit's conflict part and the notices to send, for a merge's conflicts. */
export function conflictChanges(
  flow: string,
  link: Link | null,
  sides: Sides,
  conflicts: readonly MergeConflict[],
  known: KnownConflicts,
  context: RunContext,
): { commit: NonNullable<OutcomeCommit['conflicts']>; notices: string[] } {
  const at = context.clock.now();
  const add: ConflictInput[] = conflicts.map((conflict) => ({
    flow,
    // '' stands for the link this commit creates (a first link's merge).
    linkId: link?.id ?? '',
    field: conflict.field,
    item: conflict.item ?? null,
    attribute: conflict.attribute ?? null,
    a: conflict.a,
    b: conflict.b,
    base: { a: conflict.base.a, b: conflict.base.b },
    policy: conflict.policy.kind,
    outcome: conflict.outcome,
    runId: context.runId,
    ...(conflict.outcome !== 'parked' && {
      resolution: {
        take: conflict.outcome,
        value: conflict.outcome === 'a' ? conflict.a : conflict.b,
        by: 'policy',
        at,
      } satisfies ConflictResolution,
    }),
  }));
  const close = known.resolved.flatMap((conflict) =>
    conflict.resolution === null ? [] : [{ id: conflict.id, resolution: conflict.resolution }],
  );
  const notices = conflicts
    .filter((conflict) => !alreadyOpen(known.open, conflict))
    .map((conflict) => notice(flow, sides, conflict));
  return { commit: { add, close }, notices };
}

function alreadyOpen(open: readonly ConflictRecord[], conflict: MergeConflict): boolean {
  return open.some(
    (record) =>
      record.field === conflict.field &&
      record.item === (conflict.item ?? null) &&
      record.attribute === (conflict.attribute ?? null) &&
      same(record.a, conflict.a) &&
      same(record.b, conflict.b),
  );
}

function same(left: JsonValue, right: JsonValue): boolean {
  return JSON.stringify(left) === JSON.stringify(right);
}

function notice(flow: string, sides: Sides, conflict: MergeConflict): string {
  const where = [conflict.field, conflict.item, conflict.attribute]
    .filter((part) => part !== undefined)
    .join(' / ');
  const values = `${recordKey(sides.a.ref)} has ${JSON.stringify(conflict.a)}, ${recordKey(sides.b.ref)} has ${JSON.stringify(conflict.b)}`;
  const outcome =
    conflict.outcome === 'parked'
      ? 'parked for you to decide: `crmsync sync conflicts list`'
      : `kept side ${conflict.outcome}'s value (policy ${conflict.policy.kind})`;
  return `crmsync: flow **${flow}**: both sides changed **${where}** (${values}); ${outcome}.`;
}
