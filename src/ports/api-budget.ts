/**
 * The request budget of a vendor connection (DESIGN.md lesson 8: the vendor API budget is the bottleneck).
 * Every call of the shared vendor HTTP client takes a token first; a 429 (or a 503 with `Retry-After`) pauses
 * the whole connection, so that every caller waits out the vendor's time, not only the call that was told.
 *
 * The in-process implementation (src/connectors/shared/api-budget.ts: a token bucket and a pause per
 * connection) makes the budget shared by every worker of one process. A Redis implementation (a shared bucket
 * and a pause key per connection) makes it global across instances without changing any caller: times are
 * epoch milliseconds for that reason, so that instances agree on when a pause ends.
 */

/** The budget of one connection. */
export interface ApiBudget {
  /**
   * Resolves when the caller may send one request: once a pause of the connection is over, with one token
   * taken. Rejects with the signal's reason as soon as `signal` aborts, and then takes no token.
   */
  take(signal?: AbortSignal): Promise<void>;

  /**
   * Pauses every caller of the connection until `untilMs` (epoch ms): callers already waiting and callers that
   * come later wait until then. A pause never shortens one that ends later. Also drains the tokens: the vendor
   * says the connection is over its budget, whatever the local count says.
   */
  pauseUntil(untilMs: number): Promise<void>;
}

/** Hands out the budget of each connection; one per process (or one shared store across instances). */
export interface ApiBudgets {
  /**
   * The budget of `connection`; the same budget for every call with the same connection name, at the rate
   * given by the first call (the connection's `requestsPerSecond` option).
   */
  forConnection(connection: string, limits: { readonly requestsPerSecond: number }): ApiBudget;
}
