/**
 * The worker pool: N independent loops that lease jobs from the queue and run them through the handler of
 * their flow, recording each attempt as a run. Per job: `runs.start` -> handler -> `runs.finish` -> the queue
 * learns the outcome (`complete` or `fail`). A heartbeat keeps the lease while the handler works; a lost
 * lease aborts the handler and discards its result, because another worker may own the job by then.
 *
 * Shutdown is graceful: `stop()` takes no new jobs, lets in-flight jobs finish until a deadline, then aborts
 * and releases the rest so another instance picks them up without counting the attempt.
 */
import { constants as osConstants, hostname } from 'node:os';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import type { BackoffPolicy } from '../core/backoff.ts';
import { backoffDelay } from '../core/backoff.ts';
import { CrmsyncError, LeaseLostError, describeError } from '../core/errors.ts';
import type { RecordRef, RunOutcome } from '../core/types.ts';
import type { Clock } from '../ports/clock.ts';
import type { Logger } from '../ports/logger.ts';
import type { LeasedJob, Queue } from '../ports/queue.ts';
import type { RunFinish, Store } from '../ports/store.ts';
import type { HandlerRegistry, HandlerResult, RunContext, RunNames } from './handlers.ts';
import { parseJobRecordKey } from '../core/types.ts';
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
  readonly queue: Queue;
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
  /** How long an idle loop waits before polling again; {@link WorkerPool.wake} cuts the wait short. */
  readonly pollMs: number;
  /** Prefix of the worker ids stored with leases; default `host:pid`. Loop n is `${prefix}:${n}`. */
  readonly workerIdPrefix?: string;
  readonly observer?: RunObserver;
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

