/**
 * Periodic tasks from cron expressions (croner), executed by exactly one running instance per tick even when
 * several processes run the same config. Every instance computes the same ticks from the pattern; at a tick
 * each one tries, in order:
 *
 * 1. `locks.acquire('schedule:<name>')`: one instance at a time works on a schedule, and a task that outlasts
 *    its interval is never overlapped by the next tick elsewhere (the lock is extended while the task runs);
 * 2. `checkpoints.compareAndSet('schedule:<name>', lastTick, thisTick)`: the checkpoint holds the last tick
 *    that started, so an instance that arrives late (slow clock, long GC pause, lock freed just before it)
 *    never runs a tick again that another one already ran;
 * 3. the task; then the lock is released.
 *
 * The checkpoint moves before the task runs: a crash during the task loses that tick (at most once), which
 * suits periodic work whose next tick redoes it (retention, reconciliation).
 */
import { Cron } from 'croner';
import { CrmsyncError, describeError } from '../core/errors.ts';
import type { Clock } from '../ports/clock.ts';
import type { Locks } from '../ports/locks.ts';
import type { Logger } from '../ports/logger.ts';
import type { JobInput, Queue } from '../ports/queue.ts';
import type { CheckpointRepository } from '../ports/store.ts';

/** What a scheduled task gets. */
export interface ScheduleContext {
  readonly name: string;
  /** The tick being run (epoch ms of the cron occurrence, not of the actual start). */
  readonly tickAt: number;
  /** Aborted when the schedule's lock was lost while the task ran: another instance may start the next tick. */
  readonly signal: AbortSignal;
  readonly logger: Logger;
}

/** The work of a schedule. Throwing is logged and counted; the schedule keeps running. */
export type ScheduledTask = (context: ScheduleContext) => Promise<void>;

/** One periodic task. */
export interface ScheduleDefinition {
  /** Unique per scheduler; also names its lock and checkpoint (`schedule:<name>`). */
  readonly name: string;
  /** Cron expression, 5 fields or 6 with seconds (croner syntax, e.g. `17 3 * * *`). */
  readonly cron: string;
  /** IANA time zone of the expression; default the process's local zone. */
  readonly timezone?: string;
  readonly task: ScheduledTask;
}

/** Options of {@link Scheduler}. */
export interface SchedulerOptions {
  readonly locks: Locks;
  readonly checkpoints: CheckpointRepository;
  readonly clock: Clock;
  readonly logger: Logger;
  /** TTL of a schedule's lock; it is extended every third of it while the task runs. Default 60 s. */
  readonly lockTtlMs?: number;
}

/**
 * What became of one tick on this instance. `ran`/`failed`: this instance executed the task;
 * `already-ran`: another instance (or an earlier call) ran the tick; `locked`: another holder was working on
 * the schedule; `error`: the backend (locks, checkpoints) failed, the tick was not run here.
 */
export type TickOutcome = 'ran' | 'failed' | 'already-ran' | 'locked' | 'error';

/** Result of one tick. */
export interface TickResult {
  readonly name: string;
  readonly tickAt: number;
  readonly outcome: TickOutcome;
}

/** Why a tick failed, as {@link describeError} puts it. */
export type TickError = ReturnType<typeof describeError>;

/** A schedule as seen by this instance, for logs and the dashboard. */
export interface ScheduleStatus {
  readonly name: string;
  readonly cron: string;
  /** Next tick (epoch ms), or null when the expression has no further occurrence. */
  readonly nextTickAt: number | null;
  readonly lastTickAt: number | null;
  readonly lastOutcome: TickOutcome | null;
  /** Error of the last failed task or backend error on this instance. */
  readonly lastError: TickError | null;
  /** Tasks this instance executed, and how many of them threw. */
  readonly runs: number;
  readonly failures: number;
}

interface Entry {
  readonly definition: ScheduleDefinition;
  /** Computes occurrences, and once started, fires the ticks. */
  readonly cron: Cron;
  nextTickAt: number | null;
  lastTickAt: number | null;
  lastOutcome: TickOutcome | null;
  lastError: TickError | null;
  runs: number;
  failures: number;
}

const DEFAULT_LOCK_TTL_MS = 60_000;

