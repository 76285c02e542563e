/**
 * The durable job queue on SQLite. The rules are those of the Queue port (src/ports/queue.ts); the partial
 * unique indexes of migration 1 make "one waiting and one processing job per record" a property of the
 * file, so even a bug here or a second process cannot break it silently.
 *
 * Every state change that reads before it writes runs in one BEGIN IMMEDIATE transaction, so several
 * processes can share the file: dequeue in particular never hands the same job to two workers.
 */
import { randomUUID } from 'node:crypto';
import { backoffDelay } from '../../core/backoff.ts';
import { InputError, LeaseLostError, NotFoundError } from '../../core/errors.ts';
import { losslessKey } from '../../core/lossless-key.ts';
import type { JsonValue } from '../../core/types.ts';
import type { Clock } from '../../ports/clock.ts';
import { JOB_STATES } from '../../ports/queue.ts';
import type {
  DequeueRequest,
  EnqueueResult,
  FailResult,
  Job,
  JobError,
  JobFailure,
  JobInput,
  JobQuery,
  JobState,
  LeasedJob,
  Queue,
  QueueSettings,
} from '../../ports/queue.ts';
import type { Row, SqliteDatabase } from './database.ts';
import { Filter, cursorOf, limitOf, parseJson, rowIdOf } from './values.ts';
import type { SqlQuery } from './values.ts';

/** A row of `jobs`. */
interface JobRow extends Row {
  id: number;
  flow: string;
  record_key: string;
  state: JobState;
  input_count: number;
  attempts: number;
  max_attempts: number;
  run_at: number;
  created_at: number;
  updated_at: number;
  last_error_code: string | null;
  last_error_message: string | null;
  lease_owner: string | null;
  lease_token: string | null;
  lease_until: number | null;
}

/** A job row with its payloads as one JSON array text (see JOB_COLUMNS). */
interface JobView extends JobRow {
  payloads: string;
}

/** The waiting job of a record, as enqueue and folding need it. */
interface WaitingRow extends Row {
  id: number;
  state: 'PENDING' | 'FAILED';
  run_at: number;
  input_count: number;
}

/** How a job returns to waiting (see {@link SqliteQueue#returnToWaiting}). */
interface Return {
  readonly state: 'PENDING' | 'FAILED';
  readonly runAt: number;
  readonly attempts: number;
  readonly lastError: JobError | null;
}

// The WHERE terms repeat those of the partial indexes in migrations.ts word for word, so SQLite can use them;
// the hot queries name their index (INDEXED BY) because without ANALYZE statistics the planner may prefer
// jobs_by_state and sort, and because a query that can no longer use its index then fails loudly.
const WAITING = `state IN ('PENDING', 'FAILED')`;
const PROCESSING = `state = 'PROCESSING'`;
/** The PROCESSING job of the record of the outer row `j`: a follow-up waits for its predecessor. */
const PROCESSING_OF_J = `SELECT 1 FROM jobs AS p INDEXED BY jobs_one_processing_per_record
                          WHERE p.record_key = j.record_key AND p.${PROCESSING}`;

/** Every column of a job plus its payloads, oldest first, concatenated into one JSON array text. */
const JOB_COLUMNS = `jobs.*, '[' || coalesce((SELECT group_concat(payload, ',' ORDER BY id) FROM job_payloads
                       WHERE job_id = jobs.id), '') || ']' AS payloads`;

