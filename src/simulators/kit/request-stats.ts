/**
 * Request accounting of a simulator (`GET /_sim/requests`): counts per route template and answered status,
 * so a test can see which endpoints a client called and how often, without a mock. Status 0 counts the
 * requests a simulated timeout dropped unanswered.
 */

/** What `GET /_sim/requests` answers: `{total, routes: {"GET /api/v1/Account/:id": {"200": 3}}}`. */
export interface RequestCounts {
  readonly total: number;
  readonly routes: Record<string, Record<string, number>>;
}

/** Counts of requests per route template and status. */
export class RequestStats {
  readonly #counts = new Map<string, Map<number, number>>();

  /** Counts one request of `route` answered with `status` (0: dropped unanswered). */
  record(route: string, status: number): void {
    const byStatus = this.#counts.get(route) ?? new Map<number, number>();
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
    this.#counts.set(route, byStatus);
  }

  /** The counts, routes sorted by name. */
  toJSON(): RequestCounts {
    let total = 0;
    const routes: Record<string, Record<string, number>> = {};
    for (const [route, byStatus] of [...this.#counts].sort(([a], [b]) => a.localeCompare(b))) {
      routes[route] = {};
      for (const [status, count] of byStatus) {
        routes[route][String(status)] = count;
        total += count;
      }
    }
    return { total, routes };
  }

  /** Forgets every count. */
  clear(): void {
    this.#counts.clear();
  }
}
