/**
 * Retry delays: exponential backoff with jitter, shared by every queue adapter so that all backends retry
 * alike. Pure: the random source is passed in, so tests are deterministic.
 */

/** How failed jobs are spaced out. */
export interface BackoffPolicy {
  /** Delay after the first failed attempt, in milliseconds. */
  readonly baseMs: number;
  /** Upper bound of any delay, in milliseconds. */
  readonly maxMs: number;
  /**
   * Fraction of the delay that is randomised, 0..1. With 0.2 a 10 s delay becomes 8..12 s, so that jobs
   * that failed together (a vendor outage) do not all retry in the same second.
   */
  readonly jitter: number;
}

/** Defaults: 1 s, 2 s, 4 s, ... capped at 5 minutes, ±20 %. */
export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1_000, maxMs: 300_000, jitter: 0.2 };

/**
 * Delay before the next attempt after `attempt` attempts have failed (attempt >= 1).
 * `random` returns a number in [0, 1); pass Math.random in production.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number): number {
  const exponent = Math.max(0, attempt - 1);
  const raw = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(exponent, 52));
  const spread = raw * policy.jitter;
  return Math.max(0, Math.round(raw - spread + random() * 2 * spread));
}
