/**
 * Routes for operators and orchestrators: liveness (`/healthz`), readiness (`/readyz`: the store answers) and
 * Prometheus metrics (`/metrics`, behind the bearer token when one is configured).
 */
import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import { describeError } from '../core/errors.ts';
import type { Store } from '../ports/store.ts';
import { errorBody } from './errors.ts';
import type { Metrics } from './metrics.ts';

/** What the operations routes need. */
export interface OperationsRoutesOptions {
  readonly store: Pick<Store, 'ping'>;
  readonly metrics: Metrics;
  /** Guards /metrics; absent leaves it open. */
  readonly metricsAuth?: onRequestHookHandler;
}

/** Registers /healthz, /readyz and /metrics. */
export function registerOperationsRoutes(app: FastifyInstance, options: OperationsRoutesOptions): void {
  const { store, metrics } = options;

  // Alive means "the event loop answers"; it deliberately ignores the store so that an orchestrator does not
  // restart a healthy process during a storage outage.
  app.get('/healthz', (_request, reply) => reply.send({ status: 'ok' }));

  app.get('/readyz', async (request, reply) => {
    try {
      await store.ping();
      return { status: 'ready' };
    } catch (error) {
      // The details (file paths, hosts) go to the log only: this route is open.
      request.log.warn({ err: error }, 'readiness check failed: store unreachable');
      const { code } = describeError(error);
      return reply
        .code(503)
        .send(errorBody('STORAGE_UNAVAILABLE', `Store unreachable (${code}); see the server log.`));
    }
  });

  app.get(
    '/metrics',
    { ...(options.metricsAuth && { onRequest: options.metricsAuth }) },
    async (_request, reply) => {
      const text = await metrics.registry.metrics();
      return reply.type(metrics.registry.contentType).send(text);
    },
  );
}
