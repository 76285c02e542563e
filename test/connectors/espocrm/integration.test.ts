/**
 * The EspoCRM client and connector against the simulator over HTTP (issue 5 acceptance): both auth modes
 * (HMAC computed here with node:crypto), CRUD with partial updates, 409 `modified` on a stale version, the
 * duplicate check and its skip, paging through 1,000 records at 200 a page, `total` -1/-2, where filters in
 * both encodings, webhook registration and delivery of 120 queued events in three batches into a real
 * receiver (buildServer + SQLite) with valid, tampered and legacy signatures, notifications, the update
 * stream, and the `crmsync espocrm webhook` commands.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { afterEach, describe, it } from 'node:test';
import { CrmsyncError, StaleWriteError } from '../../../src/core/errors.ts';
import type { JsonObject } from '../../../src/core/types.ts';
import { emailAddressPatch } from '../../../src/connectors/espocrm/communication.ts';
import { toEspoDateTime } from '../../../src/connectors/espocrm/datetime.ts';
import {
  EspoCrmAuthError,
  EspoCrmDuplicateError,
  EspoCrmNotificationForbiddenError,
  EspoCrmStaleWriteError,
} from '../../../src/connectors/espocrm/errors.ts';
import { Where, espocrmConnector, signEspoCrmWebhook } from '../../../src/connectors/espocrm/index.ts';
import type { EspoCrmConnector } from '../../../src/connectors/espocrm/index.ts';
import { HUMAN_USERS, startEspoCrmSimulator } from '../../../src/simulators/espocrm/index.ts';
import type { EspoCrmSimulator } from '../../../src/simulators/espocrm/index.ts';
import { registerWebhooks, webhookSecretsValue } from '../../../src/connectors/espocrm/tools.ts';
import type { ConnectorStateRepository } from '../../../src/ports/store.ts';
import { ManualClock } from '../../support/manual-clock.ts';
import { runWithConfig, writeCrmsyncConfig } from '../../support/run-cli.ts';
import { simAdmin, simRequestCounts } from '../../support/sim-admin.ts';
import { makeTempDir } from '../../support/temp-dir.ts';
import { startWebhookReceiver } from '../../support/webhook-receiver.ts';
import type { WebhookReceiver } from '../../support/webhook-receiver.ts';
import { memoryState, recorder, silentLogger } from '../superoffice/support.ts';

const START = Date.UTC(2026, 2, 2, 8, 0, 0);

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function simulator(clock: ManualClock, seed = false): Promise<EspoCrmSimulator> {
  const sim = await startEspoCrmSimulator({ port: 0, clock, seed, logger: silentLogger });
  cleanups.push(() => sim.close());
  return sim;
}

type AuthMode = 'apiKey' | 'hmac';

function connectionOptions(sim: EspoCrmSimulator, mode: AuthMode, overrides: Record<string, unknown> = {}) {
  const { apiKey, secretKey } = sim.credentials;
  return {
    baseUrl: sim.url,
    auth: mode === 'apiKey' ? { mode, apiKey } : { mode, apiKey, secretKey },
    // The simulator answers fast; the default budget of 10/s would only slow the tests down.
    requestsPerSecond: 1_000,
    ...overrides,
  };
}

function connect(
  sim: EspoCrmSimulator,
  clock: ManualClock,
  options: { mode?: AuthMode; overrides?: Record<string, unknown>; state?: ConnectorStateRepository } = {},
) {
  const apiCalls = recorder();
  const connector = espocrmConnector.create({
    connection: 'espo',
    options: espocrmConnector.optionsSchema.parse(
      connectionOptions(sim, options.mode ?? 'hmac', options.overrides),
    ),
    clock,
    logger: silentLogger,
    apiCalls,
    state: options.state ?? memoryState(clock),
  }) as EspoCrmConnector;
  cleanups.push(() => connector.close());
  return { connector, api: connector.api, apiCalls };
}

/** A human user's action in the simulator (not the API user), e.g. `act/anna/Account`. */
async function act(
  sim: EspoCrmSimulator,
  method: string,
  path: string,
  body?: JsonObject,
): Promise<JsonObject> {
  return simAdmin(sim, method, `act/${path}`, body);
}

