/**
 * JobAttempts on SQLite: the queue, the run history, the links, the conflict inbox, the ledger and the lock
 * fences share one file, so each step is one transaction and one commit (one fsync in `power` durability):
 * `begin` leases the job and inserts its run, `end` checks the fence, saves the link, adds and closes
 * conflicts, confirms and consumes ledger entries, records the run's outcome and settles the job.
 */
import { CrmsyncError, LeaseLostError, StorageError } from '../../core/errors.ts';
import { parseJobRecordKey } from '../../core/types.ts';
import type {
  AttemptEnd,
  AttemptEndResult,
  BegunAttempt,
  JobAttempts,
  JobSettlement,
} from '../../ports/backend.ts';
import type { Clock } from '../../ports/clock.ts';
import type { DequeueRequest } from '../../ports/queue.ts';
import type { OutcomeCommit, RunFinish } from '../../ports/store.ts';
import type { SqliteConflictRepository } from './conflicts.ts';
import type { SqliteDatabase } from './database.ts';
import type { SqliteWriteLedger } from './ledger.ts';
import type { SqliteLinkRepository } from './links.ts';
import type { SqliteLocks } from './locks.ts';
import type { SqliteQueue } from './queue.ts';
import type { SqliteRunRepository } from './runs.ts';

/** JobAttempts over the SQLite queue and run history of one database. */
export class SqliteJobAttempts implements JobAttempts {
  readonly #db: SqliteDatabase;
  readonly #queue: SqliteQueue;
  readonly #runs: SqliteRunRepository;
  readonly #links: SqliteLinkRepository;
  readonly #conflicts: SqliteConflictRepository;
  readonly #ledger: SqliteWriteLedger;
  readonly #locks: SqliteLocks;
  readonly #clock: Clock;

  constructor(options: {
    database: SqliteDatabase;
    queue: SqliteQueue;
    runs: SqliteRunRepository;
    links: SqliteLinkRepository;
    conflicts: SqliteConflictRepository;
    ledger: SqliteWriteLedger;
    locks: SqliteLocks;
    clock: Clock;
  }) {
    this.#db = options.database;
    this.#queue = options.queue;
    this.#runs = options.runs;
    this.#links = options.links;
    this.#conflicts = options.conflicts;
    this.#ledger = options.ledger;
    this.#locks = options.locks;
    this.#clock = options.clock;
  }

  begin(request: DequeueRequest): Promise<BegunAttempt | null> {
    return this.#db.transaction(() => {
      const job = this.#queue.dequeueSync(request);
      if (job === null) return null;
      const key = parseJobRecordKey(job.recordKey);
      if (key === null) return { job, run: null };
      const startedAt = this.#clock.now();
      const id = this.#runs.startSync({
        jobId: job.id,
        flow: job.flow,
        ref: key.ref,
        attempt: job.attempts,
        startedAt,
      });
      return { job, run: { id, startedAt } };
    });
  }

  end(end: AttemptEnd): Promise<AttemptEndResult> {
    return this.#db.transaction(() => {
      // The commit runs under a savepoint: a refused commit, or a lease found lost only when settling,
      // rolls back the commit alone, and the run and the job are then recorded as they must be instead.
      this.#db.exec('SAVEPOINT outcome_commit');
      try {
        const refusal = end.commit === undefined ? null : this.#tryCommit(end.commit, end.runId);
        if (refusal !== null) this.#db.exec('ROLLBACK TO outcome_commit');
        const run = refusal === null ? end.run : failedRun(end.run, refusal);
        const settlement: JobSettlement =
          refusal === null
            ? end.job
            : { kind: 'fail', failure: { error: errorOf(refusal), retryable: refusal.retryable } };
        if (this.#settle(end.jobId, end.leaseToken, settlement)) {
          this.#runs.finishSync(end.runId, run);
          return refusal === null ? 'settled' : 'refused';
        }
        this.#db.exec('ROLLBACK TO outcome_commit');
        this.#runs.finishSync(end.runId, failedRun(end.run, new LeaseLostError(end.jobId)));
        return 'lease-lost';
      } finally {
        this.#db.exec('RELEASE outcome_commit');
      }
    });
  }

  /**
   * Applies the commit: fence first (a fenced-out holder changes nothing), then link, conflicts (which may
   * name the link just saved) and ledger. Returns the typed error that refused it (the caller rolls back),
   * or null; driver failures propagate.
   */
  #tryCommit(commit: OutcomeCommit, runId: string): CrmsyncError | null {
    try {
      const now = this.#clock.now();
      if (commit.fence !== undefined) this.#locks.checkFenceSync(commit.fence.key, commit.fence.fence);
      const link = commit.link === undefined ? null : this.#links.saveSync(commit.link);
      if (commit.conflicts !== undefined) {
        this.#conflicts.commitSync(commit.conflicts, { linkId: link?.id ?? null, runId, now });
      }
      const supersede = link === null || commit.keepLedgerOpen === true ? [] : [link.a.ref, link.b.ref];
      const ledger = { confirm: commit.confirm ?? [], consume: commit.consume ?? [], supersede };
      this.#ledger.settleSync(ledger, now);
      return null;
    } catch (error) {
      if (error instanceof CrmsyncError && !(error instanceof StorageError)) return error;
      throw error;
    }
  }

  /** Settles the job; false when the lease was lost (nothing changed). */
  #settle(jobId: string, leaseToken: string, settlement: JobSettlement): boolean {
    switch (settlement.kind) {
      case 'complete':
        return this.#queue.completeSync(jobId, leaseToken, settlement.state);
      case 'fail':
        return this.#queue.failSync(jobId, leaseToken, settlement.failure) !== null;
      case 'release':
        return this.#queue.releaseSync(jobId, leaseToken, settlement.delayMs ?? 0);
    }
  }
}

/** The run as FAILED with `error` instead of what the handler reported. */
function failedRun(run: RunFinish, error: CrmsyncError): RunFinish {
  return { ...run, outcome: 'FAILED', reason: null, error: errorOf(error) };
}

function errorOf(error: CrmsyncError): { code: string; message: string } {
  return { code: error.code, message: error.message };
}
