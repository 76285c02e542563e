/**
 * The admin routes every simulator has in the same form: `GET/POST/DELETE /_sim/faults` and
 * `GET/DELETE /_sim/requests` (with `GET /_sim/requests/log`). A bad fault setting is answered through the simulator's own 400
 * (`badRequest`), so the answer has the vendor's error shape like every other admin error.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { faultSettingsSchema } from './faults.ts';
import type { FaultInjector } from './faults.ts';
import type { RequestStats } from './request-stats.ts';

/** Builds the error a simulator answers a bad request with (thrown by the route). */
export type BadRequestFactory = (message: string) => Error;

/**
 * `GET /_sim/faults` (the active faults), `POST /_sim/faults` (replace them; an empty body switches them
 * off) and `DELETE /_sim/faults` (switch them off).
 */
export function registerFaultRoutes(
  app: FastifyInstance,
  faults: FaultInjector,
  badRequest: BadRequestFactory,
): void {
  app.get('/_sim/faults', () => faults.settings);
  app.post('/_sim/faults', (request) => {
    const parsed = faultSettingsSchema.safeParse(request.body ?? {});
    if (!parsed.success) throw badRequest(`POST /_sim/faults: ${z.prettifyError(parsed.error)}`);
    faults.set(parsed.data);
    return { ok: true, faults: faults.settings };
  });
  app.delete('/_sim/faults', () => {
    faults.clear();
    return { ok: true };
  });
}

/**
 * `GET /_sim/requests` (counts per route template and status), `GET /_sim/requests/log` (the latest requests
 * with their arrival times) and `DELETE /_sim/requests` (start over).
 */
export function registerRequestCountRoutes(app: FastifyInstance, stats: RequestStats): void {
  app.get('/_sim/requests', () => stats.toJSON());
  app.get('/_sim/requests/log', () => ({ requests: stats.log() }));
  app.delete('/_sim/requests', () => {
    stats.clear();
    return { ok: true };
  });
}
