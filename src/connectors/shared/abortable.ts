/**
 * Waits of the vendor clients (budget, Retry-After, backoff) that the call's abort signal cuts short, so that
 * an aborted call stops at once with the signal's reason instead of waiting out its time.
 */
import { setTimeout as delay } from 'node:timers/promises';

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. Tests inject recorded ones. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** The real {@link Sleep}, on a timer. */
export const sleep: Sleep = async (ms, signal) => {
  try {
    await delay(ms, undefined, signal === undefined ? {} : { signal });
  } catch (error) {
    // timers/promises rejects with its own AbortError; the caller's reason is what the call must end with.
    if (signal?.aborted === true) throw signal.reason;
    throw error;
  }
};

/**
 * `work`, or a rejection with the signal's reason as soon as it aborts, whichever comes first. The listener
 * is removed once `work` settles, so a long-lived run signal does not collect one per call.
 */
export function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
