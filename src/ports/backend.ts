import type { Locks } from './locks.ts';
import type { DequeueRequest, JobFailure, LeasedJob, Queue } from './queue.ts';
import type { OutcomeCommit, RunFinish, Store } from './store.ts';

/**
 * One storage backend: the store, the queue and the locks it serves. SQLite serves all three from one file;
 * a scale-out deployment may combine PostgreSQL (store) with Redis (queue, locks).
 */
export interface Backend {
  readonly store: Store;
  readonly queue: Queue;
  readonly locks: Locks;
  /** The job lifecycle steps that change the queue and the run history together. */
  readonly attempts: JobAttempts;
  /** Closes connections and files. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * The two steps of an attempt that touch both the queue and the run history, each one durable operation:
 * `begin` (lease the job and start its run) and `end` (record the run's outcome and settle the job). A job
 * thus costs two commits, not four, and a crash between the steps loses nothing the four separate steps
 * kept: a begun attempt whose worker dies is recovered by the lease (which also ends its run), an ended one
 * is done.
 *
 * The port takes no transaction object, so the queue and the store may be different systems. A backend that
 * serves both from one database (SQLite, PostgreSQL) makes each step one transaction. A split backend (e.g. a
 * Redis queue and a PostgreSQL store) composes the steps from `Queue` and `RunRepository` in the order that
 * keeps their guarantees: `begin` leases first and starts the run second (a crash in between leaves a lease
 * that expires and counts the attempt, with no run to end); `end` records the run first and settles the job
 * second (a crash in between re-runs a finished run's job, which handlers tolerate: they are idempotent).
 * Its queue reports the jobs whose expired leases it recovered, and the open runs of those jobs are ended
 * then (at least once), since the run store cannot join the queue's transaction.
 *
 * An `end` that carries an {@link OutcomeCommit} commits it with the run's outcome. One database does the
 * fence check, the link, the ledger changes, the run and the settlement in one transaction. A split backend
 * does everything but the settlement in one transaction of its store (the fence counter lives there, see
 * `Locks.acquireFenced`), after checking the lease with a heartbeat, and settles the job second. A crash in
 * between re-runs a job whose outcome is already stored; the re-run reads both sides, merges against the
 * committed base snapshots, finds nothing to write and ends COMPLETED or SKIPPED. A lease lost between the
 * heartbeat and the store transaction cannot hurt the link: the fence and the revision guard it.
 */
export interface JobAttempts {
  /**
   * Leases the next due job exactly as {@link Queue.dequeue} does and records the start of its run (attempt =
   * the job's `attempts`, started now), or returns null when nothing is due. `run` is null when the job's
   * record key names no record ref: no run can be recorded, and the caller fails the job through the queue.
   */
  begin(request: DequeueRequest): Promise<BegunAttempt | null>;

  /**
   * Records the outcome of the attempt's run, commits `end.commit` and settles its job as `end.job` says,
   * in one operation. Returns:
   * - `settled`: all of it is stored.
   * - `refused`: the commit was refused with a typed error (stale fence, stale link revision, ledger entry
   *   no longer open, see {@link OutcomeCommit}; or a link that does not exist): none of it is stored;
   *   instead the run ended FAILED with that error and the job failed as for that error thrown by the
   *   handler (the stale errors are retryable: retry with backoff, or DEAD after the last attempt). Retrying is
   *   safe although the vendor write already happened: the retry reads the vendor's current values, its
   *   merge finds them equal on both sides and writes nothing, and commits the link it could not commit.
   * - `lease-lost`: the lease no longer holds: nothing of the commit is stored, the job is left to whoever
   *   owns it now, and the run is recorded only if nothing ended it yet (lease recovery does), as FAILED with
   *   `QUEUE_LEASE_LOST`.
   * A backend failure (StorageError) rejects, with nothing stored.
   */
  end(end: AttemptEnd): Promise<AttemptEndResult>;
}

/** What became of {@link JobAttempts.end}. */
export type AttemptEndResult = 'settled' | 'refused' | 'lease-lost';

/** A job leased by {@link JobAttempts.begin} and the run recorded for it. */
export interface BegunAttempt {
  readonly job: LeasedJob;
  readonly run: { readonly id: string; readonly startedAt: number } | null;
}

/** How {@link JobAttempts.end} settles the job: as `Queue.complete`, `Queue.fail` or `Queue.release` would. */
export type JobSettlement =
  | { readonly kind: 'complete'; readonly state: 'COMPLETED' | 'SKIPPED' }
  | { readonly kind: 'fail'; readonly failure: JobFailure }
  /** Back to PENDING without counting the attempt, due after `delayMs` (default now). */
  | { readonly kind: 'release'; readonly delayMs?: number };

/** Arguments of {@link JobAttempts.end}. */
export interface AttemptEnd {
  readonly jobId: string;
  readonly leaseToken: string;
  readonly runId: string;
  readonly run: RunFinish;
  readonly job: JobSettlement;
  /** What the store commits with the outcome (link, ledger), checked against the run's lock fence. */
  readonly commit?: OutcomeCommit;
}
