/**
 * Shared set-up of the sync scan tests: the Advoware and EspoCRM simulators behind their real connectors,
 * a real SQLite backend, links between the two, and a way to run a scheduled task once.
 */
import { advowareConnector } from '../../../src/connectors/advoware/index.ts';
import { espocrmConnector } from '../../../src/connectors/espocrm/index.ts';
import assert from 'node:assert/strict';
import { jobRecordKey } from '../../../src/core/types.ts';
import type { ChangeEvent, JsonObject, RecordRef } from '../../../src/core/types.ts';
import { compileSyncFlow } from '../../../src/engine/flows/sync/mapping.ts';
import type { SyncOptions } from '../../../src/engine/flows/sync/options.ts';
import { createSyncRunHandler } from '../../../src/engine/flows/sync/run.ts';
import { HandlerRegistry } from '../../../src/engine/handlers.ts';
import { WorkerPool } from '../../../src/engine/worker-pool.ts';
import type { Backend } from '../../../src/ports/backend.ts';
import type { Clock } from '../../../src/ports/clock.ts';
import type { Job } from '../../../src/ports/queue.ts';
import type { Run } from '../../../src/ports/store.ts';
import { eventually } from '../../support/eventually.ts';
import type { Connector } from '../../../src/ports/connector.ts';
import type { Logger } from '../../../src/ports/logger.ts';
import type { Link } from '../../../src/ports/store.ts';
import type { ScheduledTask } from '../../../src/engine/scheduler.ts';
import { startAdvowareSimulator } from '../../../src/simulators/advoware/index.ts';
import type { AdvowareSimulator } from '../../../src/simulators/advoware/index.ts';
import { startEspoCrmSimulator } from '../../../src/simulators/espocrm/index.ts';
import type { EspoCrmSimulator } from '../../../src/simulators/espocrm/index.ts';
import { recorder } from '../../connectors/superoffice/support.ts';
import { ManualClock } from '../../support/manual-clock.ts';
import { openTestBackend, silentLogger } from '../support.ts';
import type { TestBackend } from '../support.ts';

export const FLOW = 'beteiligte';

/** A running simulator behind its connector, on a fresh backend. */
export interface ScanFixture {
  readonly clock: ManualClock;
  readonly test: TestBackend;
  readonly connector: Connector;
  /** The connector's vendor API calls, in order. */
  readonly apiCalls: ReturnType<typeof recorder>['calls'];
  close(): Promise<void>;
}

export async function advowareFixture(): Promise<ScanFixture & { readonly sim: AdvowareSimulator }> {
  const clock = new ManualClock(Date.UTC(2026, 10, 29, 12, 0, 0));
  const test = openTestBackend({ clock });
  const sim = await startAdvowareSimulator({ port: 0, clock, seed: false });
  const calls = recorder();
  const connector = advowareConnector.create({
    connection: 'advo',
    options: advowareConnector.optionsSchema.parse({
      configuratorUrl: sim.configuratorUrl,
      ...sim.credentials,
      requestsPerSecond: 1_000,
    }),
    clock,
    logger: silentLogger,
    apiCalls: calls,
    state: test.backend.store.connectorState,
  });
  return { clock, test, sim, connector, apiCalls: calls.calls, close: closer(connector, sim, test) };
}

export async function espocrmFixture(): Promise<ScanFixture & { readonly sim: EspoCrmSimulator }> {
  const clock = new ManualClock(Date.UTC(2026, 10, 29, 12, 0, 0));
  const test = openTestBackend({ clock });
  const sim = await startEspoCrmSimulator({ port: 0, clock, seed: false, logger: silentLogger });
  const { apiKey, secretKey } = sim.credentials;
  const calls = recorder();
  const connector = espocrmConnector.create({
    connection: 'espo',
    options: espocrmConnector.optionsSchema.parse({
      baseUrl: sim.url,
      auth: { mode: 'hmac', apiKey, secretKey },
      requestsPerSecond: 1_000,
    }),
    clock,
    logger: silentLogger,
    apiCalls: calls,
    state: test.backend.store.connectorState,
  });
  return { clock, test, sim, connector, apiCalls: calls.calls, close: closer(connector, sim, test) };
}