const SQL = {
  dedupLookup: 'SELECT job_id FROM job_dedup_keys WHERE dedup_key = ?',
  dedupInsert: 'INSERT INTO job_dedup_keys (dedup_key, job_id, created_at) VALUES (?, ?, ?)',
  dedupRepoint: 'UPDATE job_dedup_keys SET job_id = ? WHERE job_id = ?',
  waitingOfRecord: `SELECT id, state, run_at, input_count FROM jobs INDEXED BY jobs_one_waiting_per_record
                    WHERE record_key = ? AND ${WAITING}`,
  processingOfRecord: `SELECT id FROM jobs INDEXED BY jobs_one_processing_per_record
                       WHERE record_key = ? AND ${PROCESSING}`,
  insert: `INSERT INTO jobs (flow, record_key, state, input_count, attempts, max_attempts, run_at, created_at,
             updated_at)
           VALUES (?, ?, 'PENDING', 1, 0, ?, ?, ?, ?)`,
  insertDead: `INSERT INTO jobs (flow, record_key, state, input_count, attempts, max_attempts, run_at, created_at,
                 updated_at, last_error_code, last_error_message)
               VALUES (?, ?, 'DEAD', 1, 0, ?, ?, ?, ?, ?, ?)`,
  coalesce: 'UPDATE jobs SET input_count = input_count + 1, run_at = ?, updated_at = ? WHERE id = ?',
  addPayload: 'INSERT INTO job_payloads (job_id, payload) VALUES (?, ?)',
  movePayloads: 'UPDATE job_payloads SET job_id = ? WHERE job_id = ?',
  // Keeps the newest ? payloads of the job: deletes those older than the ?-th newest.
  capPayloads: `DELETE FROM job_payloads WHERE job_id = ?1 AND id < (SELECT id FROM job_payloads WHERE job_id = ?1
                  ORDER BY id DESC LIMIT 1 OFFSET ?2 - 1)`,
  byId: `SELECT ${JOB_COLUMNS} FROM jobs WHERE id = ?`,
  leased: `SELECT * FROM jobs WHERE id = ? AND lease_token = ? AND ${PROCESSING}`,
  expiredLeases: `SELECT * FROM jobs INDEXED BY jobs_leases WHERE ${PROCESSING} AND lease_until <= ?`,
  // The waiting job that became due first and whose record is not being processed.
  nextDue: `SELECT id FROM jobs AS j INDEXED BY jobs_due WHERE ${WAITING} AND run_at <= ?
              AND NOT EXISTS (${PROCESSING_OF_J})
            ORDER BY run_at, id LIMIT 1`,
  nextDueOfFlows: `SELECT id FROM jobs AS j INDEXED BY jobs_due WHERE ${WAITING} AND run_at <= ?
              AND flow IN (SELECT value FROM json_each(?))
              AND NOT EXISTS (${PROCESSING_OF_J})
            ORDER BY run_at, id LIMIT 1`,
  lease: `UPDATE jobs SET state = 'PROCESSING', attempts = attempts + 1, lease_owner = ?, lease_token = ?,
            lease_until = ?, updated_at = ?
          WHERE id = ?`,
  heartbeat: `UPDATE jobs SET lease_until = ?, updated_at = ? WHERE id = ? AND lease_token = ? AND ${PROCESSING}`,
  finish: `UPDATE jobs SET state = ?, lease_owner = NULL, lease_token = NULL, lease_until = NULL, updated_at = ?
           WHERE id = ? AND lease_token = ? AND ${PROCESSING}`,
  dead: `UPDATE jobs SET state = 'DEAD', last_error_code = ?, last_error_message = ?, lease_owner = NULL,
           lease_token = NULL, lease_until = NULL, updated_at = ?
         WHERE id = ?`,
  toWaiting: `UPDATE jobs SET state = ?, run_at = ?, attempts = ?, input_count = ?,
                last_error_code = ?, last_error_message = ?, lease_owner = NULL, lease_token = NULL,
                lease_until = NULL, updated_at = ?
              WHERE id = ?`,
  deleteJob: 'DELETE FROM jobs WHERE id = ?',
  counts: 'SELECT state, count FROM job_counts',
  // One batch each (see SqliteDatabase.deleteInBatches); payloads go with their job (ON DELETE CASCADE).
  pruneJobs: `DELETE FROM jobs WHERE id IN (SELECT id FROM jobs INDEXED BY jobs_by_state
                WHERE state IN ('COMPLETED', 'SKIPPED') AND updated_at < ? LIMIT ?)`,
  pruneDedupKeys: `DELETE FROM job_dedup_keys WHERE dedup_key IN (SELECT dedup_key FROM job_dedup_keys
                     WHERE created_at < ? LIMIT ?)`,
} as const;

