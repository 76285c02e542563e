/**
 * The HTTP server: webhook ingest, health and metrics (and, later, the control API and the dashboard).
 * Built by {@link buildServer}; the caller listens and closes. Closing flushes the ingest batcher, so
 * every webhook that was being stored is committed before the caller closes the backend.
 */
import { LogController, fastify } from 'fastify';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Logger as PinoLogger } from 'pino';
import type { Backend } from '../ports/backend.ts';
import type { Clock } from '../ports/clock.ts';
import type { Connector } from '../ports/connector.ts';
import { bearerAuth } from './auth.ts';
import { answerClientError, installErrorHandlers } from './errors.ts';
import { IngestBatcher } from './ingest-batcher.ts';
import type { IngestSettings } from './ingest-batcher.ts';
import type { Metrics } from './metrics.ts';
import { registerOperationsRoutes } from './operations.ts';
import { registerWebhookRoutes } from './webhooks.ts';

export { bearerAuth } from './auth.ts';
export type { BearerAuthOptions } from './auth.ts';
export type { ErrorBody } from './errors.ts';
export type { IngestSettings } from './ingest-batcher.ts';
export type { WebhookSummary } from './webhooks.ts';

/** How long a client may take, in milliseconds; a connection that takes longer is answered 408 and closed. */
export interface ServerTimeouts {
  /** A request's line and headers must arrive within this, on a new or a kept-alive connection. */
  readonly headersMs: number;
  /** The whole request, body included, must arrive within this (at least headersMs). */
  readonly requestMs: number;
  /** An idle kept-alive connection is closed after this. */
  readonly keepAliveMs: number;
}

/** Everything the server needs. */
export interface ServerOptions {
  /** Connectors by connection name. */
  readonly connectors: ReadonlyMap<string, Connector>;
  /** Connection name -> names of the flows its change events feed. */
  readonly routes: ReadonlyMap<string, readonly string[]>;
  readonly backend: Backend;
  readonly metrics: Metrics;
  /** A pino logger: fastify logs through it (with secret headers redacted). */
  readonly logger: PinoLogger;
  readonly clock: Clock;
  /** Largest webhook body; larger ones are answered 413. */
  readonly bodyLimitBytes: number;
  /** How long a client may take (config `server.timeouts`). */
  readonly timeouts: ServerTimeouts;
  /** Group commit settings of webhook ingest. */
  readonly ingest: IngestSettings;
  /** Bearer token for operator routes; not needed when `host` is loopback. */
  readonly token?: string | undefined;
  /** The address the server will listen on (decides whether operator routes need the token). */
  readonly host: string;
}

/**
 * Headers never written to the log, whoever logs a request: credentials and vendors' webhook signatures or
 * shared tokens (add a connector's header here with the connector).
 */
const SECRET_HEADERS = [
  'authorization',
  'cookie',
  'x-crmsync-signature',
  'x-superoffice-signature',
  'x-webhook-token',
  'signature',
  'x-signature',
  'x-advoware-signature',
  'x-api-key',
  'x-hmac-authorization',
  'espo-authorization',
];
const REDACTED_PATHS = SECRET_HEADERS.flatMap((header) => [
  `req.headers["${header}"]`,
  `headers["${header}"]`,
]);

/**
 * The fastify settings of the server apart from its logger: request logging, body limit, timeouts, the answer
 * to malformed requests. bench/bare-server.ts builds its ceiling with them too.
 */
export function serverSettings(options: Pick<ServerOptions, 'bodyLimitBytes' | 'timeouts'>) {
  return {
    // One log line per request would cost more than the ingest itself; errors are logged where they happen.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimitBytes,
    keepAliveTimeout: options.timeouts.keepAliveMs,
    requestTimeout: options.timeouts.requestMs,
    http: {
      headersTimeout: options.timeouts.headersMs,
      requestTimeout: options.timeouts.requestMs,
      // Node enforces the two timeouts above only when it checks its connections (every 30 s by default).
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(options.timeouts.headersMs / 4))),
    },
    clientErrorHandler: answerClientError,
  };
}

/** Builds the fastify app (routes registered, not listening yet). */
export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const logger: FastifyBaseLogger = options.logger.child(
    { component: 'server' },
    { redact: { paths: REDACTED_PATHS, censor: '***' } },
  );
  const app = fastify({ loggerInstance: logger, ...serverSettings(options) });
  installErrorHandlers(app);

  const batcher = new IngestBatcher({
    queue: options.backend.queue,
    settings: options.ingest,
    logger,
    onCommit: (inputs) => options.metrics.observeIngestBatch(inputs),
  });
  // preClose runs before fastify waits for in-flight requests, which may be waiting for the next commit.
  app.addHook('preClose', async () => batcher.close());
  app.addHook('onClose', async () => batcher.close());

  await registerWebhookRoutes(app, {
    connectors: options.connectors,
    routes: options.routes,
    batcher,
    metrics: options.metrics,
    clock: options.clock,
    bodyLimitBytes: options.bodyLimitBytes,
  });
  registerOperationsRoutes(app, {
    store: options.backend.store,
    metrics: options.metrics,
    ...(options.token !== undefined && {
      metricsAuth: bearerAuth({ token: options.token, host: options.host }),
    }),
  });
  return app;
}
