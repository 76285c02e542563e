/**
 * Request budget per connection: a token bucket in front of every vendor call (`Retry-After` parsing is in
 * core/retry-after.ts). The bucket runs on a monotonic time source, not the engine's Clock, because it really
 * waits (a manual test clock would never refill it).
 */

/** A token bucket: `ratePerSecond` tokens a second, bursts up to `burst`. */
export class TokenBucket {
  readonly #ratePerMs: number;
  readonly #burst: number;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  #tokens: number;
  #updatedAt: number;
  /** Waiters queue on this chain so that tokens are handed out in arrival order. */
  #tail: Promise<void> = Promise.resolve();

  constructor(options: {
    ratePerSecond: number;
    burst?: number;
    now?: () => number;
    sleep?: (ms: number) => Promise<void>;
  }) {
    this.#ratePerMs = options.ratePerSecond / 1_000;
    this.#burst = Math.max(1, options.burst ?? Math.ceil(options.ratePerSecond));
    this.#now = options.now ?? (() => performance.now());
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#tokens = this.#burst;
    this.#updatedAt = this.#now();
  }

  /** Resolves when a token is available and takes it. */
  take(): Promise<void> {
    const turn = this.#tail.then(() => this.#takeInTurn());
    this.#tail = turn.catch(() => {});
    return turn;
  }

  /** Empties the bucket, e.g. after a 429: the vendor says we are over budget whatever our count says. */
  drain(): void {
    this.#refill();
    this.#tokens = Math.min(this.#tokens, 0);
  }

  async #takeInTurn(): Promise<void> {
    for (;;) {
      this.#refill();
      if (this.#tokens >= 1) {
        this.#tokens -= 1;
        return;
      }
      await this.#sleep(Math.ceil((1 - this.#tokens) / this.#ratePerMs));
    }
  }

  #refill(): void {
    const now = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#updatedAt) * this.#ratePerMs);
    this.#updatedAt = now;
  }
}
