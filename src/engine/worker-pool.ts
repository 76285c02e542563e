/**
 * The worker pool: N independent loops that lease jobs from the queue and run them through the handler of
 * their flow, recording each attempt as a run. Per job two durable steps (JobAttempts): `begin` leases the
 * job and starts its run, the handler works, `end` records the run's outcome and settles the job (complete,
 * fail with retry or DEAD, or release). A heartbeat keeps the lease while the handler works; once the lease
 * is lost, or may have run out because heartbeats kept failing, the run is aborted and its result discarded,
 * because another worker may own the job by then.
 *
 * Shutdown is graceful: `stop()` takes no new jobs, lets in-flight jobs finish until a deadline, then aborts
 * and releases the rest so another instance picks them up without counting the attempt.
 */
import { constants as osConstants, hostname } from 'node:os';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import type { BackoffPolicy } from '../core/backoff.ts';
import { backoffDelay } from '../core/backoff.ts';
import { CrmsyncError, LeaseLostError, describeError } from '../core/errors.ts';
import type { FieldChange, RunOutcome } from '../core/types.ts';
import type { BegunAttempt, JobAttempts, JobSettlement } from '../ports/backend.ts';
import type { Clock } from '../ports/clock.ts';
import type { Logger } from '../ports/logger.ts';
import type { LeasedJob, Queue } from '../ports/queue.ts';
import type { ConflictInput, OutcomeCommit, RunFinish, Store } from '../ports/store.ts';
import type { HandlerRegistry, HandlerResult, OutcomeRecorded, RunContext, RunNames } from './handlers.ts';
import { withinRun } from './run-scope.ts';

/** One finished run, as reported to the {@link RunObserver}. */
export interface RunFinishedInfo {
  readonly flow: string;
  readonly outcome: RunOutcome;
  readonly durationMs: number;
}

/** Hook called after every run is recorded (the server's metrics implement it). Must not throw. */
export interface RunObserver {
  runFinished(info: RunFinishedInfo): void;
}

/** Options of {@link WorkerPool}. */
export interface WorkerPoolOptions {
  /** Heartbeats, and failing a job that names no record. */
  readonly queue: Queue;
  /** Begins and ends attempts: lease + run start, run outcome + settlement. */
  readonly attempts: JobAttempts;
  /** Run names and intents, and the run of an attempt whose lease is gone. */
  readonly store: Store;
  readonly handlers: Pick<HandlerRegistry, 'resolve'>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Number of independent loops, i.e. the most jobs this process runs at once. */
  readonly concurrency: number;
  /** Lease length per job; a worker that stops heartbeating loses its job after this long. */
  readonly leaseMs: number;
  /** Heartbeat interval; default leaseMs / 3, so two missed beats still keep the lease. */
  readonly heartbeatMs?: number;
  /**
   * How long before the lease could run out a run is aborted when no heartbeat has succeeded since (the
   * local deadline is the send time of the last good beat + leaseMs - this margin); default leaseMs / 5, at
   * most 5 s. The margin covers clock drift and the time the abort takes to reach the handler.
   */
  readonly leaseMarginMs?: number;
  /** How long an idle loop waits before polling again; {@link WorkerPool.wake} cuts the wait short. */
  readonly pollMs: number;
  /** Prefix of the worker ids stored with leases; default `host:pid`. Loop n is `${prefix}:${n}`. */
  readonly workerIdPrefix?: string;
  readonly observer?: RunObserver;
  /**
   * Only take jobs of these flows (default: any). A pool that serves one flow beside the server's own (the
   * `sync backfill` command) must leave the other flows' jobs to the server, whose registry knows them.
   */
  readonly flows?: readonly string[];
  /** Spacing of retries after the backend itself failed (queue or store down). */
  readonly backendRetry?: BackoffPolicy;
}

/** Options of {@link WorkerPool.stop}. */
export interface StopOptions {
  /** How long in-flight jobs may take to finish before they are aborted and released. */
  readonly deadlineMs: number;
}

/** The abort reason of runs stopped by a shutdown deadline; recorded as the error of their run. */
export class WorkerShutdownError extends CrmsyncError {
  constructor() {
    super(
      'WORKER_SHUTDOWN',
      'The worker shut down before the run finished; the job was released to run again.',
      {
        retryable: true,
      },
    );
  }
}