/** Calls the API with an X-Hmac-Authorization computed here from the reference's formula (§1). */
function hmacFetch(
  sim: EspoCrmSimulator,
  method: string,
  path: string,
  secretKey = sim.credentials.secretKey,
) {
  const digest = createHmac('sha256', secretKey)
    .update(`${method} /${path.split('?')[0]}`)
    .digest('hex');
  const header = Buffer.from(`${sim.credentials.apiKey}:${digest}`).toString('base64');
  return fetch(`${sim.url}/api/v1/${path}`, { method, headers: { 'x-hmac-authorization': header } });
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

describe('espocrm integration: auth', () => {
  it('accepts an HMAC header computed with node:crypto, and answers 401 with an empty body to a wrong one', async () => {
    const clock = new ManualClock(START);
    const sim = await simulator(clock);
    const good = await hmacFetch(sim, 'GET', 'App/user?x=1');
    assert.equal(good.status, 200, await good.clone().text());
    assert.equal(((await good.json()) as { user: { id: string } }).user.id, sim.credentials.userId);
    const bad = await hmacFetch(sim, 'GET', 'App/user', 'f'.repeat(32));
    assert.equal(bad.status, 401);
    assert.equal(await bad.text(), '');
  });

  for (const mode of ['apiKey', 'hmac'] as const) {
    it(`check() names the API user (${mode})`, async () => {
      const clock = new ManualClock(START);
      const sim = await simulator(clock);
      const { connector } = connect(sim, clock, { mode });
      const check = await connector.check();
      assert.equal(check.ok, true, check.message);
      assert.match(
        check.message,
        new RegExp(
          `^authenticated as API user ${sim.credentials.userName} \\(id ${sim.credentials.userId}\\)`,
        ),
      );
      assert.equal((await connector.apiUser()).id, sim.credentials.userId);
    });
  }

  it('a wrong key is a typed, non-retryable auth error, and check() says so without the key', async () => {
    const clock = new ManualClock(START);
    const sim = await simulator(clock);
    const { connector } = connect(sim, clock, {
      mode: 'apiKey',
      overrides: { auth: { mode: 'apiKey', apiKey: 'wrong-key-0000' } },
    });
    await assert.rejects(connector.read('Account', 'nope'), (error: unknown) => {
      assert.ok(error instanceof EspoCrmAuthError, String(error));
      assert.equal(error.retryable, false);
      return true;
    });
    const check = await connector.check();
    assert.equal(check.ok, false);
    assert.doesNotMatch(check.message, /wrong-key-0000/);
  });
});

describe('espocrm integration: records', () => {
  it('creates, reads, updates partially with versions, drops read-only input, and deletes', async () => {
    const clock = new ManualClock(START);
    const sim = await simulator(clock);
    const { connector, api } = connect(sim, clock);
    const created = await connector.write({
      entityType: 'Account',
      fields: {
        name: 'Bremer Abenteuerland',
        industry: 'Leisure',
        versionNumber: 99,
        createdAt: '2000-01-01 00:00:00',
      },
    });
    assert.match(created.id, /^[0-9a-f]{17}$/);
    assert.equal(created.version, '1');
    const read = await connector.read('Account', created.id);
    assert.equal(read?.fields['name'], 'Bremer Abenteuerland');
    assert.equal(read?.fields['createdAt'], toEspoDateTime(START));
    assert.equal(read?.version, '1');

    clock.advance(60_000);
    const updated = await connector.write({
      entityType: 'Account',
      id: created.id,
      fields: { industry: 'Tourism' },
      expectedVersion: '1',
    });
    assert.equal(updated.version, '2');
    const after = await api.get('Account', created.id);
    assert.equal(after?.['name'], 'Bremer Abenteuerland', 'a partial update keeps the other fields');
    assert.equal(after?.['industry'], 'Tourism');
    assert.equal(after?.['modifiedAt'], toEspoDateTime(START + 60_000));

    assert.equal(await api.delete('Account', created.id), true);
    assert.equal(await connector.read('Account', created.id), null);
    assert.equal(await api.delete('Account', created.id), false);
  });

  it('a stale versionNumber gets 409 modified: StaleWriteError with the current values and version', async () => {
    const clock = new ManualClock(START);
    const sim = await simulator(clock);
    const { connector } = connect(sim, clock);
    const { id } = await connector.write({ entityType: 'Account', fields: { name: 'Hanse Logistik' } });
    clock.advance(1_000);
    await act(sim, 'POST', `anna/Account/${id}`, { name: 'Hanse Logistik GmbH' });
    await assert.rejects(
      connector.write({
        entityType: 'Account',
        id,
        fields: { name: 'Hanse Logistik AG' },
        expectedVersion: '1',
      }),
      (error: unknown) => {
        assert.ok(error instanceof EspoCrmStaleWriteError && error instanceof StaleWriteError, String(error));
        assert.deepEqual(error.currentValues, { name: 'Hanse Logistik GmbH' });
        assert.equal(error.currentVersionNumber, 2);
        return true;
      },
    );
    assert.equal(
      (await connector.read('Account', id))?.fields['name'],
      'Hanse Logistik GmbH',
      'nothing was written',
    );
    // The version the error carried makes the retry go through.
    const retried = await connector.write({
      entityType: 'Account',
      id,
      fields: { name: 'Hanse Logistik AG' },
      expectedVersion: '2',
    });
    assert.equal(retried.version, '3');
  });

  it('without versionNumber, a save in the same second as the read is caught by the values the write overwrites', async () => {
    const clock = new ManualClock(START);
    const sim = await simulator(clock);
    const { connector } = connect(sim, clock);
    const { id } = await connector.write({
      entityType: 'CBeteiligte',
      fields: { name: 'Müller', lastName: 'Müller' },
    });
    const read = (await connector.read('CBeteiligte', id))!;
    // A person saves within the same second: modifiedAt, the version token, does not move.
    await act(sim, 'POST', `ben/CBeteiligte/${id}`, { lastName: 'Meyer' });
    assert.equal((await connector.read('CBeteiligte', id))?.version, read.version);
    await assert.rejects(
      connector.write({
        entityType: 'CBeteiligte',
        id,
        fields: { lastName: 'Mueller' },
        expectedVersion: read.version,
        current: read,
      }),
      (error: unknown) =>
        error instanceof EspoCrmStaleWriteError && error.currentValues['lastName'] === 'Meyer',
    );
    // A write of other attributes overwrites nothing the person changed: it goes through.
    const status = await connector.write({
      entityType: 'CBeteiligte',
      id,
      fields: { syncStatus: 'clean' },
      expectedVersion: read.version,
      current: read,
    });
    assert.equal(status.id, id);
  });

  it('an entity type without versionNumber uses modifiedAt as its version, checked before the write', async () => {
    const clock = new ManualClock(START);
    const sim = await simulator(clock);
    const { connector } = connect(sim, clock);
    const { id, version } = await connector.write({
      entityType: 'CBeteiligte',
      fields: { name: 'Müller', syncStatus: 'clean' },
    });
    assert.equal(version, toEspoDateTime(START));
    clock.advance(5_000);
    await act(sim, 'POST', `ben/CBeteiligte/${id}`, { name: 'Müller-Lüdenscheidt' });
    await assert.rejects(
      connector.write({
        entityType: 'CBeteiligte',
        id,
        fields: { name: 'Mueller' },
        expectedVersion: version,
      }),
      (error: unknown) =>
        error instanceof EspoCrmStaleWriteError && error.currentValues['name'] === 'Müller-Lüdenscheidt',
    );
    const current = await connector.read('CBeteiligte', id);
    const written = await connector.write({
      entityType: 'CBeteiligte',
      id,
      fields: { syncStatus: 'dirty' },
      expectedVersion: current!.version,
    });
    assert.equal(written.id, id);
  });

  it('the duplicate check answers 409 with the matches; skipDuplicateCheck creates anyway', async () => {
    const clock = new ManualClock(START);
    const sim = await simulator(clock);
    const { connector, api } = connect(sim, clock);
    const first = await connector.write({ entityType: 'Account', fields: { name: 'Weser Werft' } });
    await assert.rejects(
      connector.write({ entityType: 'Account', fields: { name: 'weser werft' } }),
      (error: unknown) => {
        assert.ok(error instanceof EspoCrmDuplicateError, String(error));
        assert.equal(error.code, 'ESPOCRM_DUPLICATE');
        assert.deepEqual(
          error.matches.map((match) => match['id']),
          [first.id],
        );
        return true;
      },
    );
    const second = await api.create('Account', { name: 'Weser Werft' }, { skipDuplicateCheck: true });
    assert.notEqual(second['id'], first.id);
    const skipping = connect(sim, clock, {
      overrides: { entities: { Account: { skipDuplicateCheck: true } } },
    });
    await skipping.connector.write({ entityType: 'Account', fields: { name: 'Weser Werft' } });
  });

  it('adds an email address without unlinking the others', async () => {
    const clock = new ManualClock(START);
    const sim = await simulator(clock);
    const { api } = connect(sim, clock);
    const created = await api.create('CBeteiligte', {
      name: 'Kanzlei Nord',
      emailAddressData: [
        { emailAddress: 'info@kanzlei-nord.example', primary: true, optOut: false, invalid: false },
        { emailAddress: 'akten@kanzlei-nord.example', primary: false, optOut: false, invalid: false },
      ],
    });
    const id = created['id'] as string;
    const record = await api.get('CBeteiligte', id);
    await api.update('CBeteiligte', id, emailAddressPatch(record!, { upsert: ['neu@kanzlei-nord.example'] }));
    const after = await api.get('CBeteiligte', id);
    assert.deepEqual(
      (after!['emailAddressData'] as JsonObject[]).map((entry) => [entry['emailAddress'], entry['primary']]),
      [
        ['info@kanzlei-nord.example', true],
        ['akten@kanzlei-nord.example', false],
        ['neu@kanzlei-nord.example', false],
      ],
    );
    assert.equal(after!['emailAddress'], 'info@kanzlei-nord.example');
  });
});

/** Creates `count` CBeteiligte through the API, `parallel` at a time; returns their ids. */
async function createMany(
  connector: EspoCrmConnector,
  count: number,
  fields: (index: number) => JsonObject,
): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < count; start += 25) {
    const batch = Array.from({ length: Math.min(25, count - start) }, (_, offset) =>
      connector.write({ entityType: 'CBeteiligte', fields: fields(start + offset) }),
    );
    ids.push(...(await Promise.all(batch)).map((result) => result.id));
  }
  return ids;
}