/** Runs periodic tasks, each tick on exactly one instance. */
export class Scheduler {
  readonly #options: SchedulerOptions;
  readonly #lockTtlMs: number;
  readonly #entries = new Map<string, Entry>();
  readonly #running = new Set<Promise<unknown>>();
  #started = false;
  #stopped = false;

  constructor(options: SchedulerOptions) {
    this.#options = options;
    this.#lockTtlMs = options.lockTtlMs ?? DEFAULT_LOCK_TTL_MS;
  }

  /** Adds a schedule. Throws a CrmsyncError on a duplicate name (`SCHEDULE_DUPLICATE`) or a bad expression (`SCHEDULE_INVALID`). */
  add(definition: ScheduleDefinition): void {
    if (this.#entries.has(definition.name)) {
      throw new CrmsyncError('SCHEDULE_DUPLICATE', `A schedule named "${definition.name}" exists already.`);
    }
    let cron: Cron;
    try {
      cron = new Cron(definition.cron, {
        paused: true,
        ...(definition.timezone === undefined ? {} : { timezone: definition.timezone }),
      });
    } catch (error) {
      throw new CrmsyncError(
        'SCHEDULE_INVALID',
        `Schedule "${definition.name}": invalid cron expression "${definition.cron}": ${describeError(error).message}`,
        { cause: error },
      );
    }
    const entry: Entry = {
      definition,
      cron,
      nextTickAt: null,
      lastTickAt: null,
      lastOutcome: null,
      lastError: null,
      runs: 0,
      failures: 0,
    };
    entry.nextTickAt = occurrenceAfter(entry, this.#options.clock.now());
    this.#entries.set(definition.name, entry);
    if (this.#started) this.#arm(entry);
  }

  /** Starts the cron timers: each fires at its schedule's occurrences and runs the due tick as {@link runDue} does. */
  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    for (const entry of this.#entries.values()) this.#arm(entry);
  }

  /**
   * Runs every schedule whose next tick is due at `now` (default: the clock). The cron timers run the same
   * code for their own schedule; tests call this with chosen times instead of waiting for real minutes. A schedule that missed several ticks (suspended
   * process) runs only the latest one: repeating the same periodic work for each missed tick gains nothing.
   */
  async runDue(now: number = this.#options.clock.now()): Promise<TickResult[]> {
    const results = await Promise.all(
      [...this.#entries.values()].map((entry) => this.#runDueEntry(entry, now)),
    );
    return results.filter((result) => result !== null);
  }

  /** How each schedule stands on this instance. */
  status(): ScheduleStatus[] {
    return [...this.#entries.values()].map((entry) => ({
      name: entry.definition.name,
      cron: entry.definition.cron,
      nextTickAt: entry.nextTickAt,
      lastTickAt: entry.lastTickAt,
      lastOutcome: entry.lastOutcome,
      lastError: entry.lastError,
      runs: entry.runs,
      failures: entry.failures,
    }));
  }

  /** Stops the timers and waits for running tasks to end. Later ticks are ignored. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const entry of this.#entries.values()) entry.cron.stop();
    await Promise.allSettled([...this.#running]);
  }

  #arm(entry: Entry): void {
    entry.cron.schedule(() => {
      // runDue never rejects; the catch only keeps a bug from becoming an unhandled rejection.
      this.#runDueEntry(entry, this.#options.clock.now()).catch((error: unknown) => {
        this.#options.logger.error({ err: error, schedule: entry.definition.name }, 'scheduler: tick failed');
      });
    });
    entry.cron.resume();
  }

  #runDueEntry(entry: Entry, now: number): Promise<TickResult | null> {
    if (this.#stopped || entry.nextTickAt === null || entry.nextTickAt > now) return Promise.resolve(null);
    let tickAt = entry.nextTickAt;
    for (
      let next = occurrenceAfter(entry, tickAt);
      next !== null && next <= now;
      next = occurrenceAfter(entry, tickAt)
    ) {
      tickAt = next;
    }
    entry.nextTickAt = occurrenceAfter(entry, now);
    const running = this.#runTick(entry, tickAt);
    this.#running.add(running);
    return running.finally(() => this.#running.delete(running));
  }

  async #runTick(entry: Entry, tickAt: number): Promise<TickResult> {
    const outcome = await this.#claimAndRun(entry, tickAt);
    entry.lastTickAt = tickAt;
    entry.lastOutcome = outcome;
    return { name: entry.definition.name, tickAt, outcome };
  }

  async #claimAndRun(entry: Entry, tickAt: number): Promise<TickOutcome> {
    const { name } = entry.definition;
    const key = `schedule:${name}`;
    const log = this.#options.logger.child({ schedule: name, tickAt: new Date(tickAt).toISOString() });
    let token: string | null;
    try {
      token = await this.#options.locks.acquire(key, this.#lockTtlMs);
    } catch (error) {
      return backendError(entry, error, log);
    }
    if (token === null) return 'locked';
    const controller = new AbortController();
    const keepAlive = this.#keepLock(key, token, controller, log);
    try {
      let claimed: boolean;
      try {
        claimed = await this.#claimTick(key, tickAt);
      } catch (error) {
        return backendError(entry, error, log);
      }
      if (!claimed) return 'already-ran';
      return await runTask(entry, { name, tickAt, signal: controller.signal, logger: log });
    } finally {
      clearInterval(keepAlive);
      await this.#release(key, token, log);
    }
  }

  /** Moves the schedule's checkpoint to `tickAt`; false when this tick (or a later one) already started. */
  async #claimTick(key: string, tickAt: number): Promise<boolean> {
    const { checkpoints } = this.#options;
    const lastTick = (await checkpoints.get(key))?.value ?? null;
    if (typeof lastTick === 'number' && lastTick >= tickAt) return false;
    return checkpoints.compareAndSet(key, lastTick, tickAt);
  }