/** Dependencies of {@link SqliteQueue}. */
export interface SqliteQueueOptions {
  readonly database: SqliteDatabase;
  readonly clock: Clock;
  readonly settings: QueueSettings;
  /** Jitter source for the backoff, [0, 1). */
  readonly random: () => number;
  /**
   * Called inside the recovery's transaction for every job whose lease expired, with the error the job now
   * carries: the backend ends the dead attempt's run there, atomically with the recovery.
   */
  readonly onLeaseExpired?: (jobId: string, error: JobError, now: number) => void;
}

/**
 * Queue port on SQLite. Calls with the lease token of a job that is still PROCESSING under that token are
 * accepted even after `leaseUntil` has passed, as long as no dequeue has recovered the job yet: the work was
 * done, and the token is only stale once the job was handed out again (or ended).
 */
export class SqliteQueue implements Queue {
  readonly #db: SqliteDatabase;
  readonly #clock: Clock;
  readonly #settings: QueueSettings;
  readonly #random: () => number;
  readonly #onLeaseExpired: SqliteQueueOptions['onLeaseExpired'];

  constructor(options: SqliteQueueOptions) {
    this.#db = options.database;
    this.#clock = options.clock;
    this.#settings = options.settings;
    this.#random = options.random;
    this.#onLeaseExpired = options.onLeaseExpired;
  }

  async enqueue(input: JobInput): Promise<EnqueueResult> {
    const [result] = await this.enqueueMany([input]);
    return result!;
  }