describe('espocrm integration: lists', () => {
  it('pages through 1,000 records at 200 a page: with a count, and with total -1/-2', async () => {
    const clock = new ManualClock(START);
    const sim = await simulator(clock);
    const { connector, api, apiCalls } = connect(sim, clock);
    const ids = await createMany(connector, 1_000, (index) => ({
      name: `Beteiligter ${index}`,
      advowareId: index,
    }));
    const filter = { where: [Where.isNotNull('advowareId')], orderBy: 'advowareId', order: 'asc' as const };

    const listCalls = () => apiCalls.calls.filter((call) => call.route === 'GET CBeteiligte').length;
    const counted = await collect(api.pages('CBeteiligte', filter));
    assert.deepEqual(
      counted.map((page) => [page.total, page.list.length]),
      Array.from({ length: 5 }, () => [1_000, 200]),
    );
    assert.equal(listCalls(), 5, 'no call after the last page');

    const uncounted = await collect(api.pages('CBeteiligte', filter, { noTotal: true }));
    assert.deepEqual(
      uncounted.map((page) => page.total),
      [-1, -1, -1, -1, -2],
    );
    assert.equal(listCalls(), 10);
    const seen = uncounted.flatMap((page) => page.list.map((record) => record['id'] as string));
    assert.deepEqual(new Set(seen), new Set(ids));
    assert.deepEqual(
      uncounted.flatMap((page) => page.list.map((record) => record['advowareId'])),
      Array.from({ length: 1_000 }, (_, index) => index),
    );
  });

  it('list(): modifiedAt order with a keyset cursor; a record changed mid-scan comes again, none is skipped', async () => {
    const clock = new ManualClock(START);
    const sim = await simulator(clock);
    const { connector } = connect(sim, clock);
    const ids = await createMany(connector, 450, (index) => ({ name: `Scan ${index}` }));
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await connector.list({
        entityType: 'CBeteiligte',
        limit: 200,
        ...(cursor !== undefined && { cursor }),
      });
      seen.push(...page.records.map((record) => record.id));
      pages += 1;
      if (pages === 1) {
        // Someone edits a record the scan has passed: it moves to the end of the order.
        clock.advance(1_000);
        await act(sim, 'POST', `anna/CBeteiligte/${seen[0]}`, { description: 'changed mid-scan' });
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    assert.equal(pages, 3);
    assert.equal(seen.length, 451);
    assert.deepEqual(new Set(seen), new Set(ids));
    assert.equal(seen.at(-1), seen[0]);

    const since = await connector.list({
      entityType: 'CBeteiligte',
      modifiedSince: new Date(START + 1_000).toISOString(),
    });
    assert.deepEqual(
      since.records.map((record) => record.id),
      [seen[0]],
    );
    assert.equal(since.nextCursor, null);
  });

  it('where filters give the same answers in both encodings', async () => {
    const clock = new ManualClock(START);
    const sim = await simulator(clock);
    const bracket = connect(sim, clock, { overrides: { whereEncoding: 'query' } });
    const json = connect(sim, clock, { overrides: { whereEncoding: 'searchParams' } });
    const names = ['Alpha Recht', 'Beta Steuer', 'Gamma Recht', 'Delta', 'Epsilon Recht'];
    await createMany(json.connector, names.length, (index) => ({
      name: names[index]!,
      ...(index % 2 === 0 && { advowareId: 100 + index }),
      syncStatus: index < 2 ? 'dirty' : 'clean',
    }));
    const queries: [string, ReturnType<typeof Where.equals>[], string[]][] = [
      ['equals', [Where.equals('syncStatus', 'dirty')], ['Alpha Recht', 'Beta Steuer']],
      ['notEquals', [Where.notEquals('syncStatus', 'dirty')], ['Delta', 'Epsilon Recht', 'Gamma Recht']],
      ['in', [Where.in('name', ['Delta', 'Beta Steuer'])], ['Beta Steuer', 'Delta']],
      ['isNull', [Where.isNull('advowareId')], ['Beta Steuer', 'Delta']],
      ['isNotNull', [Where.isNotNull('advowareId')], ['Alpha Recht', 'Epsilon Recht', 'Gamma Recht']],
      ['contains', [Where.contains('name', 'recht')], ['Alpha Recht', 'Epsilon Recht', 'Gamma Recht']],
      ['startsWith', [Where.startsWith('name', 'G')], ['Gamma Recht']],
      ['between', [Where.between('advowareId', 101, 104)], ['Gamma Recht', 'Epsilon Recht'].sort()],
      [
        'or/and',
        [
          Where.or(
            Where.and(Where.equals('syncStatus', 'clean'), Where.isNull('advowareId')),
            Where.equals('name', 'Alpha Recht'),
          ),
        ],
        ['Alpha Recht', 'Delta'],
      ],
      [
        'after/before',
        [Where.after('createdAt', toEspoDateTime(START - 1_000)), Where.before('advowareId', 102)],
        ['Alpha Recht'],
      ],
    ];
    for (const [label, where, expected] of queries) {
      for (const { api } of [bracket, json]) {
        const page = await api.list('CBeteiligte', {
          where,
          select: ['name'],
          orderBy: 'name',
          order: 'asc',
        });
        assert.deepEqual(
          page.list.map((record) => record['name']),
          expected,
          label,
        );
      }
    }
  });
});

describe('espocrm integration: faults', () => {
  it('retries a read after a 503; a create is never repeated and fails ambiguous', async () => {
    const clock = new ManualClock(START);
    const sim = await simulator(clock);
    const { connector } = connect(sim, clock);
    const { id } = await connector.write({ entityType: 'Account', fields: { name: 'Fehlerfrei' } });
    await simAdmin(sim, 'POST', 'faults', {
      status5xx: { everyNth: 2, status: 503, routes: ['GET /api/v1/Account/:id'] },
    });
    await connector.read('Account', id); // 1st matching request: answered
    assert.equal((await connector.read('Account', id))?.fields['name'], 'Fehlerfrei'); // 2nd: 503, retried
    await simAdmin(sim, 'POST', 'faults', { status5xx: { status: 500, routes: ['POST /api/v1/Account'] } });
    await assert.rejects(
      connector.write({ entityType: 'Account', fields: { name: 'Zweimal?' } }),
      (error: unknown) => {
        assert.ok(
          error instanceof CrmsyncError && error.code === 'VENDOR_WRITE_AMBIGUOUS' && error.retryable,
          String(error),
        );
        return true;
      },
    );
    const routes = await simRequestCounts(sim);
    assert.deepEqual(routes['GET /api/v1/Account/:id'], { '200': 2, '503': 1 });
    assert.deepEqual(routes['POST /api/v1/Account'], { '200': 1, '500': 1 });
  });
});

/** A crmsync receiver (buildServer + SQLite) for the connection `espo`, feeding the sync flow. */
async function receiver(connector: EspoCrmConnector, clock: ManualClock): Promise<WebhookReceiver> {
  const server = await startWebhookReceiver({ connection: 'espo', connector, flows: ['sync'], clock });
  cleanups.push(() => server.close());
  return server;
}

interface Delivery {
  readonly webhookId: string;
  readonly items: readonly JsonObject[] | number;
  readonly status: number;
}

async function deliveries(
  sim: EspoCrmSimulator,
  webhookId: string,
): Promise<{ items: number; status: number }[]> {
  const all = await simAdmin<Delivery[]>(sim, 'GET', 'webhooks/deliveries');
  return all
    .filter((delivery) => delivery.webhookId === webhookId)
    .map((delivery) => ({
      items: Array.isArray(delivery.items) ? delivery.items.length : (delivery.items as number),
      status: delivery.status,
    }));
}

/**
 * The operator's steps: `crmsync serve` runs without webhook secrets, `webhook register` creates the
 * webhooks (storing their events in the shared connector state) and prints the secretKeys, and serve is
 * restarted with them. Returns the receiver, the registered webhooks by event, and the connector state.
 */
async function registeredReceiver(sim: EspoCrmSimulator, clock: ManualClock, events: string[]) {
  const state = memoryState(clock);
  const unconfigured = connect(sim, clock, { state });
  const server = await receiver(unconfigured.connector, clock);
  const result = await registerWebhooks(unconfigured.api, unconfigured.connector.webhookEvents, {
    url: server.webhookUrl,
    events,
    skipOwn: true,
  });
  assert.equal(result.failed, null, result.failed?.error.message);
  const configure = () =>
    server.use(
      connect(sim, clock, { state, overrides: { webhookSecrets: webhookSecretsValue(result.registered) } })
        .connector,
    );
  const byEvent = new Map(result.registered.map((webhook) => [webhook.event, webhook]));
  return { server, byEvent, configure, api: unconfigured.api };
}

const SYNC_EVENTS = ['CBeteiligte.create', 'CBeteiligte.update', 'CBeteiligte.delete'];

describe('espocrm integration: webhooks', () => {
  it('delivers 120 queued create events in three batches (50, 50, 20), each verified and queued as a job', async () => {
    const clock = new ManualClock(START);
    const sim = await simulator(clock);
    // All 120 events are turned into queue items in the first run; with the vendor's default portion of 20
    // events per run, each run would send 20 (reference §5), and the batching would not show.
    await simAdmin(sim, 'POST', 'quirks', { webhookEventPortionSize: 200 });
    const { server, byEvent, configure } = await registeredReceiver(sim, clock, SYNC_EVENTS);
    configure();
    const create = byEvent.get('CBeteiligte.create')!;
    assert.match(create.secretKey ?? '', /^[0-9a-f]{32}$/);
    assert.equal(create.url, `${server.webhookUrl}?event=CBeteiligte.create`);
    const ids: string[] = [];
    for (let index = 0; index < 120; index += 1) {
      ids.push((await act(sim, 'POST', 'anna/CBeteiligte', { name: `Webhook ${index}` }))['id'] as string);
    }
    for (let run = 0; run < 3; run += 1) await sim.processWebhookQueue();
    assert.deepEqual(await deliveries(sim, create.id), [
      { items: 50, status: 202 },
      { items: 50, status: 202 },
      { items: 20, status: 202 },
    ]);
    const jobs = await server.backend.queue.list({ limit: 500 });
    assert.deepEqual(
      new Set(jobs.map((job) => job.recordKey)),
      new Set(ids.map((id) => `sync|espo/CBeteiligte/${id}`)),
    );
    const payload = jobs[0]!.payloads[0] as JsonObject;
    assert.equal(payload['kind'], 'created');
    assert.equal(payload['vendorEvent'], 'CBeteiligte.create');
    assert.equal((payload['data'] as JsonObject)['name'], (payload['data'] as JsonObject)['name']);
    assert.notEqual(payload['actorId'], sim.credentials.userId);
  });

  it("update and delete events carry what changed; the API user's own writes are skipped (skipOwn)", async () => {
    const clock = new ManualClock(START);
    const sim = await simulator(clock);
    const { server, byEvent, configure, api } = await registeredReceiver(sim, clock, SYNC_EVENTS);
    configure();
    const id = (await api.create('CBeteiligte', { name: 'Eigen' }))['id'] as string;
    await api.update('CBeteiligte', id, { syncStatus: 'clean' });
    clock.advance(1_000);
    await act(sim, 'POST', `ben/CBeteiligte/${id}`, { syncStatus: 'dirty' });
    await act(sim, 'DELETE', `ben/CBeteiligte/${id}`);
    await sim.processWebhookQueue();
    assert.deepEqual(await deliveries(sim, byEvent.get('CBeteiligte.create')!.id), [], 'own create skipped');
    assert.deepEqual(await deliveries(sim, byEvent.get('CBeteiligte.update')!.id), [
      { items: 1, status: 202 },
    ]);
    assert.deepEqual(await deliveries(sim, byEvent.get('CBeteiligte.delete')!.id), [
      { items: 1, status: 202 },
    ]);
    const [job] = await server.backend.queue.list({ recordKey: `sync|espo/CBeteiligte/${id}` });
    const payloads = job!.payloads as JsonObject[];
    assert.deepEqual(
      payloads.map((payload) => [payload['kind'], payload['vendorEvent']]),
      [
        ['updated', 'CBeteiligte.update'],
        ['deleted', 'CBeteiligte.delete'],
      ],
    );
    assert.ok((payloads[0]!['changedFields'] as string[]).includes('syncStatus'));
  });

  it('refuses deliveries with 401 until the secrets are configured; EspoCRM retries them and they arrive', async () => {
    const clock = new ManualClock(START);
    const sim = await simulator(clock);
    const { server, byEvent, configure } = await registeredReceiver(sim, clock, ['CBeteiligte.create']);
    const create = byEvent.get('CBeteiligte.create')!;
    await act(sim, 'POST', 'anna/CBeteiligte', { name: 'Zu früh' });
    await sim.processWebhookQueue();
    assert.deepEqual(await deliveries(sim, create.id), [{ items: 1, status: 401 }]);
    assert.deepEqual(server.outcomes, ['unauthorized']);
    configure();
    clock.advance(10 * 60_000);
    await sim.processWebhookQueue();
    assert.deepEqual(await deliveries(sim, create.id), [
      { items: 1, status: 401 },
      { items: 1, status: 202 },
    ]);
    assert.equal((await server.backend.queue.list()).length, 1);
  });

  it('valid, tampered, legacy-only, unknown-id and unsigned deliveries, signed here with node:crypto', async () => {
    const clock = new ManualClock(START);
    const sim = await simulator(clock);
    const { server, byEvent, configure } = await registeredReceiver(sim, clock, ['CBeteiligte.update']);
    configure();
    const { id, secretKey, url } = byEvent.get('CBeteiligte.update')!;
    const body = Buffer.from(
      '[{"id":"66a1b2c3d4e5f6789","name":"M\\u00fcller","website":"https:\\/\\/m.example"}]',
    );
    const hex = createHmac('sha256', secretKey!).update(body).digest('hex');
    const binary = createHmac('sha256', secretKey!).update(body).digest();
    const signature = Buffer.from(`${id}:${hex}`).toString('base64');
    const legacy = Buffer.concat([Buffer.from(`${id}:`), binary]).toString('base64');
    const post = (payload: Buffer, headers: Record<string, string>) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: payload,
      });

    assert.equal((await post(body, { signature, 'x-signature': legacy })).status, 202);
    const tampered = Buffer.from(body);
    tampered[body.indexOf('m.example')] = 'n'.charCodeAt(0);
    assert.equal((await post(tampered, { signature, 'x-signature': legacy })).status, 401);
    assert.equal((await post(body, { 'x-signature': legacy })).status, 202);
    const stranger = Buffer.from(`0123456789abcdef0:${hex}`).toString('base64');
    assert.equal((await post(body, { signature: stranger })).status, 401);
    assert.equal((await post(body, {})).status, 401);
    assert.deepEqual(server.outcomes, [
      'accepted',
      'unauthorized',
      'accepted',
      'unauthorized',
      'unauthorized',
    ]);
    const [job] = await server.backend.queue.list();
    assert.equal(job!.recordKey, 'sync|espo/CBeteiligte/66a1b2c3d4e5f6789');
    assert.equal(((job!.payloads[0] as JsonObject)['data'] as JsonObject)['name'], 'Müller');
    assert.equal(signEspoCrmWebhook(id, secretKey!, body), signature);
  });
});

