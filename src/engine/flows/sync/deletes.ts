/**
 * Soft deletes of a sync flow (DESIGN lesson 4: every inferred delete is suspect). A run that finds one side's
 * record gone (a read answers "not found": after a vendor's delete webhook, the re-check's `deleted` hint, or
 * any other job) marks the link with the side and the time it was first seen gone, and writes nothing else.
 * A record that is back at a later run clears the mark (the merge's link save). Once the grace period has
 * passed, the next run flags the other side's record: the link's status becomes `deleted` (no more syncs),
 * the status side's error field says what happened, and an operator notice goes out. crmsync never deletes
 * a record itself; advoware's API cannot delete at all (DELETE answers 403, seed 004), so a Beteiligter whose
 * EspoCRM record was deleted stays in advoware, unlinked, for a person to archive.
 *
 * The sweep (a schedule per flow) queues a run for every link whose grace period ended, so a deletion is
 * flagged even when nothing else happens to the link.
 */
import { otherSide } from '../../../core/sync/record.ts';
import type { Side } from '../../../core/sync/record.ts';
import { recordKey } from '../../../core/types.ts';
import type { ChangeEvent } from '../../../core/types.ts';
import type { Clock } from '../../../ports/clock.ts';
import type { JobInput, Queue } from '../../../ports/queue.ts';
import type { LinkDeletion, LinkRepository, LinkWrite, OutcomeCommit } from '../../../ports/store.ts';
import type { HandlerResult, RunContext } from '../../handlers.ts';
import type { ScheduledTask } from '../../scheduler.ts';
import { enqueueJobs, syncJobFor } from './change-detection.ts';
import { noticeOnCommit } from './failure.ts';
import type { SyncOptions } from './options.ts';
import type { SyncPlan } from './plan.ts';
import type { SyncRunSettings } from './settings.ts';
import { writeTracked } from './write.ts';

/** What a run needs to handle a gone record. */
export interface DeletionContext {
  readonly fence: NonNullable<OutcomeCommit['fence']>;
  readonly context: RunContext;
  readonly events: readonly ChangeEvent[];
}

const MINUTE_MS = 60_000;

/** The run's result for a link with a gone record: mark it, wait out the grace period, or flag the other side. */
export async function planDeletion(
  settings: SyncRunSettings,
  plan: Extract<SyncPlan, { kind: 'gone' }>,
  { fence, context }: DeletionContext,
): Promise<HandlerResult> {
  const { link, side } = plan;
  if (link.status === 'deleted')
    return {
      outcome: 'SKIPPED',
      reason: `the link was flagged deleted (side ${side}'s record is gone)`,
      commit: { fence },
    };
  const now = context.clock.now();
  const deletion: LinkDeletion =
    link.deletion?.side === side ? link.deletion : { side, detectedAt: now, applied: null, appliedAt: null };
  const graceEnds = deletion.detectedAt + settings.options.deletes.graceMinutes * MINUTE_MS;
  const save = (changes: Partial<LinkWrite>): LinkWrite => ({
    id: link.id,
    expectedRevision: link.revision,
    flow: link.flow,
    a: link.a,
    b: link.b,
    status: link.status,
    retryCount: link.retryCount,
    lastError: link.lastError,
    lastSyncedAt: link.lastSyncedAt,
    deletion,
    ...changes,
  });
  if (now < graceEnds) {
    const marked = link.deletion?.side === side;
    return {
      outcome: 'SKIPPED',
      reason: `side ${side}'s record ${recordKey(link[side].ref)} is gone; the other side is flagged after ${new Date(graceEnds).toISOString()} unless it comes back`,
      commit: marked ? { fence } : { fence, link: save({ status: 'pending' }), keepLedgerOpen: true },
    };
  }
  const message = `The record ${recordKey(link[side].ref)} was deleted (gone since ${new Date(deletion.detectedAt).toISOString()}); crmsync no longer syncs ${recordKey(link[otherSide(side)].ref)} with it and deleted nothing.`;
  const confirm = await flagOtherSide(settings, plan, message, context);
  noticeOnCommit(settings, `crmsync: flow **${settings.flow}**: ${message}`, context);
  return {
    outcome: 'COMPLETED',
    reason: `flagged ${recordKey(link[otherSide(side)].ref)}: its partner is deleted`,
    commit: {
      fence,
      confirm,
      link: save({
        status: 'deleted',
        lastError: message,
        deletion: { ...deletion, applied: 'flagged', appliedAt: now },
      }),
    },
  };
}

/** Writes the deletion into the other side's status error field, when that side holds the status fields. */
async function flagOtherSide(
  settings: SyncRunSettings,
  plan: Extract<SyncPlan, { kind: 'gone' }>,
  message: string,
  context: RunContext,
) {
  const other: Side = otherSide(plan.side);
  const status = settings.options.status;
  const progress = { confirm: [] as { id: string; version: string | null }[] };
  const state = plan.sides[other];
  if (status?.side !== other || status.errorMessage === undefined || state.record === null)
    return progress.confirm;
  await writeTracked(settings, other, state, { [status.errorMessage]: message }, progress, context, {
    guarded: false,
  });
  return progress.confirm;
}

/** What the deletion sweep works with. */
export interface DeletionSweepDependencies {
  readonly flow: string;
  readonly links: Pick<LinkRepository, 'list'>;
  readonly queue: Pick<Queue, 'enqueueMany'>;
  readonly clock: Clock;
  readonly options: Pick<SyncOptions, 'deletes'>;
  /** Links per page (default 500). */
  readonly pageSize?: number;
}

/** The scheduled task that queues a run for every link whose deletion's grace period has ended. */
export function createDeletionSweep(deps: DeletionSweepDependencies): ScheduledTask {
  const pageSize = deps.pageSize ?? 500;
  return async ({ logger, signal }) => {
    const before = deps.clock.now() - deps.options.deletes.graceMinutes * MINUTE_MS;
    let afterId: string | undefined;
    let queued = 0;
    while (!signal.aborted) {
      const page = await deps.links.list({
        flow: deps.flow,
        deletionPendingBefore: before,
        limit: pageSize,
        ...(afterId !== undefined && { afterId }),
      });
      const inputs: JobInput[] = page.flatMap((link) =>
        link.deletion === null
          ? []
          : [
              syncJobFor(deps.flow, {
                ref: link[otherSide(link.deletion.side)].ref,
                kind: 'updated',
                source: 'deletes',
                seen: `${link.id}@${link.deletion.detectedAt}`,
              }),
            ],
      );
      queued += await enqueueJobs(deps.queue, inputs);
      if (page.length < pageSize) break;
      afterId = page.at(-1)!.id;
    }
    if (queued > 0) logger.info({ flow: deps.flow, queued }, 'deletes: queued runs to flag deleted records');
  };
}
