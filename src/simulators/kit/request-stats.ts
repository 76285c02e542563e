/**
 * Request accounting of a simulator (`GET /_sim/requests`): counts per route template and answered status,
 * so a test can see which endpoints a client called and how often, without a mock. Status 0 counts the
 * requests a simulated timeout or dropped answer left unanswered. `GET /_sim/requests/log` lists the latest
 * requests with the time each arrived, so a test can see when calls reached the vendor (e.g. none during a
 * Retry-After) from the vendor's side.
 */

/** How many requests the log keeps (the oldest go first). */
const LOG_LIMIT = 10_000;

/** One request of `GET /_sim/requests/log`. */
export interface LoggedRequest {
  /** When it arrived, epoch ms with a fraction (the simulator's real time, not its simulated clock). */
  readonly receivedAt: number;
  readonly route: string;
  /** The answered status; 0 when it was dropped unanswered. */
  readonly status: number;
}

/** What `GET /_sim/requests` answers: `{total, routes: {"GET /api/v1/Account/:id": {"200": 3}}}`. */
export interface RequestCounts {
  readonly total: number;
  readonly routes: Record<string, Record<string, number>>;
}

/** Counts of requests per route template and status. */
export class RequestStats {
  readonly #counts = new Map<string, Map<number, number>>();
  readonly #log: LoggedRequest[] = [];

  /** Counts one request of `route` answered with `status` (0: dropped unanswered) and logs it. */
  record(
    route: string,
    status: number,
    receivedAt: number = performance.timeOrigin + performance.now(),
  ): void {
    const byStatus = this.#counts.get(route) ?? new Map<number, number>();
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
    this.#counts.set(route, byStatus);
    this.#log.push({ receivedAt, route, status });
    if (this.#log.length > LOG_LIMIT) this.#log.splice(0, this.#log.length - LOG_LIMIT);
  }

  /** The logged requests in the order they arrived. */
  log(): LoggedRequest[] {
    return [...this.#log].sort((a, b) => a.receivedAt - b.receivedAt);
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

  /** Forgets every count and the log. */
  clear(): void {
    this.#counts.clear();
    this.#log.length = 0;
  }
}