describe('espocrm integration: notifications and the update stream', () => {
  it("the API user's notification is refused with a typed error that says an admin is needed", async () => {
    const clock = new ManualClock(START);
    const sim = await simulator(clock);
    const { api } = connect(sim, clock);
    await assert.rejects(
      api.createNotification({ userId: '1', message: 'Sync von **Müller** fehlgeschlagen' }),
      (error: unknown) => {
        assert.ok(error instanceof EspoCrmNotificationForbiddenError, String(error));
        assert.equal(error.code, 'ESPOCRM_NOTIFICATION_FORBIDDEN');
        assert.match(error.message, /admin/);
        return true;
      },
    );
  });

  it('an admin signed in with name and password (Espo-Authorization) sends a Message notification', async () => {
    const clock = new ManualClock(START);
    const sim = await simulator(clock);
    const admin = HUMAN_USERS.find((user) => user.type === 'admin')!;
    const { connector, api } = connect(sim, clock, {
      overrides: { auth: { mode: 'password', username: admin.userName, password: admin.password } },
    });
    assert.match((await connector.check()).message, new RegExp(admin.userName));
    const created = await api.createNotification({ userId: '1', message: 'Sync fehlgeschlagen' });
    assert.equal(created['type'], 'Message');

    const { api: wrong } = connect(sim, clock, {
      overrides: { auth: { mode: 'password', username: admin.userName, password: 'not-the-password' } },
    });
    await assert.rejects(wrong.get('Account', 'x'), (error: unknown) => {
      assert.ok(error instanceof CrmsyncError);
      assert.equal(error.code, 'ESPOCRM_AUTH_FAILED');
      assert.ok(!error.message.includes('not-the-password'), 'the password is never in a message');
      return true;
    });
  });

  it('sends a Message notification where the user may create them', async () => {
    const clock = new ManualClock(START);
    const sim = await simulator(clock);
    await simAdmin(sim, 'POST', 'quirks', { apiUserCanCreateNotification: true });
    const { api } = connect(sim, clock);
    const created = await api.createNotification({
      userId: '1',
      message: 'Sync von **Müller** fehlgeschlagen',
    });
    assert.equal(created['type'], 'Message');
    assert.equal(created['userId'], '1');
    assert.equal(created['message'], 'Sync von **Müller** fehlgeschlagen');
  });

  it('reads the field history of audited fields, newest first, with who and when', async () => {
    const clock = new ManualClock(START);
    const sim = await simulator(clock);
    const { api } = connect(sim, clock);
    const id = (await api.create('CBeteiligte', { name: 'Historie', syncStatus: 'clean' }))['id'] as string;
    clock.advance(60_000);
    await act(sim, 'POST', `anna/CBeteiligte/${id}`, { syncStatus: 'dirty' });
    clock.advance(60_000);
    await api.update('CBeteiligte', id, { name: 'Historie GmbH', description: 'not audited' });
    const notes = await collect(api.updateStream('CBeteiligte', id));
    assert.deepEqual(
      notes.map((note) => [note.at, note.fields]),
      [
        [new Date(START + 120_000).toISOString(), ['name']],
        [new Date(START + 60_000).toISOString(), ['syncStatus']],
      ],
    );
    assert.deepEqual(notes[1]!.changes, [{ attribute: 'syncStatus', was: 'clean', became: 'dirty' }]);
    assert.equal(notes[0]!.userId, sim.credentials.userId);
    assert.notEqual(notes[1]!.userId, sim.credentials.userId);
  });
});

