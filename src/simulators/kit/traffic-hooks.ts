/**
 * What happens to every request outside the admin API before it reaches its route: the switchable faults,
 * and the count per route template once it is answered. The admin API under `/_sim/` is never faulted nor
 * counted, so a test can always reach it. How a request is named (`GET /{ctx}/api/v1/Contact/:id`,
 * `GET /api/v1/Account/:id`) is the simulator's choice, passed in as `routeOf`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { FaultInjector } from './faults.ts';
import type { RequestStats } from './request-stats.ts';

/** The prefix of every simulator's admin API. */
export const SIM_ADMIN_PREFIX = '/_sim/';

/** Whether `request` is a call of the admin API. */
export function isSimAdminRequest(request: FastifyRequest): boolean {
  return request.url.startsWith(SIM_ADMIN_PREFIX);
}

/** `METHOD /route/template` of a request (`(unmatched)` for a path no route serves). */
export function requestRoute(request: FastifyRequest): string {
  return `${request.method} ${request.routeOptions.url ?? '(unmatched)'}`;
}

/** What {@link installFaultsAndStats} needs. */
export interface FaultsAndStatsOptions {
  readonly faults: FaultInjector;
  readonly stats: RequestStats;
  /** Names a request in fault rules and counts; default {@link requestRoute}. */
  readonly routeOf?: (request: FastifyRequest) => string;
}

/**
 * Installs fault injection (an `onRequest` hook: hooks added later, such as authentication, run after a
 * simulated fault, as behind a throttling proxy) and request counting on every route outside `/_sim/`.
 */
export function installFaultsAndStats(app: FastifyInstance, options: FaultsAndStatsOptions): void {
  const routeOf = options.routeOf ?? requestRoute;
  app.addHook('onRequest', async (request, reply) => {
    if (isSimAdminRequest(request)) return;
    const route = routeOf(request);
    await options.faults.apply(route, () => {
      // Nothing more runs for this request; it is counted with status 0 ("dropped, never answered").
      void reply.hijack();
      reply.raw.destroy();
      options.stats.record(route, 0);
    });
  });
  app.addHook('onResponse', (request, reply, done) => {
    if (!isSimAdminRequest(request)) options.stats.record(routeOf(request), reply.statusCode);
    done();
  });
}
