/**
 * A whole enrichment setup for end-to-end tests, over real HTTP: the SuperOffice simulator, crmsync (server,
 * queue, workers, SQLite) with an `enrich` flow, the webhook registered on the simulator, and a fake
 * Company-Explorer-style enricher whose answers and outages the test controls.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pino } from 'pino';
import { validateConfig } from '../../src/config/index.ts';
import { startApp } from '../../src/cli/app.ts';
import type { RunningApp } from '../../src/cli/app.ts';
import { connectorFactories, flowTypes } from '../../src/cli/registry.ts';
import {
  simulatorConnectionOptions,
  startSuperOfficeSimulator,
} from '../../src/simulators/superoffice/index.ts';
import type { SuperOfficeSimulator } from '../../src/simulators/superoffice/index.ts';
import type { Run } from '../../src/ports/store.ts';
import { ensureSimulatorWebhook } from '../../src/sandbox/webhook-registration.ts';
import { systemClock } from '../../src/ports/clock.ts';
import { simulatorAccessToken } from '../../src/sandbox/simulator-http.ts';
import { eventually } from '../support/eventually.ts';
import { makeTempDir } from '../support/temp-dir.ts';
import type { TempDir } from '../support/temp-dir.ts';

export const WEBHOOK_SECRET = 'e2e-webhook-secret-0123456789';
export const FLOW = 'enrich';

/** What the fake enricher answers for one request body. */
export type EnricherAnswer = (request: { company: { name: string }; person?: unknown }) => {
  status: number;
  body: unknown;
};

/** The default answer: a fixed vertical, texts derived from the company name (deterministic). */
export const DEFAULT_ANSWER: EnricherAnswer = (request) => ({
  status: 200,
  body: {
    vertical: 'Logistics',
    summary: `${request.company.name} moves goods across northern Germany.`,
    companyOpener: `Hello ${request.company.name} team!`,
    personOpener: request.person === undefined ? null : 'Hello there, logistics expert!',
  },
});

/** A running world; `close()` stops everything and removes its files. */
export interface EnrichWorld {
  readonly sim: SuperOfficeSimulator;
  readonly app: RunningApp;
  /** The simulator's webhook registration that delivers to crmsync. */
  readonly webhookId: number;
  /** Requests the fake enricher received. */
  readonly enricherRequests: unknown[];
  /** Replace to change the fake enricher's answers (an outage: status 503). */
  answer: EnricherAnswer;
  /** Creates or changes a record as a human user of the tenant; returns the record id. */
  act(user: string, entity: string, body: object, id?: number): Promise<number>;
  /** Reads a record through the simulator's API as the API user. */
  read(entity: string, id: number): Promise<Record<string, unknown>>;
  /** The runs of a record, oldest first. */
  runs(entity: string, id: number): Promise<Run[]>;
  /** Waits until the record has `count` finished runs and returns them, oldest first. */
  waitForRuns(entity: string, id: number, count: number, timeoutMs?: number): Promise<Run[]>;
  close(): Promise<void>;
}

async function startFakeEnricher(world: { answer: EnricherAnswer; requests: unknown[] }): Promise<Server> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Parameters<EnricherAnswer>[0];
      world.requests.push(body);
      const answer = world.answer(body);
      response.writeHead(answer.status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** Starts a world. `flowOptions` are merged into the enrich flow's options. */
export async function startEnrichWorld(flowOptions: Record<string, unknown> = {}): Promise<EnrichWorld> {
  const temp: TempDir = makeTempDir('crmsync-enrich-e2e-');
  const state = { answer: DEFAULT_ANSWER, requests: [] as unknown[] };
  const enricher = await startFakeEnricher(state);
  const enricherUrl = `http://127.0.0.1:${(enricher.address() as AddressInfo).port}/enrich`;
  const sim = await startSuperOfficeSimulator({ webhookDelivery: { retryDelaysMs: [20, 50] } });
  const config = validateConfig(
    {
      server: { host: '127.0.0.1', port: 0 },
      store: { kind: 'sqlite', path: join(temp.path, 'crmsync.db') },
      queue: { backoff: { baseMs: 20, maxMs: 100, jitter: 0 } },
      worker: { concurrency: 2, pollMs: 20 },
      log: { level: 'silent' },
      connections: {
        so: {
          connector: 'superoffice',
          options: {
            ...simulatorConnectionOptions(sim),
            webhookSecret: WEBHOOK_SECRET,
          },
        },
      },
      flows: {
        [FLOW]: {
          type: 'enrich',
          connections: ['so'],
          owners: { shortNames: ['RKAB', 'RCGO'] },
          enricher: { provider: 'http', url: enricherUrl, maxRetries: 0, timeoutMs: 2_000 },
          // Off unless a test asks: a scan at a quarter hour would add runs to other tests' records.
          reconcile: { enabled: false },
          ...flowOptions,
        },
      },
    },
    { connectors: connectorFactories, flowTypes, environment: {}, cwd: temp.path },
    'e2e',
  );
  const app = await startApp(config, { clock: systemClock, logger: pino({ level: 'silent' }) });
  const token = await simulatorAccessToken(sim);
  const tenantApi = `${sim.tenantUrl}/api/v1`;
  const { webhookId } = await ensureSimulatorWebhook(sim, {
    name: 'crmsync e2e',
    targetUrl: `${app.url}/webhooks/so`,
    events: ['contact.created', 'contact.changed', 'person.created', 'person.changed'],
    secret: WEBHOOK_SECRET,
  });

  const runsOf = async (entity: string, id: number) =>
    (
      await app.backend.store.runs.list({
        flow: FLOW,
        ref: { connection: 'so', entityType: entity, id: String(id) },
        limit: 100,
      })
    ).reverse();
  const world: EnrichWorld = {
    sim,
    app,
    webhookId,
    enricherRequests: state.requests,
    get answer() {
      return state.answer;
    },
    set answer(answer: EnricherAnswer) {
      state.answer = answer;
    },
    async act(user, entity, body, id) {
      const url = `${sim.url}/_sim/act/${user}/${entity}${id === undefined ? '' : `/${id}`}`;
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (!response.ok) throw new Error(`act ${url}: ${response.status} ${await response.text()}`);
      return ((await response.json()) as { id: number }).id;
    },
    async read(entity, id) {
      const response = await fetch(`${tenantApi}/${entity}/${id}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      return (await response.json()) as Record<string, unknown>;
    },
    runs: runsOf,
    async waitForRuns(entity, id, count, timeoutMs = 10_000) {
      return eventually(
        async () => {
          const runs = (await runsOf(entity, id)).filter((run) => run.outcome !== null);
          return runs.length >= count ? runs : null;
        },
        { timeoutMs, intervalMs: 20 },
      );
    },
    async close() {
      await app.stop();
      await sim.close();
      await new Promise<void>((resolve) => enricher.close(() => resolve()));
      temp.remove();
    },
  };
  return world;
}
