/**
 * Waits for asynchronous work in tests by polling a condition until a deadline, instead of sleeping a fixed
 * time (which is either too short on a busy CI machine or wastes time everywhere else).
 */

/** Options of {@link eventually}. */
export interface EventuallyOptions {
  /** Give up after this long (default 5 s). */
  readonly timeoutMs?: number;
  /** Pause between attempts (default 10 ms). */
  readonly intervalMs?: number;
}

/**
 * Calls `check` until it returns a value other than `false`, `null` or `undefined` without throwing, and
 * returns that value. Assertion errors are retried too, so `check` may simply assert. After the timeout it
 * throws the last error (or a timeout error), so the test fails with the reason it was still waiting for.
 */
export async function eventually<T>(
  check: () => T | Promise<T>,
  options: EventuallyOptions = {},
): Promise<Exclude<T, false | null | undefined>> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const intervalMs = options.intervalMs ?? 10;
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== false && value !== null && value !== undefined)
        return value as Exclude<T, false | null | undefined>;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (performance.now() >= deadline) {
      if (lastError instanceof Error) throw lastError;
      throw new Error(`eventually: condition still false after ${timeoutMs} ms`, { cause: lastError });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