/**
 * The abort reason of runs whose heartbeats kept failing (e.g. "database is locked") until the local lease
 * deadline: the queue may hand the job to another worker any moment, so the run must stop writing now.
 */
export class LeaseExpiredError extends CrmsyncError {
  constructor(jobId: string, deadline: number) {
    super(
      'LEASE_EXPIRED',
      `No heartbeat for job ${jobId} succeeded before ${new Date(deadline).toISOString()}, shortly before its lease could run out; the run was aborted so that no other worker runs the record at the same time.`,
      { retryable: true },
    );
  }
}

const DEFAULT_BACKEND_RETRY: BackoffPolicy = { baseMs: 250, maxMs: 30_000, jitter: 0.2 };

/** What a run reported while it worked: its vendor API calls and the names it learnt. */
interface RunTally {
  apiCalls: number;
  names: RunNames;
}

/** A job a loop holds, from dequeue until the queue has been told its outcome. */
interface InFlight {
  readonly job: LeasedJob;
  readonly controller: AbortController;
  /** `running` until the handler returned or was abandoned; after that a shutdown no longer aborts it. */
  phase: 'running' | 'settling';
}

/** A loop waiting for the poll interval or a backoff; `wakeable` ones are cut short by {@link WorkerPool.wake}. */
interface Sleeper {
  readonly wakeable: boolean;
  readonly resolve: () => void;
}

/** A run recorded by `attempts.begin`. */
interface StartedRun {
  readonly id: string;
  readonly startedAt: number;
}

/** What became of the handler call. */
type HandlerOutcome =
  { readonly result: HandlerResult } | { readonly error: unknown } | { readonly aborted: unknown };

/** Runs jobs from the queue with bounded concurrency. */
export class WorkerPool {
  readonly #options: WorkerPoolOptions;
  readonly #heartbeatMs: number;
  readonly #leaseMarginMs: number;
  readonly #workerIdPrefix: string;
  readonly #inFlight = new Set<InFlight>();
  readonly #sleepers = new Set<Sleeper>();
  #loops: Promise<void>[] | undefined;
  #stopping = false;
  #stopped: Promise<void> | undefined;
  /** Bumped by every wake(), so a loop that polled just before a wake does not go to sleep and miss it. */
  #wakeGeneration = 0;

