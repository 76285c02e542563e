/**
 * The abort signal of the port call a connector is working for, carried through async calls. The Connector
 * port takes a signal explicitly (`read(type, id, { signal })`); inside a connector it would have to be threaded
 * through every endpoint function down to the HTTP client. Instead the connector's port method runs its work
 * inside {@link withCallSignal}, and the shared vendor HTTP client reads {@link currentCallSignal} for every
 * request, its rate-limit waits and its backoff sleeps.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const storage = new AsyncLocalStorage<AbortSignal>();

/** Runs `work` so that every vendor call it makes, however deep, is aborted with `signal`. */
export function withCallSignal<T>(signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
  return signal === undefined ? work() : storage.run(signal, work);
}

/** The signal of the port call the caller works for, if any. */
export function currentCallSignal(): AbortSignal | undefined {
  return storage.getStore();
}

/** Runs `work` outside any call's signal: for a fetch shared by many calls, which no one call may stop. */
export function withoutCallSignal<T>(work: () => Promise<T>): Promise<T> {
  return storage.exit(work);
}