function closer(
  connector: Connector,
  sim: { close(): Promise<void> },
  test: TestBackend,
): () => Promise<void> {
  return async () => {
    await connector.close();
    await sim.close();
    await test.close();
  };
}

/** Links `ref` (with its version at the last sync) to a counterpart on the other connection. */
export function link(
  test: TestBackend,
  side: 'a' | 'b',
  ref: RecordRef,
  version: string | null,
  other: RecordRef,
): Promise<Link> {
  const mine = { ref, base: {}, version };
  const theirs = { ref: other, base: {}, version: '1' };
  return test.backend.store.links.save({
    flow: FLOW,
    a: side === 'a' ? mine : theirs,
    b: side === 'a' ? theirs : mine,
    status: 'clean',
  });
}

/** Runs a scheduled task once, as the scheduler would; returns the fields of the summary it logged. */
export async function runOnce(
  task: ScheduledTask,
  signal = new AbortController().signal,
): Promise<Record<string, unknown>> {
  let summary: Record<string, unknown> = {};
  const logger: Logger = {
    ...silentLogger,
    info: (fields: unknown) => {
      summary = fields as Record<string, unknown>;
    },
  };
  await task({ name: 'test', tickAt: 0, signal, logger });
  return summary;
}

/** The queued sync events: record id, kind and version of each job's first payload, by id. */
export async function queuedEvents(
  test: TestBackend,
): Promise<{ id: string; kind: string; version: string | undefined; count: number }[]> {
  const jobs = await test.backend.queue.list({ limit: 1_000 });
  return jobs
    .map((job) => {
      const event = job.payloads[0] as unknown as { ref: RecordRef; kind: string; version?: string };
      return { id: event.ref.id, kind: event.kind, version: event.version, count: job.payloads.length };
    })
    .sort((x, y) => x.id.localeCompare(y.id, 'en', { numeric: true }));
}

/** What {@link startSyncPool} runs: a flow's validated options, both sides' connectors, the backend. */
export interface SyncPoolSettings {
  readonly flow?: string;
  readonly options: SyncOptions;
  readonly connectors: { readonly a: Connector; readonly b: Connector };
  readonly backend: Backend;
  readonly clock: Clock;
  /** How long a run waits for a held link lock (default the handler's). */
  readonly lockWaitMs?: number;
}

/** A started worker pool running the sync handler of one flow (2 workers, a fast poll). */
export function startSyncPool(settings: SyncPoolSettings): WorkerPool {
  const { backend, options } = settings;
  const flow = settings.flow ?? FLOW;
  const handlers = new HandlerRegistry();
  handlers.register(
    flow,
    createSyncRunHandler({
      flow,
      options,
      compiled: compileSyncFlow(options),
      connectors: settings.connectors,
      store: backend.store,
      locks: backend.locks,
      ...(settings.lockWaitMs !== undefined && { lockWaitMs: settings.lockWaitMs }),
    }),
  );
  const pool = new WorkerPool({
    queue: backend.queue,
    attempts: backend.attempts,
    store: backend.store,
    handlers,
    clock: settings.clock,
    logger: silentLogger,
    concurrency: 2,
    leaseMs: 30_000,
    pollMs: 5,
  });
  pool.start();
  return pool;
}

/**
 * Queues an `updated` event (or `event`) for `ref` and waits until its job settled, advancing the manual clock
 * so that retries wait out their backoff; returns the job's last run.
 */
export async function settleSync(
  backend: Backend,
  clock: ManualClock,
  ref: RecordRef,
  event?: ChangeEvent,
  flow = FLOW,
): Promise<Run> {
  const { jobId } = await backend.queue.enqueue({
    flow,
    recordKey: jobRecordKey(flow, ref),
    payload: event === undefined ? { ref: { ...ref }, kind: 'updated' } : (event as unknown as JsonObject),
  });
  await eventually(async () => {
    clock.advance(1_000);
    const job = (await backend.queue.get(jobId)) as Job;
    assert.ok(
      job.state === 'COMPLETED' || job.state === 'SKIPPED',
      `job ${jobId}: ${job.state} ${JSON.stringify(job.lastError)}`,
    );
    return true;
  });
  const runs = await backend.store.runs.list({ jobId });
  return runs[0] as Run;
}