  constructor(options: WorkerPoolOptions) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
      throw new RangeError(`concurrency must be a positive integer, got ${options.concurrency}`);
    }
    this.#options = options;
    this.#heartbeatMs = options.heartbeatMs ?? Math.max(1, Math.floor(options.leaseMs / 3));
    this.#leaseMarginMs = options.leaseMarginMs ?? Math.min(5_000, Math.floor(options.leaseMs / 5));
    if (this.#heartbeatMs >= options.leaseMs - this.#leaseMarginMs) {
      // Every run would be aborted by its lease deadline before its first heartbeat.
      throw new RangeError(
        `heartbeatMs (${this.#heartbeatMs}) must be below leaseMs - leaseMarginMs (${options.leaseMs - this.#leaseMarginMs})`,
      );
    }
    this.#workerIdPrefix = options.workerIdPrefix ?? `${hostname()}:${process.pid}`;
  }

  /** Starts the loops. Throws if the pool was started before. */
  start(): void {
    if (this.#loops !== undefined) throw new Error('WorkerPool.start() was called twice');
    this.#loops = Array.from({ length: this.#options.concurrency }, (_, index) =>
      this.#loop(`${this.#workerIdPrefix}:${index + 1}`),
    );
  }

  /** Makes idle loops poll now instead of at their next interval (call it after an enqueue). */
  wake(): void {
    this.#wakeGeneration += 1;
    for (const sleeper of this.#sleepers) if (sleeper.wakeable) sleeper.resolve();
  }

  /** Number of jobs currently held by the loops. */
  get inFlightCount(): number {
    return this.#inFlight.size;
  }

  /**
   * Stops taking jobs at once, waits up to `deadlineMs` for in-flight jobs, then aborts the rest and releases
   * them to the queue. Resolves when every loop has ended. Calling it again returns the same promise.
   */
  stop(options: StopOptions): Promise<void> {
    this.#stopped ??= this.#shutDown(options.deadlineMs);
    return this.#stopped;
  }

  async #shutDown(deadlineMs: number): Promise<void> {
    this.#stopping = true;
    for (const sleeper of this.#sleepers) sleeper.resolve();
    const loopsEnded = Promise.all(this.#loops ?? []).then(() => 'ended' as const);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => {
      timer = setTimeout(resolve, deadlineMs, 'deadline');
    });
    const first = await Promise.race([loopsEnded, deadline]);
    clearTimeout(timer);
    if (first === 'deadline') {
      const running = [...this.#inFlight].filter((entry) => entry.phase === 'running');
      this.#options.logger.warn(
        { jobs: running.map((entry) => entry.job.id), deadlineMs },
        'shutdown deadline passed: aborting and releasing in-flight jobs',
      );
      for (const entry of running) entry.controller.abort(new WorkerShutdownError());
    }
    await loopsEnded;
  }

  async #loop(workerId: string): Promise<void> {
    const { attempts, clock, leaseMs, pollMs, logger, flows } = this.#options;
    let backendFailures = 0;
    while (!this.#stopping) {
      // A job that needs no I/O (node:sqlite is synchronous) settles every await as a microtask, so a loop
      // running a backlog back to back would never let timers, sockets or signals in. One macrotask per
      // job gives them their turn: webhooks, /healthz, heartbeats and SIGTERM are served while jobs drain.
      await nextMacrotask();
      if (this.#stopping) break;
      const generation = this.#wakeGeneration;
      try {
        // The lease runs from no earlier than now: the local lease deadline counts from here.
        const leasedAt = clock.now();
        const attempt = await attempts.begin({ workerId, leaseMs, ...(flows !== undefined && { flows }) });
        backendFailures = 0;
        if (attempt === null) {
          if (generation === this.#wakeGeneration) await this.#sleep(pollMs, true);
          continue;
        }
        await this.#process(attempt, leasedAt);
      } catch (error) {
        backendFailures += 1;
        const delayMs = backoffDelay(
          backendFailures,
          this.#options.backendRetry ?? DEFAULT_BACKEND_RETRY,
          Math.random,
        );
        logger.error(
          { err: error, workerId, failures: backendFailures, delayMs },
          'worker: backend error, backing off',
        );
        // Not wakeable: new webhooks must not make a loop hammer a backend that is down.
        await this.#sleep(delayMs, false);
      }
    }
  }

  #sleep(ms: number, wakeable: boolean): Promise<void> {
    if (this.#stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const sleeper: Sleeper = {
        wakeable,
        resolve: () => {
          clearTimeout(timer);
          this.#sleepers.delete(sleeper);
          resolve();
        },
      };
      const timer = setTimeout(sleeper.resolve, ms);
      this.#sleepers.add(sleeper);
    });
  }

  /**
   * Runs one begun attempt to the end. Handler errors become FAILED runs; only backend errors (recording the
   * outcome) escape, for the loop to back off. The lease then runs out and the job re-runs.
   */
  async #process({ job, run }: BegunAttempt, leasedAt: number): Promise<void> {
    if (run === null) {
      // Without a record ref no run can be recorded; the DEAD job's error tells operators why.
      const message = `Job record key "${job.recordKey}" is not flow|connection/type/id.`;
      await this.#options.queue
        .fail(job.id, job.leaseToken, { error: { code: 'RECORD_KEY_INVALID', message }, retryable: false })
        .catch((error: unknown) => {
          if (!(error instanceof LeaseLostError)) throw error;
        });
      return;
    }
    const entry: InFlight = { job, controller: new AbortController(), phase: 'running' };
    this.#inFlight.add(entry);
    const stopHeartbeat = this.#startHeartbeat(entry, leasedAt);
    const afterOutcome: ((ended: OutcomeRecorded) => Promise<void>)[] = [];
    let committed = false;
    try {
      const tally: RunTally = { apiCalls: 0, names: {} };
      const outcome = await this.#runHandler(job, {
        runId: run.id,
        attempt: job.attempts,
        signal: entry.controller.signal,
        clock: this.#options.clock,
        logger: this.#options.logger.child({
          jobId: job.id,
          flow: job.flow,
          runId: run.id,
          recordKey: job.recordKey,
          attempt: job.attempts,
        }),
        setNames: (names) => {
          tally.names = { ...tally.names, ...names };
          return this.#options.store.runs.setNames(run.id, names);
        },
        recordIntent: (changes) => this.#options.store.runs.recordIntent(run.id, changes),
        afterOutcome: (work) => {
          afterOutcome.push(work);
        },
        countApiCall: () => {
          tally.apiCalls += 1;
        },
      });
      entry.phase = 'settling';
      stopHeartbeat();
      committed = await this.#conclude(job, run, outcome, tally);
    } finally {
      stopHeartbeat();
      this.#inFlight.delete(entry);
      await this.#runAfterOutcome(job, afterOutcome, { committed });
    }
  }

  /** The work a run registered with `afterOutcome`, in order; a failure is logged and the rest still runs. */
  async #runAfterOutcome(
    job: LeasedJob,
    work: readonly ((ended: OutcomeRecorded) => Promise<void>)[],
    ended: OutcomeRecorded,
  ): Promise<void> {
    for (const each of work) {
      try {
        await each(ended);
      } catch (error) {
        this.#options.logger.warn({ err: error, jobId: job.id }, 'work after the run outcome failed');
      }
    }
  }

  /**
   * Records the run's outcome, commits what the handler returned to commit with it (link, ledger) and
   * settles the job in one step (complete, fail with retry or DEAD, release); when the lease is gone,
   * records only the run and leaves the job to the queue's lease recovery; when the store refuses the
   * commit (stale fence or revision), the run ends FAILED and the job retries.
   */
  async #conclude(
    job: LeasedJob,
    run: StartedRun,
    outcome: HandlerOutcome,
    tally: RunTally,
  ): Promise<boolean> {
    const { logger } = this.#options;
    const finishedAt = this.#options.clock.now();
    const finish = (result: Omit<RunFinish, 'finishedAt' | 'apiCalls'>): RunFinish => ({
      ...result,
      apiCalls: tally.apiCalls,
      finishedAt,
    });

    if ('aborted' in outcome && leaseIsGone(outcome.aborted)) {
      // Another worker may own the job by now: settling it is not ours to do. The run ends as FAILED,
      // unless the queue's lease recovery ended it already.
      await this.#options.store.runs.finish(
        run.id,
        finish({ outcome: 'FAILED', error: toJobError(outcome.aborted) }),
      );
      logger.warn(
        { jobId: job.id, runId: run.id, code: describeError(outcome.aborted).code },
        'lease lost or about to run out while running: result discarded, the job runs again',
      );
      this.#observe(job.flow, run, 'FAILED', finishedAt);
      return false;
    }

    const { result, settlement, commit } = settlementOf(outcome);
    if (settlement.kind === 'fail') {
      const { error, retryable } = settlement.failure;
      logger.warn(
        { jobId: job.id, runId: run.id, flow: job.flow, attempt: job.attempts, code: error.code, retryable },
        `run failed: ${error.message}`,
      );
    }
    const ended = await this.#options.attempts.end({
      jobId: job.id,
      leaseToken: job.leaseToken,
      runId: run.id,
      run: finish(result),
      job: settlement,
      ...(commit !== undefined && { commit }),
    });
    if (ended === 'lease-lost') {
      logger.warn(
        { jobId: job.id, runId: run.id },
        'lease lost before the outcome was recorded: result discarded',
      );
      this.#observe(job.flow, run, 'FAILED', finishedAt);
      return false;
    }
    if (ended === 'refused') {
      // A newer lock holder or another writer got there first; the job retries on fresh data.
      logger.warn(
        { jobId: job.id, runId: run.id, flow: job.flow, attempt: job.attempts },
        'outcome commit refused (stale lock fence or link revision): nothing committed, the run failed and the job retries',
      );
      this.#observe(job.flow, run, 'FAILED', finishedAt);
      return false;
    }
    this.#observe(job.flow, run, result.outcome, finishedAt);
    if ('result' in outcome) {
      // One line per run, so the log alone shows what happened to every record.
      logger.info(
        {
          jobId: job.id,
          runId: run.id,
          flow: job.flow,
          record: job.recordKey.slice(job.flow.length + 1),
          ...(tally.names.displayName != null && { name: tally.names.displayName }),
          ...(tally.names.ownerName != null && { owner: tally.names.ownerName }),
          outcome: result.outcome,
          reason: result.reason ?? null,
          changes: result.changes?.length ?? 0,
          // Which fields it wrote where (`espocrm/CBeteiligte/6651…: lastName`), so a sync is readable in the log.
          ...(result.changes !== undefined &&
            result.changes.length > 0 && { written: writtenFields(result.changes) }),
          ...(commit?.conflicts?.add !== undefined &&
            commit.conflicts.add.length > 0 && { conflicts: conflictSummaries(commit.conflicts.add) }),
          apiCalls: tally.apiCalls,
        },
        'run finished',
      );
    }
    return true;
  }

  #observe(flow: string, run: StartedRun, outcome: RunOutcome, finishedAt: number): void {
    this.#options.observer?.runFinished({ flow, outcome, durationMs: finishedAt - run.startedAt });
  }

  /**
   * Calls the handler, but stops waiting for it once the run is aborted (lost lease, shutdown deadline):
   * a handler that ignores its signal must not keep the pool from shutting down. Its late result is dropped.
   */
  async #runHandler(job: LeasedJob, context: RunContext): Promise<HandlerOutcome> {
    const { signal } = context;
    if (signal.aborted) return { aborted: signal.reason };
    const aborted = new Promise<HandlerOutcome>((resolve) => {
      signal.addEventListener('abort', () => resolve({ aborted: signal.reason }), { once: true });
    });
    const handled = (async (): Promise<HandlerOutcome> => {
      try {
        const handler = this.#options.handlers.resolve(job.flow);
        return { result: await withinRun(context, () => handler(job, context)) };
      } catch (error) {
        return { error };
      }
    })();
    return Promise.race([handled, aborted]);
  }

  /**
   * Keeps the lease alive. The run is aborted when a heartbeat finds the lease lost, and also when no
   * heartbeat has succeeded by the local deadline (send time of the last good beat + leaseMs - margin):
   * after that the queue may hand the job to another worker at any moment, whatever made the beats fail.
   * Returns the function that stops both timers.
   */
  #startHeartbeat(entry: InFlight, leasedAt: number): () => void {
    const { queue, clock, leaseMs, logger } = this.#options;
    const { job, controller } = entry;
    let stopped = false;
    let beatTimer: NodeJS.Timeout | undefined;
    let deadlineTimer: NodeJS.Timeout | undefined;
    const abort = (reason: CrmsyncError) => {
      if (!stopped) controller.abort(reason);
    };
    const armDeadline = (leaseFrom: number) => {
      clearTimeout(deadlineTimer);
      const deadline = leaseFrom + leaseMs - this.#leaseMarginMs;
      const delayMs = Math.max(0, deadline - clock.now());
      deadlineTimer = setTimeout(() => abort(new LeaseExpiredError(job.id, deadline)), delayMs);
    };
    const beat = async () => {
      const sentAt = clock.now();
      try {
        await queue.heartbeat(job.id, job.leaseToken, leaseMs);
        if (!stopped) armDeadline(sentAt);
      } catch (error) {
        if (error instanceof LeaseLostError) {
          abort(error);
          return;
        }
        // The lease still runs until leaseMs after the last good beat; the next beat may work, and the
        // deadline timer aborts the run if none does in time.
        logger.warn({ err: error, jobId: job.id }, 'heartbeat failed; retrying at the next interval');
      }
      if (!stopped) schedule();
    };
    // beat() catches everything it awaits, so the discarded promise never rejects.
    const schedule = () => {
      beatTimer = setTimeout(() => void beat(), this.#heartbeatMs);
    };
    armDeadline(leasedAt);
    schedule();
    return () => {
      stopped = true;
      clearTimeout(beatTimer);
      clearTimeout(deadlineTimer);
    };
  }
}

