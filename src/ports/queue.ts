import type { JsonValue } from '../core/types.ts';
import type { BackoffPolicy } from '../core/backoff.ts';

/**
 * The durable job queue. One job is one unit of work for one record in one flow.
 *
 * Guarantees every adapter must give (the contract suite in test/contract checks them):
 * - **Durable**: once `enqueue`/`enqueueMany` resolves, the job survives a crash of this process.
 * - **Dedup**: an input whose `dedupKey` (the vendor's event id) was seen before is recognised and dropped
 *   (`duplicate`), for as long as the key is retained. Keys compare as exact UTF-16 strings, lone
 *   surrogates included (an adapter storing UTF-8 must escape them, see core/lossless-key.ts).
 * - **One active job per record key**: at most one job per `recordKey` is PROCESSING and at most one is
 *   waiting (PENDING or FAILED awaiting retry). An input for a record that already has a waiting job
 *   coalesces into it (`coalesced`): its payload is appended, nothing is dropped. An input for a record that
 *   is only PROCESSING creates exactly one waiting follow-up job (`followup`), which is not handed out before
 *   the processing one ends.
 * - **Leases**: `dequeue` hands a job out with a lease. A worker that dies stops heartbeating; once the lease
 *   has expired the job is handed out again (counting the lost attempt). Calls with a stale lease token fail
 *   with `LeaseLostError`.
 * - **Retries**: a failed attempt waits with exponential backoff and jitter; after `maxAttempts` attempts, or
 *   on a non-retryable error, the job is DEAD and stays until replayed.
 * - Whenever a job returns to waiting while its record already has a waiting job, the two are folded into
 *   the returning job (payloads concatenated, the other job removed), so the invariant above always holds.
 */
export interface Queue {
  /** Adds one input. See {@link EnqueueResult} for the possible outcomes. */
  enqueue(input: JobInput): Promise<EnqueueResult>;

  /**
   * Adds many inputs in one durable commit (group commit): either all are stored or the promise rejects and
   * none is. Results are in input order. Inputs may repeat record keys or dedup keys among themselves.
   */
  enqueueMany(inputs: readonly JobInput[]): Promise<EnqueueResult[]>;

  /**
   * Hands out the next due job (runAt <= now) whose record has no other job in PROCESSING, or null when none
   * is due. The job becomes PROCESSING with a fresh lease of `leaseMs`; its `attempts` is incremented.
   * Jobs whose lease has expired are recovered first (they return to waiting, or become DEAD when out of
   * attempts); a backend that also keeps the run history ends the dead attempt's open run in the same step
   * (see JobAttempts in backend.ts).
   */
  dequeue(request: DequeueRequest): Promise<LeasedJob | null>;

  /**
   * Extends a lease to `leaseMs` from now. Throws `LeaseLostError` if the lease was lost. A lease counts as
   * lost once it has expired, or once the job was handed to another worker; adapters may accept a token
   * whose lease expired but that nobody took over yet, so callers must not rely on either behaviour.
   */
  heartbeat(jobId: string, leaseToken: string, leaseMs: number): Promise<void>;

  /** Ends a job successfully (COMPLETED or SKIPPED). Throws `LeaseLostError` if the lease was lost. */
  complete(jobId: string, leaseToken: string, state: 'COMPLETED' | 'SKIPPED'): Promise<void>;

  /**
   * Records a failed attempt. Retryable failures with attempts left become FAILED with `runAt` after the
   * backoff (or after `failure.retryAfterMs` when given); the others become DEAD. Throws `LeaseLostError` if
   * the lease was lost.
   */
  fail(jobId: string, leaseToken: string, failure: JobFailure): Promise<FailResult>;

  /**
   * Gives a job back without counting the attempt (graceful shutdown): it becomes PENDING, due now, with
   * `attempts` back to its value before the dequeue. Throws `LeaseLostError` if the lease was lost.
   */
  release(jobId: string, leaseToken: string): Promise<void>;

  /** Moves a DEAD job back to PENDING with its attempts reset to 0. Throws NotFound / InputError otherwise. */
  replay(jobId: string): Promise<Job>;

  /** One job by id, or null. */
  get(jobId: string): Promise<Job | null>;

  /** Jobs, newest first, filtered and paged. */
  list(query?: JobQuery): Promise<Job[]>;

  /**
   * Number of jobs per state (every state present, zeros included). Cheap however long the queue is: it is
   * read at every metrics scrape.
   */
  counts(): Promise<Record<JobState, number>>;

  /**
   * Deletes finished jobs (COMPLETED, SKIPPED) and dedup keys older than `olderThan` (epoch ms), in bounded
   * batches (the serving process keeps serving meanwhile). DEAD jobs are kept until replayed or deleted by
   * an operator. Returns the number of jobs removed.
   */
  prune(olderThan: number): Promise<number>;
}

/**
 * Job states. PENDING -> PROCESSING -> COMPLETED | SKIPPED, or -> FAILED (waiting for a retry) -> PROCESSING
 * ... -> DEAD after the configured attempts.
 */
