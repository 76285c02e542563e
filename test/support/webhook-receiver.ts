/**
 * A crmsync webhook receiver without `crmsync serve`: the real server (buildServer) on a SQLite store in a
 * temp folder, with one connection's connector, so that a simulator's real webhook deliveries are verified,
 * parsed and queued exactly as in production. Every webhook's outcome is recorded for the test to read.
 */
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { openSqliteBackend } from '../../src/adapters/sqlite/index.ts';
import { DEFAULTS } from '../../src/config/defaults.ts';
import type { Backend } from '../../src/ports/backend.ts';
import type { Clock } from '../../src/ports/clock.ts';
import type { Connector } from '../../src/ports/connector.ts';
import { buildServer } from '../../src/server/app.ts';
import { createMetrics } from '../../src/server/metrics.ts';
import type { WebhookOutcome } from '../../src/server/metrics.ts';
import { makeTempDir } from './temp-dir.ts';

/** What {@link startWebhookReceiver} serves. */
export interface WebhookReceiverOptions {
  /** The connection's name: its webhooks are received at `/webhooks/<connection>`. */
  readonly connection: string;
  readonly connector: Connector;
  /** The flows the connection feeds: each accepted event becomes one job per flow. */
  readonly flows: readonly string[];
  readonly clock: Clock;
}

/** A running receiver; close it after the test (it removes its temp folder). */
export interface WebhookReceiver {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** `${url}/webhooks/<connection>`, the target to register with the vendor. */
  readonly webhookUrl: string;
  /** The store and queue the webhooks land in. */
  readonly backend: Backend;
  /** The outcome of every webhook request, in the order they were answered. */
  readonly outcomes: WebhookOutcome[];
  /**
   * Swaps the connection's connector, as restarting `crmsync serve` with a new config would: the server
   * reads its connectors map at every request.
   */
  use(connector: Connector): void;
  close(): Promise<void>;
}

/** Starts a receiver on 127.0.0.1 with a free port. */
export async function startWebhookReceiver(options: WebhookReceiverOptions): Promise<WebhookReceiver> {
  const { connection, clock } = options;
  const temp = makeTempDir('crmsync-receiver-');
  const backend = openSqliteBackend({ path: `${temp.path}/crmsync.db`, durability: 'process', clock });
  const outcomes: WebhookOutcome[] = [];
  const base = createMetrics(backend.queue, { processMetrics: false });
  const metrics = {
    ...base,
    countWebhook: (name: string, outcome: WebhookOutcome) => {
      outcomes.push(outcome);
      base.countWebhook(name, outcome);
    },
  };
  const connectors = new Map<string, Connector>([[connection, options.connector]]);
  const app: FastifyInstance = await buildServer({
    connectors,
    routes: new Map([[connection, options.flows]]),
    backend,
    metrics,
    logger: pino({ level: 'silent' }),
    clock,
    bodyLimitBytes: 1_048_576,
    timeouts: DEFAULTS.server.timeouts,
    ingest: { maxBatch: 64, maxWaitMs: 0 },
    host: '127.0.0.1',
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  return {
    url,
    webhookUrl: `${url}/webhooks/${connection}`,
    backend,
    outcomes,
    use: (connector) => connectors.set(connection, connector),
    close: async () => {
      await app.close();
      await backend.close();
      temp.remove();
    },
  };
}
