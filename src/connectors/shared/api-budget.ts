/**
 * The in-process implementation of the ApiBudget port (src/ports/api-budget.ts): per connection a token
 * bucket (./token-bucket.ts) and a pause, shared by every caller in this process. The pause runs on the
 * engine's Clock and the injected sleep (the vendor's Retry-After is a wall-clock time), the bucket on a
 * monotonic time source of its own.
 */
import type { ApiBudget, ApiBudgets } from '../../ports/api-budget.ts';
import type { Clock } from '../../ports/clock.ts';
import { abortable, sleep } from './abortable.ts';
import type { Sleep } from './abortable.ts';
import { TokenBucket } from './token-bucket.ts';

/** What the in-process budgets run on. */
export interface InProcessBudgetDeps {
  readonly clock: Clock;
  /** Waits out a pause (default a timer); tests record the wait instead. */
  readonly sleep?: Sleep;
}

/** A pause of the connection: when it ends, and the wait every caller awaits. */
interface Pause {
  readonly untilMs: number;
  readonly over: Promise<void>;
}

/** The budget of one connection in this process. */
export class InProcessApiBudget implements ApiBudget {
  readonly #bucket: TokenBucket;
  readonly #clock: Clock;
  readonly #sleep: Sleep;
  #pause: Pause | null = null;

  constructor(limits: { readonly requestsPerSecond: number }, deps: InProcessBudgetDeps) {
    this.#bucket = new TokenBucket({ ratePerSecond: limits.requestsPerSecond });
    this.#clock = deps.clock;
    this.#sleep = deps.sleep ?? sleep;
  }

  async take(signal?: AbortSignal): Promise<void> {
    // A longer pause may replace the one waited for while waiting; wait until none is left.
    for (let pause = this.#pause; pause !== null; pause = this.#pause) {
      await abortable(pause.over, signal);
    }
    await this.#bucket.take(signal);
  }

  pauseUntil(untilMs: number): Promise<void> {
    this.#bucket.drain();
    const current = this.#pause;
    const waitMs = untilMs - this.#clock.now();
    if (waitMs <= 0 || (current !== null && current.untilMs >= untilMs)) return Promise.resolve();
    // The wait is nobody's own: no caller's signal may cut it short for the others.
    const pause: Pause = {
      untilMs,
      over: this.#sleep(waitMs).then(() => {
        if (this.#pause === pause) this.#pause = null;
      }),
    };
    this.#pause = pause;
    return Promise.resolve();
  }
}

/** One {@link InProcessApiBudget} per connection name, for every connector of this process. */
export class InProcessApiBudgets implements ApiBudgets {
  readonly #deps: InProcessBudgetDeps;
  readonly #budgets = new Map<string, InProcessApiBudget>();

  constructor(deps: InProcessBudgetDeps) {
    this.#deps = deps;
  }

  forConnection(connection: string, limits: { readonly requestsPerSecond: number }): ApiBudget {
    let budget = this.#budgets.get(connection);
    if (budget === undefined) {
      budget = new InProcessApiBudget(limits, this.#deps);
      this.#budgets.set(connection, budget);
    }
    return budget;
  }
}