/** True for the abort reasons after which the job may belong to another worker. */
/** A sync run's same-field conflicts as `field: side a won (a-wins)` or `field: parked (manual)`. */
function conflictSummaries(conflicts: readonly ConflictInput[]): string[] {
  return conflicts.map(
    (conflict) =>
      `${conflict.field}: ${conflict.outcome === 'parked' ? 'parked' : `side ${conflict.outcome} won`} (${conflict.policy})`,
  );
}

/** The fields a run wrote, one entry per record: `connection/EntityType/id: field, field`. */
function writtenFields(changes: readonly FieldChange[]): string[] {
  const byRecord = new Map<string, Set<string>>();
  for (const { ref, field } of changes) {
    const key = `${ref.connection}/${ref.entityType}/${ref.id}`;
    byRecord.set(key, (byRecord.get(key) ?? new Set()).add(field));
  }
  return [...byRecord].map(([record, fields]) => `${record}: ${[...fields].join(', ')}`);
}

function leaseIsGone(reason: unknown): boolean {
  return reason instanceof LeaseLostError || reason instanceof LeaseExpiredError;
}

/**
 * The run's outcome, how the job is settled and what the store commits with them, for a handler that
 * returned, threw, or was shut down.
 */
function settlementOf(outcome: HandlerOutcome): {
  result: Omit<RunFinish, 'finishedAt' | 'apiCalls'>;
  settlement: JobSettlement;
  commit?: OutcomeCommit;
} {
  if ('aborted' in outcome) {
    // Shutdown deadline: give the job back without counting the attempt.
    return {
      result: { outcome: 'FAILED', error: toJobError(outcome.aborted) },
      settlement: { kind: 'release' },
    };
  }
  if ('error' in outcome) return failureOf(outcome.error);
  const { result } = outcome;
  const commit = result.commit === undefined ? {} : { commit: result.commit };
  if (result.outcome === 'FAILED') return { ...failureOf(result.error), ...commit };
  const skipped = result.outcome === 'SKIPPED';
  return {
    result: {
      outcome: result.outcome,
      reason: result.reason ?? null,
      changes: skipped ? [] : (result.changes ?? []),
    },
    settlement: { kind: 'complete', state: skipped ? 'SKIPPED' : 'COMPLETED' },
    ...commit,
  };
}

