/**
 * What happens to every request outside the admin API around its route: the switchable faults before it (and
 * a dropped answer after it), and the count per route template, with the arrival time, once it is answered. The admin API under `/_sim/` is never faulted nor
 * counted, so a test can always reach it. How a request is named (`GET /{ctx}/api/v1/Contact/:id`,
 * `GET /api/v1/Account/:id`) is the simulator's choice, passed in as `routeOf`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
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
  const { faults, stats } = options;
  const receivedAt = new WeakMap<FastifyRequest, number>();
  const answerDropped = new WeakSet<FastifyRequest>();
  const unanswered = (request: FastifyRequest, reply: FastifyReply, route: string) => {
    // Nothing more is sent for this request; it is counted with status 0 ("dropped, never answered").
    void reply.hijack();
    reply.raw.destroy();
    stats.record(route, 0, receivedAt.get(request));
  };
  app.addHook('onRequest', async (request, reply) => {
    if (isSimAdminRequest(request)) return;
    receivedAt.set(request, performance.timeOrigin + performance.now());
    const route = routeOf(request);
    await faults.apply(route, () => unanswered(request, reply, route));
    if (faults.dropsAnswer(route)) answerDropped.add(request);
  });
  app.addHook('onSend', async (request, reply, payload) => {
    // The route has run and its effect stays; only its answer is lost.
    if (answerDropped.has(request)) unanswered(request, reply, routeOf(request));
    return payload;
  });
  app.addHook('onResponse', (request, reply, done) => {
    if (!isSimAdminRequest(request)) {
      stats.record(routeOf(request), reply.statusCode, receivedAt.get(request));
    }
    done();
  });
}
