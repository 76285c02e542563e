/**
 * A whole Beteiligte sync setup for end-to-end tests, over real HTTP: the EspoCRM and Advoware simulators,
 * crmsync (server, queue, workers, scheduler, SQLite) with a `sync` flow built from `beteiligteFlowDefaults`,
 * and EspoCRM webhooks (create, update, delete of `CBeteiligte`, without skipOwn, so the echoes of crmsync's
 * own writes are delivered too) signed with their secretKeys and delivered by the simulator's webhook job to
 * crmsync's webhook route.
 */
import { join } from 'node:path';
import { pino } from 'pino';
import { validateConfig } from '../../src/config/index.ts';
import { startApp } from '../../src/cli/app.ts';
import type { RunningApp } from '../../src/cli/app.ts';
import { connectorFactories, flowTypes } from '../../src/cli/registry.ts';
import { advowareConnector } from '../../src/connectors/advoware/index.ts';
import { beteiligteFlowDefaults } from '../../src/engine/flows/sync/index.ts';
import type { JsonObject, RecordRef } from '../../src/core/types.ts';
import type { Connector } from '../../src/ports/connector.ts';
import { systemClock } from '../../src/ports/clock.ts';
import type { Link, Run } from '../../src/ports/store.ts';
import { startAdvowareSimulator } from '../../src/simulators/advoware/index.ts';
import type { AdvowareSimulator } from '../../src/simulators/advoware/index.ts';
import { startEspoCrmSimulator } from '../../src/simulators/espocrm/index.ts';
import type { EspoCrmSimulator, QuirksInput } from '../../src/simulators/espocrm/index.ts';
import { eventually } from '../support/eventually.ts';
import { simAdmin } from '../support/sim-admin.ts';
import { makeTempDir } from '../support/temp-dir.ts';

export const FLOW = 'beteiligte';
export const ESPO = 'CBeteiligte';
export const ADVO = 'Beteiligte';

/** The webhook events crmsync subscribes to. */
const EVENTS = [`${ESPO}.create`, `${ESPO}.update`, `${ESPO}.delete`];

/** What a test may change about the world. */
export interface SyncWorldOptions {
  /** Merged into the flow's options (after the Beteiligte defaults and `notify`). */
  readonly flow?: Record<string, unknown>;
  /** Replaces the config's `queue` section. */
  readonly queue?: Record<string, unknown>;
  /** EspoCRM simulator quirks from the start. */
  readonly espoQuirks?: QuirksInput;
}

/** A running world; `close()` stops everything and removes its files. */
export interface SyncWorld {
  readonly espo: EspoCrmSimulator;
  readonly advo: AdvowareSimulator;
  readonly app: RunningApp;
  /** The simulator's webhook ids by event. */
  readonly webhookIds: Record<string, string>;
  /** A call of the EspoCRM API as crmsync's API user; returns the JSON answer (asserting a 2xx). */
  espoApi<T = JsonObject>(method: string, path: string, body?: unknown): Promise<T>;
  /** Creates (no id) or changes a CBeteiligter as the human user anna; returns its id. */
  espoAct(body: object, id?: string): Promise<string>;
  /** Reads a CBeteiligter through the API. */
  espoRead(id: string): Promise<JsonObject>;
  /** Creates (no betNr) or changes a Beteiligter as a human in the Advoware UI; returns its betNr. */
  advoAct(body: object, betNr?: string): Promise<string>;
  /** Reads a Beteiligter through a separate Advoware connector (its own token, not crmsync's). */
  advoRead(betNr: string): Promise<JsonObject>;
  /** The Beteiligte ids Advoware holds. */
  advoIds(): Promise<string[]>;
  /** The link of a CBeteiligter (side a), or null. */
  linkOf(espoId: string): Promise<Link | null>;
  /** Finished runs of a record of either side, oldest first. */
  runs(ref: RecordRef): Promise<Run[]>;
  /** Every finished run of the flow, oldest first. */
  allRuns(): Promise<Run[]>;
  close(): Promise<void>;
}

/** The ref of a CBeteiligter. */
export const espoRef = (id: string): RecordRef => ({ connection: 'espo', entityType: ESPO, id });
/** The ref of a Beteiligter. */
export const advoRef = (id: string): RecordRef => ({ connection: 'advo', entityType: ADVO, id });

