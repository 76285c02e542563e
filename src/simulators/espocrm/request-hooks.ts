/**
 * Hooks around every request of the API (not the admin API): the simulator kit's fault injection and
 * request counting, with route templates that name the entity type (`GET /api/v1/Account/:id`), and
 * authentication of `/api/v1` requests.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { installFaultsAndStats, requestRoute } from '../kit/index.ts';
import type { FaultInjector, RequestStats } from '../kit/index.ts';
import { authenticateRequest } from './auth.ts';
import type { AuthContext } from './auth.ts';
import { isEntityType } from './entity-defs.ts';

/** `METHOD /route/template`, with a simulated entity type written out (other values stay `:entityType`). */
function routeTemplate(request: FastifyRequest): string {
  const route = requestRoute(request);
  const entityType = (request.params as Record<string, string | undefined> | undefined)?.entityType;
  return entityType !== undefined && isEntityType(entityType)
    ? route.replace(':entityType', entityType)
    : route;
}

/** Installs faults, counting and authentication, in that order (a throttling proxy answers before the app). */
export function installRequestHooks(
  app: FastifyInstance,
  options: { faults: FaultInjector; stats: RequestStats; auth: AuthContext },
): void {
  installFaultsAndStats(app, { faults: options.faults, stats: options.stats, routeOf: routeTemplate });
  app.addHook('onRequest', (request, reply, done) => {
    if (!request.url.startsWith('/api/v1/') || reply.raw.destroyed) return done();
    try {
      authenticateRequest(request, options.auth);
      done();
    } catch (error) {
      done(error as Error);
    }
  });
}
