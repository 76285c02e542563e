/**
 * A real server for the HTTP tests: buildServer over a real SQLite backend in a temp dir, listening on a
 * loopback port, with generic connections. The queue is wrapped so tests can count group commits and make
 * them fail.
 */
import { pino } from 'pino';
import { openSqliteBackend } from '../../src/adapters/sqlite/index.ts';
import { DEFAULTS } from '../../src/config/defaults.ts';
import {
  genericConnector,
  genericOptionsSchema,
  signGenericWebhook,
} from '../../src/connectors/generic/index.ts';
import type { Backend } from '../../src/ports/backend.ts';
import { systemClock } from '../../src/ports/clock.ts';
import type { Connector } from '../../src/ports/connector.ts';
import type { Queue } from '../../src/ports/queue.ts';
import { buildServer } from '../../src/server/app.ts';
import type { ServerOptions } from '../../src/server/app.ts';
import { createMetrics } from '../../src/server/metrics.ts';
import type { Metrics } from '../../src/server/metrics.ts';
import { makeTempDir } from '../support/temp-dir.ts';

export const SECRET = 'server-test-secret-0123456789';

/**
 * Connections of the test server: `source` feeds flow `sync`, `fanout` feeds two flows, `lonely` feeds none.
 */
export const ROUTES: ReadonlyMap<string, readonly string[]> = new Map([
  ['source', ['sync']],
  ['fanout', ['sync', 'enrich']],
  ['lonely', []],
]);

/** A queue whose `enqueueMany` calls are counted and can be made to fail. Everything else delegates. */
export interface InstrumentedQueue extends Queue {
  enqueueManyCalls: number;
  failCommits: boolean;
}

function instrument(queue: Queue): InstrumentedQueue {
  const state = { enqueueManyCalls: 0, failCommits: false };
  const enqueueMany: Queue['enqueueMany'] = async (inputs) => {
    state.enqueueManyCalls += 1;
    if (state.failCommits) throw new Error('simulated storage failure');
    return queue.enqueueMany(inputs);
  };
  // A Proxy rather than a prototype trick: adapter methods may use private fields and need `this` = queue.
  return new Proxy(queue, {
    get(target, property) {
      if (property === 'enqueueMany') return enqueueMany;
      if (property in state) return state[property as keyof typeof state];
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
    set(_target, property, value) {
      if (!(property in state)) return false;
      (state as Record<string, unknown>)[property as string] = value;
      return true;
    },
  }) as InstrumentedQueue;
}

/** A running test server. */
export interface TestServer {
  readonly url: string;
  readonly backend: Backend;
  /** The real queue, instrumented; the server writes through it. */
  readonly queue: InstrumentedQueue;
  readonly metrics: Metrics;
  /** POSTs a signed JSON webhook to `/webhooks/<connection>`. `body` is sent as is when it is a string. */
  webhook(connection: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  /** Closes the server, the backend and the temp dir. */
  close(): Promise<void>;
}

/** Signs `body` (serialised once; the same bytes are sent) for the generic connector. */
export function signed(body: unknown): { body: string; headers: Record<string, string> } {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return {
    body: text,
    headers: { 'content-type': 'application/json', 'x-crmsync-signature': signGenericWebhook(SECRET, text) },
  };
}

/** Starts a server; `overrides` replace the defaults of buildServer's options. */
export async function startTestServer(
  overrides: Partial<
    Pick<ServerOptions, 'routes' | 'ingest' | 'token' | 'host' | 'bodyLimitBytes' | 'logger' | 'timeouts'>
  > & {
    /** Connectors by connection, in place of the generic one (the connection must be in `routes`). */
    connectors?: (context: { backend: Backend; metrics: Metrics }) => ReadonlyMap<string, Connector>;
  } = {},
): Promise<TestServer> {
  const temp = makeTempDir('crmsync-server-');
  const backend = openSqliteBackend({ path: `${temp.path}/crmsync.db`, durability: 'process' });
  const queue = instrument(backend.queue);
  const metrics = createMetrics(queue, { processMetrics: false });
  const logger = overrides.logger ?? pino({ level: 'silent' });
  const routes = overrides.routes ?? ROUTES;
  const connectors = new Map<string, Connector>();
  for (const connection of routes.keys()) {
    connectors.set(
      connection,
      genericConnector.create({
        connection,
        options: genericOptionsSchema.parse({ secret: SECRET }),
        clock: systemClock,
        logger,
        apiCalls: metrics,
        state: backend.store.connectorState,
      }),
    );
  }
  for (const [connection, connector] of overrides.connectors?.({ backend, metrics }) ?? [])
    connectors.set(connection, connector);
  const app = await buildServer({
    connectors,
    routes,
    backend: {
      store: backend.store,
      queue,
      locks: backend.locks,
      attempts: backend.attempts,
      close: () => backend.close(),
    },
    metrics,
    logger,
    clock: systemClock,
    bodyLimitBytes: overrides.bodyLimitBytes ?? 1_048_576,
    timeouts: overrides.timeouts ?? DEFAULTS.server.timeouts,
    ingest: overrides.ingest ?? { maxBatch: 512, maxWaitMs: 2 },
    token: overrides.token,
    host: overrides.host ?? '127.0.0.1',
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  return {
    url,
    backend,
    queue,
    metrics,
    webhook: (connection, body, headers = {}) => {
      const request = signed(body);
      return fetch(`${url}/webhooks/${connection}`, {
        method: 'POST',
        body: request.body,
        headers: { ...request.headers, ...headers },
      });
    },
    close: async () => {
      await app.close();
      await backend.close();
      temp.remove();
    },
  };
}
