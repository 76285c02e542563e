/**
 * The flow handler contract and the registry that maps a flow name to its handler. The worker pool leases a
 * job, looks up the handler of the job's flow here, and records what the handler returns as the job's run.
 */
import { CrmsyncError } from '../core/errors.ts';
import type { FieldChange } from '../core/types.ts';

import type { Clock } from '../ports/clock.ts';
import type { Logger } from '../ports/logger.ts';
import type { LeasedJob } from '../ports/queue.ts';
import type { OutcomeCommit } from '../ports/store.ts';

/** How the attempt's outcome was recorded, for work registered with {@link RunContext.afterOutcome}. */
export interface OutcomeRecorded {
  /**
   * True when the outcome, the job's settlement and the handler's commit landed; false when they did not (the
   * commit was refused, the lease was lost, the store failed): then the run's effects were not recorded and the
   * job runs again, so work that tells people about them (a notice) should not happen.
   */
  readonly committed: boolean;
}

/** Display names a run learns while it works (written to the run history before the run finishes). */
export interface RunNames {
  readonly displayName?: string | null;
  readonly ownerName?: string | null;
}

/** What a handler gets besides the job: the run it is part of and the means to report on it. */
export interface RunContext {
  /** Id of the run in the store's run history. */
  readonly runId: string;
  /** 1 for the first attempt of the job. */
  readonly attempt: number;
  /**
   * Aborted when the run must stop: the worker's shutdown deadline passed (`WORKER_SHUTDOWN`), the job's
   * lease was lost (`QUEUE_LEASE_LOST`), or no heartbeat succeeded before the lease could run out
   * (`LEASE_EXPIRED`), after which another worker may run the same record. The result of an aborted run is
   * discarded, so a handler stops at its next await and writes nothing more. A handler must pass this signal
   * to every port call that can be slow (`Connector.read`/`write`/`list` as `{ signal }`, the enricher), so
   * that vendor requests, rate-limit waits and retry sleeps stop with the run instead of writing late.
   */
  readonly signal: AbortSignal;
  readonly clock: Clock;
  /** Bound to the job, flow and run. */
  readonly logger: Logger;
  /** Records the record's human-readable names as soon as the handler knows them (late name resolution). */
  setNames(names: RunNames): Promise<void>;
  /**
   * Records, durably, the field changes the run is about to write; call it right before each vendor write.
   * If the attempt dies after the vendor took the write, the next attempt finds the values there and skips
   * as "up to date": the dead attempt's run still shows what it attempted (`Run.intendedChanges`).
   */
  recordIntent(changes: readonly FieldChange[]): Promise<void>;
  /**
   * Registers work for after the run's outcome is recorded, however the attempt ended (returned, threw, was
   * aborted): e.g. releasing a per-link lock only once the outcome commit its fence guards has landed, so the
   * next holder never races this run's commit. Runs in registration order; a failure is logged, never raised.
   * A crash skips it, so whatever it frees must also free itself (a lock's TTL). The work learns whether the
   * outcome was committed ({@link OutcomeRecorded}).
   */
  afterOutcome(work: (ended: OutcomeRecorded) => Promise<void>): void;
  /**
   * Counts one vendor API call made by this run (stored with the run). Calls reported to the connectors'
   * ApiCallRecorder during the run are counted automatically (see run-scope.ts).
   */
  countApiCall(): void;
}

/**
 * How a run ended when the handler returned normally. `CONFLICT` means the run parked a conflict and finished
 * the rest of its work; the job is done either way. A handler that throws makes the run FAILED instead;
 * one that returns `FAILED` does the same (retry or DEAD by the error's `retryable` flag) and can still
 * commit state with it (the link's status, retry count and last error).
 *
 * `commit` is what the store must commit with the run's outcome, in the same store operation
 * (`JobAttempts.end`): the link, the ledger intents to confirm and the entries to consume, checked against
 * the fence of the run's per-link lock. If the store refuses it (stale fence or revision), nothing of it is
 * stored and the run ends FAILED with the store's retryable error instead: the job runs again.
 */
export type HandlerResult =
  | {
      readonly outcome: 'COMPLETED' | 'CONFLICT';
      readonly reason?: string;
      readonly changes?: readonly FieldChange[];
      readonly commit?: OutcomeCommit;
    }
  | { readonly outcome: 'SKIPPED'; readonly reason: string; readonly commit?: OutcomeCommit }
  | { readonly outcome: 'FAILED'; readonly error: unknown; readonly commit?: OutcomeCommit };

/**
 * Does the work of one job. Must be idempotent: a job can run again after a lost lease or a crash.
 * Throwing fails the run; a {@link CrmsyncError} with `retryable: false` sends the job straight to DEAD, and
 * its `retryAfterMs` (a vendor's Retry-After) overrides the queue's backoff.
 */
export interface FlowHandler {
  (job: LeasedJob, context: RunContext): Promise<HandlerResult>;
}

/** A second handler was registered for a flow name. A programming or config error, never retried. */
export class DuplicateFlowError extends CrmsyncError {
  constructor(flow: string) {
    super('FLOW_DUPLICATE', `A handler for flow "${flow}" is already registered; flow names must be unique.`);
  }
}

/**
 * A job names a flow that has no handler (the flow was removed from the config while jobs were queued).
 * Not retryable: the job goes to DEAD, where an operator can replay it once the flow exists again.
 */
export class UnknownFlowError extends CrmsyncError {
  constructor(flow: string) {
    super('FLOW_UNKNOWN', `No handler for flow "${flow}": it is not in the configuration of this instance.`, {
      retryable: false,
    });
  }
}

/** Flow name -> handler. */
export class HandlerRegistry {
  readonly #handlers = new Map<string, FlowHandler>();

  /** Registers the handler of `flow`. Throws {@link DuplicateFlowError} if the flow has one already. */
  register(flow: string, handler: FlowHandler): void {
    if (this.#handlers.has(flow)) throw new DuplicateFlowError(flow);
    this.#handlers.set(flow, handler);
  }

  /** The handler of `flow`. Throws {@link UnknownFlowError} when there is none. */
  resolve(flow: string): FlowHandler {
    const handler = this.#handlers.get(flow);
    if (handler === undefined) throw new UnknownFlowError(flow);
    return handler;
  }

  /** Names of the registered flows, in registration order. */
  flows(): string[] {
    return [...this.#handlers.keys()];
  }
}
