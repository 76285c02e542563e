/** Options of every port call that may be slow (it talks to the vendor). */
export interface CallOptions {
  /**
   * Aborts the call: its HTTP requests, rate-limit waits and retry sleeps stop and the call rejects with the
   * signal's reason. Runs pass their run signal, which aborts when the lease is lost or the worker stops.
   */
  readonly signal?: AbortSignal;
}
