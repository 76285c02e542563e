/**
 * The retention task: deletes finished jobs and dedup keys, old runs, closed conflicts and write-ledger
 * entries after their configured days, and expired locks and connector state (which read as absent anyway), so that no table
 * only grows. Every prune deletes in bounded batches with a turn of the event loop between them (see the
 * ports), so the serving process that happens to run the tick keeps answering webhooks meanwhile.
 */
import type { Backend } from '../ports/backend.ts';
import type { Clock } from '../ports/clock.ts';
import type { ScheduledTask } from './scheduler.ts';

const DAY_MS = 86_400_000;

/** How long finished work is kept, in days (the `retention` section of the config). */
export interface RetentionPolicy {
  readonly jobsDays: number;
  readonly runsDays: number;
  readonly ledgerDays: number;
}

/** Rows one retention tick deleted, per table. */
export interface RetentionResult {
  readonly jobs: number;
  readonly runs: number;
  /** Closed conflicts of the inbox (kept as long as runs: they explain what the runs of that time did). */
  readonly conflicts: number;
  readonly ledger: number;
  readonly locks: number;
  readonly connectorState: number;
}

/**
 * Prunes once, table after table; stops between tables when `signal` aborts (the schedule's lock was lost,
 * so another instance may be pruning by now).
 */
export async function pruneExpired(
  backend: Pick<Backend, 'queue' | 'store' | 'locks'>,
  policy: RetentionPolicy,
  now: number,
  signal?: AbortSignal,
): Promise<RetentionResult> {
  const step = async (prune: () => Promise<number>) => {
    signal?.throwIfAborted();
    return prune();
  };
  return {
    jobs: await step(() => backend.queue.prune(now - policy.jobsDays * DAY_MS)),
    runs: await step(() => backend.store.runs.prune(now - policy.runsDays * DAY_MS)),
    conflicts: await step(() => backend.store.conflicts.prune(now - policy.runsDays * DAY_MS)),
    ledger: await step(() => backend.store.ledger.prune(now - policy.ledgerDays * DAY_MS)),
    locks: await step(() => backend.locks.prune()),
    connectorState: await step(() => backend.store.connectorState.prune()),
  };
}

/** {@link pruneExpired} as a scheduled task that logs what it deleted. */
export function retentionTask(
  backend: Pick<Backend, 'queue' | 'store' | 'locks'>,
  policy: RetentionPolicy,
  clock: Clock,
): ScheduledTask {
  return async ({ signal, logger }) => {
    const pruned = await pruneExpired(backend, policy, clock.now(), signal);
    logger.info(
      { ...pruned },
      'retention: pruned old jobs, runs, closed conflicts, ledger entries, locks and connector state',
    );
  };
}