/** A run recorded by `runs.start`. */
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
    const { queue, leaseMs, pollMs, logger } = this.#options;
    let backendFailures = 0;
    while (!this.#stopping) {
      // A job that needs no I/O (node:sqlite is synchronous) settles every await as a microtask, so a loop
      // running a backlog back to back would never let timers, sockets or signals in. One macrotask per
      // job gives them their turn: webhooks, /healthz, heartbeats and SIGTERM are served while jobs drain.
      await nextMacrotask();
      if (this.#stopping) break;
      const generation = this.#wakeGeneration;
      try {
        const job = await queue.dequeue({ workerId, leaseMs });
        backendFailures = 0;
        if (job === null) {
          if (generation === this.#wakeGeneration) await this.#sleep(pollMs, true);
          continue;
        }
        if (this.#stopping) {
          // stop() came while this dequeue was under way: give the job back untouched.
          await this.#release(job);
          break;
        }
        await this.#process(job);
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
   * Runs one leased job to the end. Handler errors become FAILED runs; only backend errors (recording the
   * run, telling the queue) escape, for the loop to back off. The lease then runs out and the job re-runs.
   */
  async #process(job: LeasedJob): Promise<void> {
    const key = parseJobRecordKey(job.recordKey);
    if (key === null) {
      // Without a record ref no run can be recorded; the DEAD job's error tells operators why.
      const message = `Job record key "${job.recordKey}" is not flow|connection/type/id.`;
      await this.#settle(job, () =>
        this.#options.queue.fail(job.id, job.leaseToken, {
          error: { code: 'RECORD_KEY_INVALID', message },
          retryable: false,
        }),
      );
      return;
    }
    const entry: InFlight = { job, controller: new AbortController(), phase: 'running' };
    this.#inFlight.add(entry);
    const stopHeartbeat = this.#startHeartbeat(entry);
    try {
      const run = await this.#startRun(job, key.ref);
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
        countApiCall: () => {
          tally.apiCalls += 1;
        },
      });
      entry.phase = 'settling';
      stopHeartbeat();
      await this.#conclude(job, run, outcome, tally);
    } finally {
      stopHeartbeat();
      this.#inFlight.delete(entry);
    }
  }

  async #startRun(job: LeasedJob, ref: RecordRef): Promise<StartedRun> {
    const startedAt = this.#options.clock.now();
    try {
      const id = await this.#options.store.runs.start({
        jobId: job.id,
        flow: job.flow,
        ref,
        attempt: job.attempts,
        startedAt,
      });
      return { id, startedAt };
    } catch (error) {
      // The store is down: give the attempt back rather than let the lease expire and count it. If the
      // queue is down too, the lease expires anyway; the store error is the one worth reporting.
      await this.#release(job).catch(() => undefined);
      throw error;
    }
  }

  /** Records the run's outcome, then tells the queue: complete, fail (retry or DEAD), or release. */
  async #conclude(job: LeasedJob, run: StartedRun, outcome: HandlerOutcome, tally: RunTally): Promise<void> {
    const finishRun = (finish: Omit<RunFinish, 'finishedAt' | 'apiCalls'>) =>
      this.#finishRun(job.flow, run, { ...finish, apiCalls: tally.apiCalls });
    const { queue, logger } = this.#options;

    if ('result' in outcome) {
      const { result } = outcome;
      const skipped = result.outcome === 'SKIPPED';
      await finishRun({
        outcome: result.outcome,
        reason: result.reason ?? null,
        changes: skipped ? [] : (result.changes ?? []),
      });
      await this.#settle(job, () =>
        queue.complete(job.id, job.leaseToken, skipped ? 'SKIPPED' : 'COMPLETED'),
      );
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
          changes: skipped ? 0 : (result.changes?.length ?? 0),
          apiCalls: tally.apiCalls,
        },
        'run finished',
      );
      return;
    }

    if ('aborted' in outcome) {
      await finishRun({ outcome: 'FAILED', error: toJobError(outcome.aborted) });
      if (outcome.aborted instanceof LeaseLostError) {
        logger.warn(
          { jobId: job.id, runId: run.id },
          'lease lost while running: result discarded, another worker redoes the job',
        );
      } else {
        await this.#release(job);
      }
      return;
    }

    const { error } = outcome;
    const { code, message, retryable } = describeError(error);
    const retryAfterMs = error instanceof CrmsyncError ? error.retryAfterMs : undefined;
    logger.warn(
      { jobId: job.id, runId: run.id, flow: job.flow, attempt: job.attempts, code, retryable },
      `run failed: ${message}`,
    );
    await finishRun({ outcome: 'FAILED', error: { code, message } });
    await this.#settle(job, () =>
      queue.fail(job.id, job.leaseToken, {
        error: { code, message },
        retryable,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      }),
    );
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

  /** Keeps the lease alive; a LeaseLostError aborts the run. Returns the function that stops it. */
  #startHeartbeat(entry: InFlight): () => void {
    const { queue, leaseMs, logger } = this.#options;
    const { job, controller } = entry;
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const beat = async () => {
      try {
        await queue.heartbeat(job.id, job.leaseToken, leaseMs);
      } catch (error) {
        if (error instanceof LeaseLostError) {
          if (!stopped) controller.abort(error);
          return;
        }
        // Transient: the lease still runs until leaseMs after the last good beat, and the next beat may work.
        logger.warn({ err: error, jobId: job.id }, 'heartbeat failed; retrying at the next interval');
      }
      if (!stopped) schedule();
    };
    // beat() catches everything it awaits, so the discarded promise never rejects.
    const schedule = () => {
      timer = setTimeout(() => void beat(), this.#heartbeatMs);
    };
    schedule();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }

  async #finishRun(flow: string, run: StartedRun, finish: Omit<RunFinish, 'finishedAt'>): Promise<void> {
    const finishedAt = this.#options.clock.now();
    await this.#options.store.runs.finish(run.id, { ...finish, finishedAt });
    this.#options.observer?.runFinished({
      flow,
      outcome: finish.outcome,
      durationMs: finishedAt - run.startedAt,
    });
  }

  #release(job: LeasedJob): Promise<void> {
    return this.#settle(job, () => this.#options.queue.release(job.id, job.leaseToken));
  }

  /** Tells the queue how a job ended. A lost lease is not a backend failure: the job simply belongs to another worker now. */
  async #settle(job: LeasedJob, tell: () => Promise<unknown>): Promise<void> {
    try {
      await tell();
    } catch (error) {
      if (!(error instanceof LeaseLostError)) throw error;
      this.#options.logger.warn(
        { jobId: job.id },
        'lease lost before the outcome was recorded: result discarded',
      );
    }
  }
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
