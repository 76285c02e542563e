/**
 * JobAttempts on SQLite: the queue and the run history share one file, so each step is one transaction and
 * one commit (one fsync in `power` durability): `begin` leases the job and inserts its run, `end` records the
 * run's outcome and settles the job.
 */
import { LeaseLostError } from '../../core/errors.ts';
import { parseJobRecordKey } from '../../core/types.ts';
import type { AttemptEnd, BegunAttempt, JobAttempts, JobSettlement } from '../../ports/backend.ts';
import type { Clock } from '../../ports/clock.ts';
import type { DequeueRequest } from '../../ports/queue.ts';
import type { SqliteDatabase } from './database.ts';
import type { SqliteQueue } from './queue.ts';
import type { SqliteRunRepository } from './runs.ts';

/** JobAttempts over the SQLite queue and run history of one database. */
export class SqliteJobAttempts implements JobAttempts {
  readonly #db: SqliteDatabase;
  readonly #queue: SqliteQueue;
  readonly #runs: SqliteRunRepository;
  readonly #clock: Clock;

  constructor(options: {
    database: SqliteDatabase;
    queue: SqliteQueue;
    runs: SqliteRunRepository;
    clock: Clock;
  }) {
    this.#db = options.database;
    this.#queue = options.queue;
    this.#runs = options.runs;
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

  end(end: AttemptEnd): Promise<'settled' | 'lease-lost'> {
    return this.#db.transaction(() => {
      if (this.#settle(end.jobId, end.leaseToken, end.job)) {
        this.#runs.finishSync(end.runId, end.run);
        return 'settled';
      }
      const { code, message } = new LeaseLostError(end.jobId);
      this.#runs.finishSync(end.runId, {
        ...end.run,
        outcome: 'FAILED',
        reason: null,
        error: { code, message },
      });
      return 'lease-lost';
    });
  }

  /** Settles the job; false when the lease was lost (nothing changed). */
  #settle(jobId: string, leaseToken: string, settlement: JobSettlement): boolean {
    switch (settlement.kind) {
      case 'complete':
        return this.#queue.completeSync(jobId, leaseToken, settlement.state);
      case 'fail':
        return this.#queue.failSync(jobId, leaseToken, settlement.failure) !== null;
      case 'release':
        return this.#queue.releaseSync(jobId, leaseToken);
    }
  }
}
