/**
 * The token bucket of a connection's request budget (./api-budget.ts puts it behind the ApiBudget port, with
 * the pause a 429 sets). The bucket runs on a monotonic time source, not the engine's Clock, because it really
 * waits (a manual test clock would never refill it).
 */
import { abortable, sleep } from './abortable.ts';
import type { Sleep } from './abortable.ts';

/** A token bucket: `ratePerSecond` tokens a second, bursts up to `burst`. */
export class TokenBucket {
  readonly #ratePerMs: number;
  readonly #burst: number;
  readonly #now: () => number;
  readonly #sleep: Sleep;
  #tokens: number;
  #updatedAt: number;
  /** Waiters queue on this chain so that tokens are handed out in arrival order. */
  #tail: Promise<void> = Promise.resolve();

  constructor(options: { ratePerSecond: number; burst?: number; now?: () => number; sleep?: Sleep }) {
    this.#ratePerMs = options.ratePerSecond / 1_000;
    this.#burst = Math.max(1, options.burst ?? Math.ceil(options.ratePerSecond));
    this.#now = options.now ?? (() => performance.now());
    this.#sleep = options.sleep ?? sleep;
    this.#tokens = this.#burst;
    this.#updatedAt = this.#now();
  }

  /**
   * Resolves when a token is available and takes it. An abort rejects at once with the signal's reason, and
   * the aborted caller takes no token when its turn comes.
   */
  take(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted === true) return Promise.reject(signal.reason as Error);
    const turn = this.#tail.then(() => this.#takeInTurn(signal));
    this.#tail = turn.catch(() => {});
    return abortable(turn, signal);
  }

  /** Empties the bucket, e.g. after a 429: the vendor says we are over budget whatever our count says. */
  drain(): void {
    this.#refill();
    this.#tokens = Math.min(this.#tokens, 0);
  }

  async #takeInTurn(signal: AbortSignal | undefined): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      this.#refill();
      if (this.#tokens >= 1) {
        this.#tokens -= 1;
        return;
      }
      await this.#sleep(Math.ceil((1 - this.#tokens) / this.#ratePerMs), signal);
    }
  }

  #refill(): void {
    const now = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#updatedAt) * this.#ratePerMs);
    this.#updatedAt = now;
  }
}
