/**
 * The composition root: builds a running crmsync from a validated config. Opens the backend, creates one
 * connector per connection, registers one handler per flow, and starts the HTTP server, the worker pool and
 * the scheduler. `stop()` shuts them down in the order that loses nothing: stop accepting webhooks (the
 * ingest batcher flushes), stop taking jobs (in-flight ones finish or are released), stop the scheduler,
 * close the backend.
 */
import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import type { Logger as PinoLogger } from 'pino';
import { openBackend } from '../adapters/index.ts';
import { InProcessApiBudgets } from '../connectors/shared/api-budget.ts';
import { configFolder } from '../config/index.ts';
import type { Config } from '../config/index.ts';
import { HandlerRegistry } from '../engine/handlers.ts';
import { retentionTask } from '../engine/retention.ts';
import { Scheduler } from '../engine/scheduler.ts';
import type { ScheduleDefinition } from '../engine/scheduler.ts';
import { WorkerPool } from '../engine/worker-pool.ts';
import type { Backend } from '../ports/backend.ts';
import type { Clock } from '../ports/clock.ts';
import type { ApiCallRecorder, Connector } from '../ports/connector.ts';
import type { Logger } from '../ports/logger.ts';
import type { Queue } from '../ports/queue.ts';
import { buildServer } from '../server/app.ts';
import { DEAD_LETTER_FLOW, deadLetterHandler } from '../server/dead-letters.ts';
import { createMetrics } from '../server/metrics.ts';
import { connectorFactories, flowTypes } from './registry.ts';
import { countApiCallInCurrentRun } from '../engine/run-scope.ts';

/** A running instance. */
export interface RunningApp {
  /** Base URL the server listens on. */
  readonly url: string;
  readonly backend: Backend;
  readonly server: FastifyInstance;
  /** Graceful shutdown; resolves when everything is closed. Safe to call twice. */
  stop(): Promise<void>;
}

/** What the app needs besides the config. */
export interface AppDependencies {
  readonly clock: Clock;
  /** A pino logger (the server needs pino itself for its request logging). */
  readonly logger: PinoLogger;
  /** False runs ingest only (no worker pool): for ingest-only instances and the ingest benchmark. */
  readonly workers?: boolean;
}

/**
 * Creates one connector per configured connection. They share the process's API budgets, so that every
 * caller of one connection (all workers) takes from one token bucket and waits out one 429 pause.
 */
export function createConnectors(
  config: Pick<Config, 'connections'>,
  deps: { backend: Backend; clock: Clock; logger: Logger; apiCalls: ApiCallRecorder },
): Map<string, Connector> {
  const connectors = new Map<string, Connector>();
  const apiBudgets = new InProcessApiBudgets({ clock: deps.clock });
  for (const connection of config.connections.values()) {
    const factory = connectorFactories.get(connection.connector);
    // validateConfig rejected unknown connector kinds already.
    if (factory === undefined) throw new Error(`unknown connector ${connection.connector}`);
    connectors.set(
      connection.name,
      factory.create({
        connection: connection.name,
        options: connection.options,
        clock: deps.clock,
        logger: deps.logger.child({ connection: connection.name }),
        apiCalls: deps.apiCalls,
        state: deps.backend.store.connectorState,
        apiBudgets,
      }),
    );
  }
  return connectors;
}

/** Connection name -> names of the flows its change events feed. */
export function routeConnections(config: Pick<Config, 'connections' | 'flows'>): Map<string, string[]> {
  const routes = new Map<string, string[]>([...config.connections.keys()].map((name) => [name, []]));
  for (const flow of config.flows.values()) {
    for (const connection of flow.connections) routes.get(connection)?.push(flow.name);
  }
  return routes;
}

/** A connection's `requestsPerSecond` option (validated by its connector's schema), if it sets one. */
export function configuredRate(config: Pick<Config, 'connections'>, connection: string): number | undefined {
  const options = config.connections.get(connection)?.options;
  const rate =
    typeof options === 'object' && options !== null
      ? (options as Record<string, unknown>).requestsPerSecond
      : undefined;
  return typeof rate === 'number' ? rate : undefined;
}