  async enqueueMany(inputs: readonly JobInput[]): Promise<EnqueueResult[]> {
    if (inputs.length === 0) return [];
    // Validated and serialised before the transaction: a bad input fails alone, and nothing slow or deep
    // runs while the write lock is held.
    const prepared = inputs.map(prepareInput);
    return this.#db.transaction(() => {
      const now = this.#clock.now();
      return prepared.map((input) => this.#enqueueOne(input, now));
    });
  }

  dequeue(request: DequeueRequest): Promise<LeasedJob | null> {
    if (request.flows?.length === 0) return Promise.resolve(null);
    return this.#db.transaction(() => this.dequeueSync(request));
  }

  /**
   * {@link dequeue} inside the caller's transaction (the `*Sync` methods are for SqliteJobAttempts, which
   * combines them with the run history in one commit).
   */
  dequeueSync(request: DequeueRequest): LeasedJob | null {
    if (request.flows?.length === 0) return null;
    requirePositiveInteger(request.leaseMs, 'leaseMs');
    const now = this.#clock.now();
    this.#recoverExpiredLeases(now);
    const next =
      request.flows === undefined
        ? this.#db.get<{ id: number }>(SQL.nextDue, now)
        : this.#db.get<{ id: number }>(SQL.nextDueOfFlows, now, JSON.stringify(request.flows));
    if (next === undefined) return null;
    const token = randomUUID();
    this.#db.run(SQL.lease, request.workerId, token, now + request.leaseMs, now, next.id);
    return { ...toJob(this.#db.get<JobView>(SQL.byId, next.id)!), leaseToken: token };
  }

  heartbeat(jobId: string, leaseToken: string, leaseMs: number): Promise<void> {
    return this.#db.autocommit(() => {
      requirePositiveInteger(leaseMs, 'leaseMs');
      const now = this.#clock.now();
      const { changes } = this.#db.run(SQL.heartbeat, now + leaseMs, now, rowIdOf(jobId), leaseToken);
      if (changes === 0) throw new LeaseLostError(jobId);
    });
  }

  complete(jobId: string, leaseToken: string, state: 'COMPLETED' | 'SKIPPED'): Promise<void> {
    return this.#db.autocommit(() => {
      if (!this.completeSync(jobId, leaseToken, state)) throw new LeaseLostError(jobId);
    });
  }

  /** {@link complete} inside the caller's transaction; false (nothing changed) when the lease was lost. */
  completeSync(jobId: string, leaseToken: string, state: 'COMPLETED' | 'SKIPPED'): boolean {
    if (state !== 'COMPLETED' && state !== 'SKIPPED') {
      throw new InputError(
        'JOB_STATE_INVALID',
        `A job completes as COMPLETED or SKIPPED, not ${String(state)}.`,
      );
    }
    const { changes } = this.#db.run(SQL.finish, state, this.#clock.now(), rowIdOf(jobId), leaseToken);
    return changes > 0;
  }

  fail(jobId: string, leaseToken: string, failure: JobFailure): Promise<FailResult> {
    return this.#db.transaction(() => {
      const result = this.failSync(jobId, leaseToken, failure);
      if (result === null) throw new LeaseLostError(jobId);
      return result;
    });
  }

  /** {@link fail} inside the caller's transaction; null (nothing changed) when the lease was lost. */
  failSync(jobId: string, leaseToken: string, failure: JobFailure): FailResult | null {
    const row = this.#leased(jobId, leaseToken);
    if (row === undefined) return null;
    const now = this.#clock.now();
    if (!failure.retryable || row.attempts >= row.max_attempts) {
      this.#db.run(SQL.dead, failure.error.code, failure.error.message, now, row.id);
      return { state: 'DEAD', runAt: null };
    }
    const runAt = now + (failure.retryAfterMs ?? this.#backoff(row.attempts));
    this.#returnToWaiting(
      row,
      { state: 'FAILED', runAt, attempts: row.attempts, lastError: failure.error },
      now,
    );
    return { state: 'FAILED', runAt };
  }

  release(jobId: string, leaseToken: string): Promise<void> {
    return this.#db.transaction(() => {
      if (!this.releaseSync(jobId, leaseToken)) throw new LeaseLostError(jobId);
    });
  }

  /** {@link release} inside the caller's transaction; false (nothing changed) when the lease was lost. */
  releaseSync(jobId: string, leaseToken: string, delayMs = 0): boolean {
    const row = this.#leased(jobId, leaseToken);
    if (row === undefined) return false;
    const now = this.#clock.now();
    const attempts = Math.max(0, row.attempts - 1);
    const runAt = now + Math.max(0, delayMs);
    this.#returnToWaiting(row, { state: 'PENDING', runAt, attempts, lastError: errorOf(row) }, now);
    return true;
  }

  replay(jobId: string): Promise<Job> {
    return this.#db.transaction(() => {
      const row = this.#row(jobId);
      if (row === undefined) {
        throw new NotFoundError('JOB_NOT_FOUND', `Job ${jobId} does not exist (it may have been pruned).`);
      }
      if (row.state !== 'DEAD') {
        throw new InputError(
          'JOB_NOT_DEAD',
          `Job ${jobId} is ${row.state}; only DEAD jobs can be replayed.`,
          409,
        );
      }
      // lastError stays visible until the next run ends, so operators still see why it died.
      const now = this.#clock.now();
      this.#returnToWaiting(row, { state: 'PENDING', runAt: now, attempts: 0, lastError: errorOf(row) }, now);
      return toJob(this.#row(jobId)!);
    });
  }

  get(jobId: string): Promise<Job | null> {
    return this.#db.autocommit(() => {
      const row = this.#row(jobId);
      return row === undefined ? null : toJob(row);
    });
  }

  list(query: JobQuery = {}): Promise<Job[]> {
    return this.#db.autocommit(() => {
      const { sql, params } = listJobsQuery(query);
      return this.#db.all<JobView>(sql, ...params).map(toJob);
    });
  }

  /** Reads the per-state counts that migration 4's triggers keep exact: six rows, however long the queue. */
  counts(): Promise<Record<JobState, number>> {
    return this.#db.autocommit(() => {
      const counts = Object.fromEntries(JOB_STATES.map((state) => [state, 0])) as Record<JobState, number>;
      for (const row of this.#db.all<{ state: JobState; count: number }>(SQL.counts))
        counts[row.state] = row.count;
      return counts;
    });
  }

  async prune(olderThan: number): Promise<number> {
    const jobs = await this.#db.deleteInBatches(SQL.pruneJobs, olderThan);
    await this.#db.deleteInBatches(SQL.pruneDedupKeys, olderThan);
    return jobs;
  }

  #enqueueOne(input: PreparedInput, now: number): EnqueueResult {
    if (input.dedupKey !== undefined) {
      const seen = this.#db.get<{ job_id: number }>(SQL.dedupLookup, input.dedupKey);
      if (seen !== undefined) return { status: 'duplicate', jobId: String(seen.job_id) };
    }
    const runAt = input.runAt ?? now;
    const maxAttempts = input.maxAttempts ?? this.#settings.maxAttempts;
    // A dead letter is stored as it is: it never coalesces with the record's waiting job.
    const waiting =
      input.dead === undefined ? this.#db.get<WaitingRow>(SQL.waitingOfRecord, input.recordKey) : undefined;
    let jobId: number;
    let status: EnqueueResult['status'];
    if (input.dead !== undefined) {
      status = 'dead';
      const { code, message } = input.dead;
      jobId = this.#db.run(
        SQL.insertDead,
        input.flow,
        input.recordKey,
        maxAttempts,
        runAt,
        now,
        now,
        code,
        message,
      ).lastInsertRowid;
      this.#db.run(SQL.addPayload, jobId, input.payloadJson);
    } else if (waiting !== undefined) {
      jobId = waiting.id;
      status = 'coalesced';
      // A FAILED job keeps its backoff: a new event must not turn a retry into a hammering of the vendor.
      const dueAt = waiting.state === 'PENDING' ? Math.min(waiting.run_at, runAt) : waiting.run_at;
      this.#db.run(SQL.coalesce, dueAt, now, jobId);
      this.#db.run(SQL.addPayload, jobId, input.payloadJson);
      this.#capPayloads(jobId, waiting.input_count + 1);
    } else {
      const processing = this.#db.get(SQL.processingOfRecord, input.recordKey);
      status = processing === undefined ? 'enqueued' : 'followup';
      jobId = this.#db.run(
        SQL.insert,
        input.flow,
        input.recordKey,
        maxAttempts,
        runAt,
        now,
        now,
      ).lastInsertRowid;
      this.#db.run(SQL.addPayload, jobId, input.payloadJson);
    }
    if (input.dedupKey !== undefined) this.#db.run(SQL.dedupInsert, input.dedupKey, jobId, now);
    return { status, jobId: String(jobId) };
  }

  /**
   * A PROCESSING job whose worker stopped heartbeating: the attempt is lost but counts, so a job that kills
   * its worker every time still ends DEAD instead of looping forever.
   */
  #recoverExpiredLeases(now: number): void {
    for (const row of this.#db.all<JobRow>(SQL.expiredLeases, now)) {
      const error: JobError = {
        code: 'QUEUE_LEASE_EXPIRED',
        message: `Worker ${row.lease_owner ?? '?'} stopped heartbeating; its lease ended at ${new Date(row.lease_until ?? now).toISOString()}.`,
      };
      if (row.attempts >= row.max_attempts) {
        this.#db.run(SQL.dead, error.code, error.message, now, row.id);
      } else {
        const runAt = now + this.#backoff(row.attempts);
        this.#returnToWaiting(row, { state: 'FAILED', runAt, attempts: row.attempts, lastError: error }, now);
      }
      this.#onLeaseExpired?.(String(row.id), error, now);
    }
  }

  /**
   * Moves `row` back to waiting. If its record already has a waiting job (a follow-up, or new events after
   * the job died), `row` absorbs it: payloads concatenated oldest first, input counts summed, dedup keys
   * re-pointed, the other job deleted. The returning job keeps its own runAt and attempts.
   */
  #returnToWaiting(row: JobRow, target: Return, now: number): void {
    let inputCount = row.input_count;
    const sibling = this.#db.get<WaitingRow>(SQL.waitingOfRecord, row.record_key);
    if (sibling !== undefined) {
      inputCount += sibling.input_count;
      // The sibling's payloads arrived after all of this job's, so their row ids already sort after them.
      this.#db.run(SQL.movePayloads, row.id, sibling.id);
      this.#db.run(SQL.dedupRepoint, row.id, sibling.id);
      this.#db.run(SQL.deleteJob, sibling.id);
      this.#capPayloads(row.id, inputCount);
    }
    this.#db.run(
      SQL.toWaiting,
      target.state,
      target.runAt,
      target.attempts,
      inputCount,
      target.lastError?.code ?? null,
      target.lastError?.message ?? null,
      now,
      row.id,
    );
  }

  /** The job if `leaseToken` still holds it. Call inside a transaction. */
  #leased(jobId: string, leaseToken: string): JobRow | undefined {
    return this.#db.get<JobRow>(SQL.leased, rowIdOf(jobId), leaseToken);
  }

  #row(jobId: string): JobView | undefined {
    const rowId = rowIdOf(jobId);
    return rowId === null ? undefined : this.#db.get<JobView>(SQL.byId, rowId);
  }

  #backoff(attempts: number): number {
    return backoffDelay(attempts, this.#settings.backoff, this.#random);
  }

  /**
   * Keeps the newest maxPayloadsPerJob payloads of a job; `inputCount` goes on counting what was dropped.
   * A job never holds more payloads than inputs, so below the cap there is nothing to look at.
   */
  #capPayloads(jobId: number, inputCount: number): void {
    const max = this.#settings.maxPayloadsPerJob;
    if (inputCount > max) this.#db.run(SQL.capPayloads, jobId, max);
  }
}