  /** Extends the lock while the task runs; losing it aborts the task's signal. */
  #keepLock(key: string, token: string, controller: AbortController, log: Logger): NodeJS.Timeout {
    const timer = setInterval(
      () => {
        this.#options.locks.extend(key, token, this.#lockTtlMs).then(
          (held) => {
            if (held) return;
            clearInterval(timer);
            log.warn({}, 'scheduler: lock lost while the task ran');
            controller.abort(
              new CrmsyncError('SCHEDULE_LOCK_LOST', `Lock ${key} was lost while its task ran.`, {
                retryable: true,
              }),
            );
          },
          (error: unknown) => log.warn({ err: error }, 'scheduler: extending the lock failed; retrying'),
        );
      },
      Math.max(1, Math.floor(this.#lockTtlMs / 3)),
    );
    return timer;
  }

  async #release(key: string, token: string, log: Logger): Promise<void> {
    try {
      await this.#options.locks.release(key, token);
    } catch (error) {
      // The lock expires on its own after its TTL.
      log.warn({ err: error }, 'scheduler: releasing the lock failed');
    }
  }
}

/** The first occurrence strictly after `time`, or null. */
function occurrenceAfter(entry: Entry, time: number): number | null {
  return entry.cron.nextRun(new Date(time))?.getTime() ?? null;
}

async function runTask(entry: Entry, context: ScheduleContext): Promise<TickOutcome> {
  entry.runs += 1;
  try {
    await entry.definition.task(context);
    context.logger.info({}, 'scheduled task done');
    return 'ran';
  } catch (error) {
    entry.failures += 1;
    entry.lastError = describeError(error);
    context.logger.error({ err: error }, 'scheduled task failed; the schedule goes on');
    return 'failed';
  }
}

function backendError(entry: Entry, error: unknown, log: Logger): TickOutcome {
  entry.lastError = describeError(error);
  log.error({ err: error }, 'scheduler: backend error, tick not run here');
  return 'error';
}

/**
 * A task that enqueues one job per tick, for flows that run periodically rather than on webhooks.
 * `job` may be a function of the tick, e.g. to put the tick into the payload.
 */
export function enqueueJobTask(
  queue: Pick<Queue, 'enqueue'>,
  job: JobInput | ((context: ScheduleContext) => JobInput),
): ScheduledTask {
  return async (context) => {
    const input = typeof job === 'function' ? job(context) : job;
    const result = await queue.enqueue(input);
    context.logger.info(
      { flow: input.flow, recordKey: input.recordKey, status: result.status, jobId: result.jobId },
      'scheduled job enqueued',
    );
  };
}
