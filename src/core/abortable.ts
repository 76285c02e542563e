/**
 * Waiting for shared work with one caller's abort signal. Some results are fetched once for many callers (a
 * cached list, a discovered id); tying the fetch to one caller's signal would fail every other caller when
 * that one stops. Each caller waits with its own signal instead, and the fetch goes on for the others.
 */

/** Resolves or rejects as `work` does, or rejects at once with `signal`'s reason when it aborts first. */
export function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  const { promise: aborted, reject } = Promise.withResolvers<never>();
  const onAbort = () => reject(signal.reason as Error);
  signal.addEventListener('abort', onAbort, { once: true });
  return Promise.race([work, aborted]).finally(() => signal.removeEventListener('abort', onAbort));
}