describe('espocrm integration: CLI', () => {
  it('crmsync espocrm webhook register | list | delete', async () => {
    const clock = new ManualClock(START);
    const sim = await simulator(clock);
    const temp = makeTempDir('crmsync-espo-cli-');
    cleanups.push(() => temp.remove());
    const { configPath } = writeCrmsyncConfig(
      temp.path,
      `connections: { espo: { connector: 'espocrm', options: ${JSON.stringify(connectionOptions(sim, 'apiKey'))} } },`,
    );
    const cli = (...args: string[]) => runWithConfig(configPath, args);
    const registered = await cli(
      'espocrm',
      'webhook',
      'register',
      'espo',
      '--url',
      'https://crm.example.com/webhooks/espo',
      '--events',
      'CBeteiligte.create,CBeteiligte.update',
    );
    assert.equal(registered.code, 0, registered.stderr);
    const lines = [...registered.stdout.matchAll(/^registered webhook (\S+) \((\S+)\) -> (\S+)$/gm)];
    assert.deepEqual(
      lines.map((line) => [line[2], line[3]]),
      [
        ['CBeteiligte.create', 'https://crm.example.com/webhooks/espo?event=CBeteiligte.create'],
        ['CBeteiligte.update', 'https://crm.example.com/webhooks/espo?event=CBeteiligte.update'],
      ],
    );
    const pairs = /shown only this once:\n {2}(\S+)\n/.exec(registered.stdout)?.[1] ?? '';
    assert.match(pairs, /^[0-9a-f]{17}:[0-9a-f]{32},[0-9a-f]{17}:[0-9a-f]{32}$/);

    const listed = await cli('espocrm', 'webhook', 'list', 'espo', '--json');
    const rows = (JSON.parse(listed.stdout) as { id: string; event: string; skipOwn: boolean }[]).sort(
      (a, b) => a.event.localeCompare(b.event),
    );
    assert.deepEqual(
      rows.map((row) => [row.event, row.skipOwn]),
      [
        ['CBeteiligte.create', true],
        ['CBeteiligte.update', true],
      ],
    );
    const firstSecret = pairs.split(',')[0]!.split(':')[1]!;
    assert.doesNotMatch(listed.stdout, new RegExp(firstSecret));
    assert.doesNotMatch((await cli('espocrm', 'webhook', 'list', 'espo')).stdout, new RegExp(firstSecret));

    const id = rows[0]!.id;
    assert.deepEqual(await cli('espocrm', 'webhook', 'delete', 'espo', id), {
      code: 0,
      stdout: `deleted webhook ${id}\n`,
      stderr: '',
    });
    const again = await cli('espocrm', 'webhook', 'delete', 'espo', id);
    assert.equal(again.code, 2);
    assert.match(again.stderr, new RegExp(`No webhook ${id}`));
    const wrongEvent = await cli(
      'espocrm',
      'webhook',
      'register',
      'espo',
      '--url',
      'https://x.example/w',
      '--events',
      'CBeteiligte.changed',
    );
    assert.equal(wrongEvent.code, 2);
    assert.match(wrongEvent.stderr, /Not EspoCRM webhook events: CBeteiligte\.changed/);
    const remaining = JSON.parse(
      (await cli('espocrm', 'webhook', 'list', 'espo', '--json')).stdout,
    ) as unknown[];
    assert.equal(remaining.length, 1);
  });
});