/** Starts a world (both simulators empty: no demo data). */
export async function startSyncWorld(options: SyncWorldOptions = {}): Promise<SyncWorld> {
  const temp = makeTempDir('crmsync-sync-e2e-');
  const espo = await startEspoCrmSimulator({
    seed: false,
    webhookIntervalMs: 25,
    webhookRetryDelayMs: 25,
    quirks: options.espoQuirks ?? {},
  });
  const advo = await startAdvowareSimulator({ seed: false });
  const espoApi = espoApiOf(espo);

  // The webhooks exist before crmsync starts (their secretKeys go into its config); their URL is set once
  // crmsync listens, and until then nothing changes in the simulator, so nothing is delivered elsewhere.
  const webhookIds: Record<string, string> = {};
  const secrets: Record<string, string> = {};
  for (const event of EVENTS) {
    const hook = await espoApi<{ id: string; secretKey: string }>('POST', 'Webhook', {
      event,
      url: 'http://127.0.0.1:9/not-yet',
    });
    webhookIds[event] = hook.id;
    secrets[hook.id] = hook.secretKey;
  }

  const config = validateConfig(
    {
      server: { host: '127.0.0.1', port: 0 },
      store: { kind: 'sqlite', path: join(temp.path, 'crmsync.db') },
      queue: options.queue ?? { backoff: { baseMs: 20, maxMs: 100, jitter: 0 } },
      worker: { concurrency: 2, pollMs: 20 },
      log: { level: 'silent' },
      connections: simulatorConnections(espo, advo, secrets),
      flows: {
        [FLOW]: {
          type: 'sync',
          connections: ['espo', 'advo'],
          ...beteiligteFlowDefaults({ espocrm: 'espo', advoware: 'advo' }),
          notify: { side: 'a' },
          ...options.flow,
        },
      },
    },
    { connectors: connectorFactories, flowTypes, environment: {}, cwd: temp.path },
    'e2e',
  );
  const app = await startApp(config, { clock: systemClock, logger: pino({ level: 'silent' }) });
  // `?event=` tells crmsync which event a webhook delivers (as `crmsync espocrm webhook register` sets it).
  for (const [event, id] of Object.entries(webhookIds))
    await espoApi('PUT', `Webhook/${id}`, { url: `${app.url}/webhooks/espo?event=${event}` });

  const inspector: Connector = advowareConnector.create({
    connection: 'advo-inspector',
    options: advowareConnector.optionsSchema.parse({
      configuratorUrl: advo.configuratorUrl,
      ...advo.credentials,
      requestsPerSecond: 1_000,
    }),
    clock: systemClock,
    logger: pino({ level: 'silent' }),
    apiCalls: { record: () => undefined },
    state: app.backend.store.connectorState,
  });

  const finished = (runs: Run[]) => runs.filter((run) => run.outcome !== null).reverse();
  return {
    espo,
    advo,
    app,
    webhookIds,
    espoApi,
    async espoAct(body, id) {
      const answer = await simAdmin<{ id: string }>(
        espo,
        'POST',
        `act/anna/${ESPO}${id === undefined ? '' : `/${id}`}`,
        body,
      );
      return answer.id;
    },
    espoRead: (id) => espoApi('GET', `${ESPO}/${id}`),
    async advoAct(body, betNr) {
      const answer = await simAdmin<{ betNr: number }>(
        advo,
        'POST',
        `act/anna/${ADVO}${betNr === undefined ? '' : `/${betNr}`}`,
        body,
      );
      return String(answer.betNr);
    },
    async advoRead(betNr) {
      const record = await inspector.read(ADVO, betNr);
      if (record === null) throw new Error(`Advoware has no Beteiligter ${betNr}`);
      return record.fields;
    },
    async advoIds() {
      const page = await inspector.list({ entityType: ADVO, limit: 1_000 });
      return page.records.map((record) => record.id);
    },
    linkOf: (espoId) => app.backend.store.links.findByRef(FLOW, espoRef(espoId)),
    runs: async (ref) => finished(await app.backend.store.runs.list({ flow: FLOW, ref, limit: 200 })),
    allRuns: async () => finished(await app.backend.store.runs.list({ flow: FLOW, limit: 500 })),
    async close() {
      await app.stop();
      await inspector.close();
      await espo.close();
      await advo.close();
      temp.remove();
    },
  };
}

/** A caller of the EspoCRM simulator's REST API as its API user (`x-api-key`); a non-2xx answer throws. */
export function espoApiOf(espo: EspoCrmSimulator) {
  return async <T = JsonObject>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${espo.url}/api/v1/${path}`, {
      method,
      headers: { 'x-api-key': espo.credentials.apiKey, 'content-type': 'application/json' },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`EspoCRM ${method} ${path}: ${response.status} ${text}`);
    return JSON.parse(text) as T;
  };
}

/**
 * The `espo` and `advo` connections of a sync world, pointed at its simulators with the highest request budget
 * (the tests measure behaviour, not the vendors' rate limits); `advoOptions` add to advo's options.
 */
export function simulatorConnections(
  espo: EspoCrmSimulator,
  advo: AdvowareSimulator,
  webhookSecrets: object,
  advoOptions: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    espo: {
      connector: 'espocrm',
      options: {
        baseUrl: espo.url,
        auth: { mode: 'hmac', apiKey: espo.credentials.apiKey, secretKey: espo.credentials.secretKey },
        webhookSecrets,
        requestsPerSecond: 1_000,
      },
    },
    advo: {
      connector: 'advoware',
      options: {
        configuratorUrl: advo.configuratorUrl,
        ...advo.credentials,
        requestsPerSecond: 1_000,
        ...advoOptions,
      },
    },
  };
}

/** Polls `check` for up to 15 s (the world's schedules tick every second). */
export function within<T>(check: () => T | Promise<T>): Promise<Exclude<T, false | null | undefined>> {
  return eventually(check, { timeoutMs: 15_000, intervalMs: 25 });
}