/** How long a postponed job waits when its error names no time. */
const POSTPONE_MS = 1_000;

/**
 * A FAILED run and the job's failure for `error`: retry or DEAD by its flag, after its Retry-After; a
 * postponed error (`CrmsyncError.postpone`) gives the job back instead, due after its Retry-After.
 */
function failureOf(error: unknown): {
  result: Omit<RunFinish, 'finishedAt' | 'apiCalls'>;
  settlement: JobSettlement;
} {
  const { code, message, retryable } = describeError(error);
  const retryAfterMs = error instanceof CrmsyncError ? error.retryAfterMs : undefined;
  if (error instanceof CrmsyncError && error.postpone)
    return {
      result: { outcome: 'FAILED', error: { code, message } },
      settlement: { kind: 'release', delayMs: retryAfterMs ?? POSTPONE_MS },
    };
  return {
    result: { outcome: 'FAILED', error: { code, message } },
    settlement: {
      kind: 'fail',
      failure: {
        error: { code, message },
        retryable,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      },
    },
  };
}

function toJobError(error: unknown): { code: string; message: string } {
  const { code, message } = describeError(error);
  return { code, message };
}

/** Options of {@link installShutdownHandlers}. */
export interface ShutdownHandlerOptions {
  /** Default SIGTERM and SIGINT. */
  readonly signals?: readonly NodeJS.Signals[];
  readonly logger?: Logger;
  /** Ends the process; default process.exit. Tests pass a spy. */
  readonly exit?: (code: number) => void;
}

/**
 * Calls `shutdown` once on the first SIGTERM/SIGINT. A second signal while it runs forces exit (for an
 * operator who does not want to wait for the deadline), as does a shutdown that throws. Returns a function
 * that removes the handlers; they are also removed after a successful shutdown, so the process can end.
 */
export function installShutdownHandlers(
  shutdown: () => Promise<void>,
  options: ShutdownHandlerOptions = {},
): () => void {
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let shuttingDown = false;
  const uninstall = () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
  function onSignal(signal: NodeJS.Signals): void {
    // Shell convention: a process ended by a signal exits with 128 + the signal's number.
    const signalExitCode = 128 + (osConstants.signals[signal] ?? 0);
    if (shuttingDown) {
      options.logger?.warn({ signal }, 'second signal during shutdown: exiting now');
      exit(signalExitCode);
      return;
    }
    shuttingDown = true;
    options.logger?.info(
      { signal },
      'signal received: shutting down gracefully (send it again to force exit)',
    );
    shutdown().then(uninstall, (error: unknown) => {
      options.logger?.error({ err: error }, 'graceful shutdown failed');
      exit(1);
    });
  }
  for (const signal of signals) process.on(signal, onSignal);
  return uninstall;
}