/**
 * The SELECT of {@link SqliteQueue.list}, newest first. A state filter walks jobs_by_state_id (state, id)
 * once per state, merged in id order; the flow and record filters have their (flow, id) and (record, id)
 * indexes.
 */
function listJobsQuery(query: JobQuery): SqlQuery {
  return new Filter()
    .whenAny(query.states, 'state = ?')
    .when(query.flow, 'flow = ?', (flow) => [flow])
    .when(query.recordKey, 'record_key = ?', (recordKey) => [recordKey])
    .when(query.beforeId, 'id < ?', (beforeId) => [cursorOf(beforeId, 'beforeId')])
    .select(JOB_COLUMNS, 'jobs', 'id DESC', limitOf(query.limit, 50));
}

/** A validated input with its payload serialised once. */
interface PreparedInput extends JobInput {
  readonly payloadJson: string;
}

function prepareInput(input: JobInput): PreparedInput {
  requireText(input.flow, 'flow');
  requireText(input.recordKey, 'recordKey');
  if (input.dedupKey !== undefined) requireText(input.dedupKey, 'dedupKey');
  if (input.runAt !== undefined && !Number.isFinite(input.runAt)) {
    throw new InputError(
      'JOB_INPUT_INVALID',
      `runAt must be a time in epoch milliseconds, got ${input.runAt}.`,
    );
  }
  if (input.maxAttempts !== undefined) requirePositiveInteger(input.maxAttempts, 'maxAttempts');
  if (input.dead !== undefined) requireText(input.dead.code, 'dead.code');
  let payloadJson: string | undefined;
  try {
    payloadJson = JSON.stringify(input.payload);
  } catch {
    // A cycle, or nesting deep enough to overflow the stack (a RangeError).
  }
  if (payloadJson === undefined) {
    throw new InputError(
      'JOB_INPUT_INVALID',
      `The payload of the job for ${input.recordKey} is not JSON, or nests too deeply to store.`,
    );
  }
  // SQLite stores text as UTF-8, which would merge keys that differ only in a lone surrogate.
  const dedupKey = input.dedupKey === undefined ? undefined : losslessKey(input.dedupKey);
  return { ...input, dedupKey, payloadJson };
}

function requireText(value: unknown, name: string): void {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InputError('JOB_INPUT_INVALID', `${name} must be a non-empty string.`);
  }
}

function requirePositiveInteger(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new InputError('JOB_INPUT_INVALID', `${name} must be a positive integer, got ${value}.`);
  }
}

function errorOf(row: JobRow): JobError | null {
  return row.last_error_code === null
    ? null
    : { code: row.last_error_code, message: row.last_error_message ?? '' };
}

function toJob(row: JobView): Job {
  return {
    id: String(row.id),
    flow: row.flow,
    recordKey: row.record_key,
    state: row.state,
    payloads: parseJson<JsonValue[]>(row.payloads),
    inputCount: row.input_count,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    runAt: row.run_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastError: errorOf(row),
    leaseOwner: row.lease_owner,
    leaseUntil: row.lease_until,
  };
}