/** Wraps a queue so that every successful enqueue wakes idle workers at once instead of at their next poll. */
function wakingQueue(queue: Queue, wake: () => void): Queue {
  return new Proxy(queue, {
    get(target, property) {
      if (property === 'enqueue' || property === 'enqueueMany') {
        return async (...args: [never]) => {
          const result: unknown = await (target[property] as (...inputs: [never]) => Promise<unknown>).apply(
            target,
            args,
          );
          wake();
          return result;
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      // Bind, so that methods using private fields run with the real queue as `this`.
      return typeof value === 'function' ? (value as (...rest: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** Starts crmsync from a validated config. */
export async function startApp(config: Config, deps: AppDependencies): Promise<RunningApp> {
  const { clock, logger } = deps;
  const backend = await openBackend(config, clock);
  const metrics = createMetrics(backend.queue);
  // Every vendor call goes to the metrics and, when made inside a run, to that run's count.
  const apiCalls: ApiCallRecorder = {
    record: (call) => {
      metrics.record(call);
      countApiCallInCurrentRun();
    },
  };
  const connectors = createConnectors(config, { backend, clock, logger, apiCalls });

  const handlers = new HandlerRegistry();
  const flowClosers: (() => Promise<void>)[] = [];
  const flowSchedules: ScheduleDefinition[] = [];
  const configDir = configFolder(config);
  for (const flow of config.flows.values()) {
    const flowType = flowTypes.get(flow.type);
    if (flowType === undefined) throw new Error(`unknown flow type ${flow.type}`);
    handlers.register(
      flow.name,
      flowType.createHandler(flow, {
        connectors,
        backend,
        clock,
        logger,
        configDir,
        onStop: (close) => flowClosers.push(close),
        schedule: (definition) => flowSchedules.push(definition),
        requestsPerSecond: (connection) => configuredRate(config, connection),
      }),
    );
  }
  const pool = new WorkerPool({
    queue: backend.queue,
    attempts: backend.attempts,
    store: backend.store,
    handlers,
    clock,
    logger: logger.child({ component: 'worker' }),
    concurrency: config.worker.concurrency,
    leaseMs: config.queue.leaseMs,
    pollMs: config.worker.pollMs,
    workerIdPrefix: `${hostname()}:${process.pid}`,
    observer: metrics,
  });

  const routes = routeConnections(config);
  // Enqueues from the server and from dead-letter replays wake idle workers at once.
  const ingestQueue = wakingQueue(backend.queue, () => pool.wake());
  handlers.register(DEAD_LETTER_FLOW, deadLetterHandler({ connectors, routes, queue: ingestQueue }));

  const scheduler = new Scheduler({
    locks: backend.locks,
    checkpoints: backend.store.checkpoints,
    clock,
    logger,
  });
  for (const definition of flowSchedules) scheduler.add(definition);
  scheduler.add({
    name: 'retention',
    cron: config.retention.cron,
    task: retentionTask(backend, config.retention, clock),
  });

  const server = await buildServer({
    connectors,
    routes,
    backend: {
      store: backend.store,
      locks: backend.locks,
      attempts: backend.attempts,
      queue: ingestQueue,
      close: () => backend.close(),
    },
    metrics,
    logger,
    clock,
    bodyLimitBytes: config.server.bodyLimitBytes,
    timeouts: config.server.timeouts,
    ingest: config.server.ingest,
    token: config.server.token,
    host: config.server.host,
  });
  await server.listen({ host: config.server.host, port: config.server.port });
  const address = server.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.server.port;
  const url = `http://${config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host}:${port}`;

  const workers = deps.workers ?? true;
  if (workers) pool.start();
  scheduler.start();
  logger.info(
    {
      url,
      connections: [...connectors.keys()],
      flows: [...config.flows.keys()],
      workers: workers ? config.worker.concurrency : 0,
    },
    'listening',
  );

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      logger.info({}, 'shutting down');
      await server.close();
      await pool.stop({ deadlineMs: config.worker.shutdownTimeoutMs });
      await scheduler.stop();
      for (const close of flowClosers) await close();
      for (const connector of connectors.values()) await connector.close();
      await backend.close();
      logger.info({}, 'stopped');
    })();
    return stopping;
  };
  return { url, backend, server, stop };
}