export type JobState = 'PENDING' | 'PROCESSING' | 'COMPLETED' | 'SKIPPED' | 'FAILED' | 'DEAD';

/** All job states, in lifecycle order. */
export const JOB_STATES: readonly JobState[] = [
  'PENDING',
  'PROCESSING',
  'COMPLETED',
  'SKIPPED',
  'FAILED',
  'DEAD',
];

/** States in which a job still has work to do and counts as the record's active job. */
export const WAITING_STATES: readonly JobState[] = ['PENDING', 'FAILED'];

/** What to enqueue. */
export interface JobInput {
  /** The flow that will handle the job (handler registry key). */
  readonly flow: string;
  /**
   * Key of the record the job is about, unique within the flow's work, e.g. `flowName|superoffice/Contact/42`.
   * Jobs with the same key never run concurrently and coalesce while waiting.
   */
  readonly recordKey: string;
  /** Key that recognises a redelivery of the same input (the vendor's event id, prefixed by connection). */
  readonly dedupKey?: string;
  /** The work item (usually a change event). Stored as JSON. */
  readonly payload: JsonValue;
  /** Earliest time to run (epoch ms); default now. A delayed job. */
  readonly runAt?: number;
  /** Overrides the queue's default number of attempts for this job. */
  readonly maxAttempts?: number;
  /**
   * Stores the job as DEAD at once with this error, never coalesced and not run until replayed: a dead letter
   * (a signed webhook whose content could not be taken). Dedup applies as for any input.
   */
  readonly dead?: JobError;
}

/** Outcome of one enqueue. */
export type EnqueueResult =
  /** A new waiting job was created. */
  | { readonly status: 'enqueued'; readonly jobId: string }
  /** The input was appended to the record's waiting job. */
  | { readonly status: 'coalesced'; readonly jobId: string }
  /** The record's job is PROCESSING; a follow-up waiting job was created for it. */
  | { readonly status: 'followup'; readonly jobId: string }
  /** The input had `dead` set and was stored as a DEAD job. */
  | { readonly status: 'dead'; readonly jobId: string }
  /** The dedup key was seen before; nothing was stored. `jobId` is the job that took the first delivery. */
  | { readonly status: 'duplicate'; readonly jobId: string };

/** Arguments of {@link Queue.dequeue}. */
export interface DequeueRequest {
  /** Identifies the worker (host:pid:n), stored with the lease for operators. */
  readonly workerId: string;
  /** Lease length in milliseconds; the worker must heartbeat before it runs out. */
  readonly leaseMs: number;
  /** Only hand out jobs of these flows (default: any). */
  readonly flows?: readonly string[];
}

/** A stored job. */
export interface Job {
  /** Opaque id, unique per queue. */
  readonly id: string;
  readonly flow: string;
  readonly recordKey: string;
  readonly state: JobState;
  /** Payloads of every input folded into this job, oldest first (capped; see `inputCount`). */
  readonly payloads: readonly JsonValue[];
  /** How many inputs were folded into this job in total (payloads may keep only the latest ones). */
  readonly inputCount: number;
  /** Attempts started so far. */
  readonly attempts: number;
  readonly maxAttempts: number;
  /** When the job is due (epoch ms). */
  readonly runAt: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** The error of the last failed attempt, if any. */
  readonly lastError: JobError | null;
  /** The worker holding the lease while PROCESSING. */
  readonly leaseOwner: string | null;
  /** When the lease ends while PROCESSING (epoch ms). */
  readonly leaseUntil: number | null;
}

/** A job handed out by {@link Queue.dequeue}, with the token that proves the lease. */
export interface LeasedJob extends Job {
  readonly leaseToken: string;
}

/** Error stored with a failed or dead job. */
export interface JobError {
  readonly code: string;
  readonly message: string;
}

/** Arguments of {@link Queue.fail}. */
export interface JobFailure {
  readonly error: JobError;
  /** False sends the job to DEAD at once. */
  readonly retryable: boolean;
  /** Wait before the retry, overriding the backoff (e.g. a vendor's Retry-After). */
  readonly retryAfterMs?: number;
}

/** Outcome of {@link Queue.fail}. */
export interface FailResult {
  readonly state: 'FAILED' | 'DEAD';
  /** When the retry is due (FAILED only). */
  readonly runAt: number | null;
}

/** Filters of {@link Queue.list}. */
export interface JobQuery {
  readonly states?: readonly JobState[];
  readonly flow?: string;
  readonly recordKey?: string;
  /** Maximum number of jobs (default 50). */
  readonly limit?: number;
  /** Only jobs older than this id (keyset paging, newest first). */
  readonly beforeId?: string;
}

/** Settings every queue adapter takes (from the `queue` section of the config). */
export interface QueueSettings {
  /** Attempts before a job is DEAD (default 5: the seeds' poison pill). */
  readonly maxAttempts: number;
  /** Spacing of retries. */
  readonly backoff: BackoffPolicy;
  /** How many payloads a coalesced job keeps (the oldest are dropped, `inputCount` keeps counting). */
  readonly maxPayloadsPerJob: number;
}
