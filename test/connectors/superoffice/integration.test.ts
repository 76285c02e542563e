/**
 * The SuperOffice client and connector against the simulator over HTTP (issue 3 acceptance): token refresh
 * and expiry, 401 refresh-retry, 421 rediscovery, pagination, PATCH and 412, UDF round trips, 429 within the
 * budget, and webhook delivery into a real receiver (buildServer + SQLite) with valid, tampered and missing
 * signatures and duplicate deliveries.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { StaleWriteError } from '../../../src/core/errors.ts';
import type { JsonObject } from '../../../src/core/types.ts';
import { superofficeConnector } from '../../../src/connectors/superoffice/index.ts';
import type { SuperOfficeConnector } from '../../../src/connectors/superoffice/index.ts';
import { SuperOfficeAuthError } from '../../../src/connectors/superoffice/errors.ts';
import { describeWebhooks, registerWebhook } from '../../../src/connectors/superoffice/tools.ts';
import { decodeUserDefinedFields, encodeUserDefinedFields } from '../../../src/connectors/superoffice/udf.ts';
import {
  simulatorConnectionOptions,
  startSuperOfficeSimulator,
} from '../../../src/simulators/superoffice/index.ts';
import type { SuperOfficeSimulator } from '../../../src/simulators/superoffice/index.ts';
import type { Clock } from '../../../src/ports/clock.ts';
import type { ConnectorStateRepository } from '../../../src/ports/store.ts';
import { eventually } from '../../support/eventually.ts';
import { ManualClock } from '../../support/manual-clock.ts';
import { runWithConfig, writeCrmsyncConfig } from '../../support/run-cli.ts';
import { countOf, simAdmin, simRequestCounts } from '../../support/sim-admin.ts';
import { makeTempDir } from '../../support/temp-dir.ts';
import { startWebhookReceiver } from '../../support/webhook-receiver.ts';
import type { WebhookReceiver } from '../../support/webhook-receiver.ts';
import { memoryState, recorder, silentLogger } from './support.ts';

const WEBHOOK_SECRET = 'integration-webhook-secret-0123456789';
/** Whole seconds: If-Unmodified-Since carries seconds, so the simulator's UpdatedDate must too. */
const START = Date.UTC(2026, 2, 2, 8, 0, 0);

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function simulator(clock: Clock, options: { seed?: boolean } = {}): Promise<SuperOfficeSimulator> {
  const sim = await startSuperOfficeSimulator({
    port: 0,
    clock,
    seed: options.seed ?? true,
    webhookDelivery: { retryDelaysMs: [10, 20], timeoutMs: 2_000 },
  });
  cleanups.push(() => sim.close());
  return sim;
}

function connect(
  sim: SuperOfficeSimulator,
  clock: Clock,
  overrides: Record<string, unknown> = {},
  state: ConnectorStateRepository = memoryState(clock),
) {
  const apiCalls = recorder();
  const connector = superofficeConnector.create({
    connection: 'so',
    options: superofficeConnector.optionsSchema.parse({
      ...simulatorConnectionOptions(sim),
      webhookSecret: WEBHOOK_SECRET,
      ...overrides,
    }),
    clock,
    logger: silentLogger,
    apiCalls,
    state,
  }) as SuperOfficeConnector;
  cleanups.push(() => connector.close());
  return { connector, api: connector.api, apiCalls };
}

const TOKEN_ROUTE = 'POST /login/common/oauth/tokens';
const CONTACT_ROUTE = 'GET /{ctx}/api/v1/Contact/:id';

async function firstContactId(sim: SuperOfficeSimulator): Promise<string> {
  const state = await simAdmin(sim, 'GET', 'state');
  const contacts = (state['tenant'] as JsonObject)['contacts'] as JsonObject[];
  assert.ok(contacts.length > 0, 'the demo seed has contacts');
  return JSON.stringify(contacts[0]!['contactId']);
}

describe('superoffice integration: auth', () => {
  it('refreshes the token once, reuses it until expiry, then refreshes again', async () => {
    const clock = new ManualClock(START);
    const sim = await simulator(clock);
    const { connector } = connect(sim, clock);
    const id = await firstContactId(sim);
    assert.notEqual(await connector.read('Contact', id), null);
    assert.notEqual(await connector.read('Contact', id), null);
    assert.equal(countOf(await simRequestCounts(sim), TOKEN_ROUTE), 1);
    assert.equal(await connector.apiAssociateId(), 528);
    clock.advance(3_600_000);
    assert.notEqual(await connector.read('Contact', id), null);
    const counts = await simRequestCounts(sim);
    assert.equal(countOf(counts, TOKEN_ROUTE), 2);
    assert.equal(
      countOf(counts, CONTACT_ROUTE, 401),
      0,
      'the client refreshed before the expiry, not after a 401',
    );
  });

  it('after the access token is revoked: one 401, one refresh, and the call succeeds', async () => {
    const clock = new ManualClock(START);
    const sim = await simulator(clock);
    const { connector } = connect(sim, clock);
    const id = await firstContactId(sim);
    await connector.read('Contact', id);
    await simAdmin(sim, 'POST', 'tokens/revoke', { accessTokens: true, refreshTokens: false });
    assert.notEqual(await connector.read('Contact', id), null);
    const counts = await simRequestCounts(sim);
    assert.equal(countOf(counts, CONTACT_ROUTE, 401), 1);
    assert.equal(countOf(counts, TOKEN_ROUTE), 2);
  });

  it('when the refresh token is revoked too: a typed, non-retryable auth error', async () => {
    const clock = new ManualClock(START);
    const sim = await simulator(clock);
    const { connector } = connect(sim, clock);
    const id = await firstContactId(sim);
    await connector.read('Contact', id);
    await simAdmin(sim, 'POST', 'tokens/revoke', { accessTokens: true, refreshTokens: true });
    await assert.rejects(connector.read('Contact', id), (error: unknown) => {
      assert.ok(error instanceof SuperOfficeAuthError, String(error));
      assert.equal(error.retryable, false);
      assert.doesNotMatch(error.message, new RegExp(sim.credentials.refreshToken));
      return true;
    });
    assert.deepEqual(await connector.check().then((check) => check.ok), false);
  });

  it('rediscovers the tenant host after a 421 and goes on', async () => {
    const clock = new ManualClock(START);
    const sim = await simulator(clock);
    const { connector } = connect(sim, clock);
    const id = await firstContactId(sim);
    await connector.read('Contact', id);
    const moved = await simAdmin(sim, 'POST', 'tenant/move', {});
    assert.notEqual(await connector.read('Contact', id), null);
    const counts = await simRequestCounts(sim);
    assert.equal(countOf(counts, CONTACT_ROUTE, 421), 1);
    assert.ok(countOf(counts, 'GET /api/state/:ctx') >= 1);
    assert.ok(typeof moved['endpoint'] === 'string');
  });

  it('check() names the API user', async () => {
    const clock = new ManualClock(START);
    const sim = await simulator(clock);
    const { connector } = connect(sim, clock);
    const check = await connector.check();
    assert.equal(check.ok, true, check.message);
    assert.match(check.message, /^authenticated as associate 528 \(/);
  });
});

describe('superoffice integration: entities and lists', () => {
  it('follows odata.nextLink across several pages, with the same rows as one big page', async () => {
    const clock = new ManualClock(START);
    const sim = await simulator(clock);
    const { api, connector } = connect(sim, clock, { requestsPerSecond: 200 });
    await simAdmin(sim, 'POST', 'quirks', { archivePageSize: 3 });
    const ids: string[] = [];
    for await (const row of api.archiveRows('Contact', {
      select: ['contactId', 'name'],
      orderBy: 'contactId',
    })) {
      ids.push(row.primaryKey);
    }
    const state = await simAdmin(sim, 'GET', 'state');
    const expected = ((state['tenant'] as JsonObject)['contacts'] as JsonObject[]).map((c) =>
      JSON.stringify(c['contactId']),
    );
    assert.ok(expected.length > 6, 'needs several pages');
    assert.deepEqual([...ids].sort(), [...expected].sort());
    assert.equal(new Set(ids).size, ids.length, 'no row twice');

    // The connector's list(): pages of 5 through opaque cursors, each following the vendor's 3-row pages.
    const listed: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await connector.list({
        entityType: 'Contact',
        limit: 5,
        ...(cursor !== undefined && { cursor }),
      });
      for (const record of page.records) {
        listed.push(record.id);
        assert.match(record.version ?? '', /^\d{4}-\d{2}-\d{2}T/);
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    assert.deepEqual([...listed].sort(), [...expected].sort());
  });

  it('list() with modifiedSince returns only records changed after it', async () => {
    const clock = new ManualClock(START);
    const sim = await simulator(clock);
    const { connector } = connect(sim, clock);
    const id = await firstContactId(sim);
    clock.advance(86_400_000);
    const since = new Date(clock.now()).toISOString();
    clock.advance(5_000);
    await simAdmin(sim, 'POST', `act/RKAB/Contact/${id}`, { Department: 'Changed by a human' });
    const page = await connector.list({ entityType: 'Contact', modifiedSince: since });
    assert.deepEqual(
      page.records.map((record) => record.id),
      [id],
    );
  });

  it('writes with PATCH merge and JSON patch; a stale version is a StaleWriteError (412)', async () => {
    const clock = new ManualClock(START);
    const sim = await simulator(clock);
    const { connector, api } = connect(sim, clock);
    const id = await firstContactId(sim);
    const before = await connector.read('Contact', id);
    clock.advance(2_000);
    const written = await connector.write({
      entityType: 'Contact',
      id,
      fields: { Department: 'Merge patched' },
      expectedVersion: before!.version,
    });
    assert.notEqual(written.version, before!.version);
    clock.advance(2_000);
    const patched = await api.patchEntity('Contact', id, [
      { op: 'replace', path: '/department', value: 'JSON patched' },
    ]);
    assert.equal(patched['Department'], 'JSON patched');
    clock.advance(2_000);
    await simAdmin(sim, 'POST', `act/RKAB/Contact/${id}`, { Department: 'A human was faster' });
    await assert.rejects(
      connector.write({
        entityType: 'Contact',
        id,
        fields: { Department: 'stale' },
        expectedVersion: written.version,
      }),
      StaleWriteError,
    );
    assert.equal((await connector.read('Contact', id))!.fields['Department'], 'A human was faster');
    const counts = await simRequestCounts(sim);
    assert.equal(countOf(counts, 'PATCH /{ctx}/api/v1/Contact/:id', 412), 1);
  });

  it('creates, reads and deletes Person and Sale records', async () => {
    const clock = new ManualClock(START);
    const sim = await simulator(clock);
    const { connector, api } = connect(sim, clock);
    const contactId = Number(await firstContactId(sim));
    const person = await connector.write({
      entityType: 'Person',
      fields: { Firstname: 'Ada', Lastname: 'Lovelace', Contact: { ContactId: contactId } },
    });
    assert.equal((await connector.read('Person', person.id))!.fields['Firstname'], 'Ada');
    const sale = await connector.write({
      entityType: 'Sale',
      fields: { Heading: '2x Omnie CD-01', Amount: 1200, Contact: { ContactId: contactId } },
    });
    assert.equal((await connector.read('sale', sale.id))!.fields['Heading'], '2x Omnie CD-01');
    await api.deleteEntity('Sale', sale.id);
    assert.equal(await connector.read('Sale', sale.id), null);
  });

  it('round-trips user-defined fields of every encoding', async () => {
    const clock = new ManualClock(START);
    const sim = await simulator(clock);
    const { connector, api } = connect(sim, clock);
    const id = await firstContactId(sim);
    const verticals = await api.listItems('Vertical');
    const healthcare = verticals.find((item) => item.name === 'Healthcare');
    assert.ok(healthcare !== undefined, 'the Vertical list has Healthcare');
    assert.ok((await api.listItems('ProductFamily')).length > 0);
    const wanted = {
      'SuperOffice:83': { type: 'list', value: healthcare.id },
      'SuperOffice:84': { type: 'text', value: 'Runs three clinics; "quotes" and [brackets] survive.' },
      'SuperOffice:85': { type: 'text', value: 'Hello Elbtal' },
      'SuperOffice:86': { type: 'date', value: '2026-03-02' },
      'SuperOffice:87': { type: 'number', value: 250 },
      'SuperOffice:88': { type: 'boolean', value: true },
    } as const;
    await connector.write({
      entityType: 'Contact',
      id,
      fields: { UserDefinedFields: encodeUserDefinedFields(wanted) },
    });
    const read = await connector.read('Contact', id);
    const decoded = decodeUserDefinedFields(read!.fields['UserDefinedFields'], {
      'SuperOffice:84': 'text',
      'SuperOffice:85': 'text',
    });
    for (const [key, value] of Object.entries(wanted)) {
      const { displayText: _displayText, ...got } = decoded[key] as { displayText?: string };
      assert.deepEqual(got, value, key);
    }
    assert.equal((decoded['SuperOffice:83'] as { displayText?: string }).displayText, 'Healthcare');
  });

  it('handles 429 with Retry-After within the budget: every call succeeds', async () => {
    const clock = new ManualClock(START);
    const sim = await simulator(clock);
    const { connector } = connect(sim, clock, { maxRateLimitWaitMs: 10_000 });
    const id = await firstContactId(sim);
    await connector.read('Contact', id);
    await simAdmin(sim, 'POST', 'faults', {
      status429: { everyNth: 2, retryAfterSeconds: 1, routes: [CONTACT_ROUTE] },
    });
    for (let i = 0; i < 3; i += 1) assert.notEqual(await connector.read('Contact', id), null);
    await simAdmin(sim, 'DELETE', 'faults');
    const counts = await simRequestCounts(sim);
    assert.equal(countOf(counts, CONTACT_ROUTE, 200), 4);
    assert.ok(countOf(counts, CONTACT_ROUTE, 429) >= 1, JSON.stringify(counts[CONTACT_ROUTE]));
    assert.equal(countOf(counts, CONTACT_ROUTE), 4 + countOf(counts, CONTACT_ROUTE, 429));
  });
});

describe('superoffice integration: transient faults', () => {
  it('retries 5xx and timeouts of GETs with backoff, but never repeats a POST', async () => {
    const clock = new ManualClock(START);
    const sim = await simulator(clock);
    const { connector } = connect(sim, clock, { requestTimeoutMs: 300 });
    const id = await firstContactId(sim);
    await connector.read('Contact', id);
    await simAdmin(sim, 'POST', 'faults', { status5xx: { everyNth: 2, status: 503 } });
    for (let i = 0; i < 2; i += 1) assert.notEqual(await connector.read('Contact', id), null);
    await simAdmin(sim, 'POST', 'faults', {
      timeout: { everyNth: 2, hangMs: 2_000, routes: [CONTACT_ROUTE] },
    });
    for (let i = 0; i < 2; i += 1) assert.notEqual(await connector.read('Contact', id), null);
    await simAdmin(sim, 'POST', 'faults', {
      status5xx: { everyNth: 1, status: 503, routes: ['POST /{ctx}/api/v1/Contact'] },
    });
    await assert.rejects(
      connector.write({ entityType: 'Contact', fields: { Name: 'Never twice' } }),
      (error: unknown) => {
        assert.ok(error instanceof Error && 'retryable' in error && error.retryable === true, String(error));
        return true;
      },
    );
    await simAdmin(sim, 'DELETE', 'faults');
    const counts = await simRequestCounts(sim);
    assert.ok(countOf(counts, CONTACT_ROUTE, 503) >= 1, JSON.stringify(counts[CONTACT_ROUTE]));
    assert.equal(countOf(counts, 'POST /{ctx}/api/v1/Contact'), 1);
  });
});

/** A crmsync receiver (buildServer + SQLite) for the connection `so`, feeding the enrich flow. */
async function receiver(connector: SuperOfficeConnector, clock: Clock): Promise<WebhookReceiver> {
  const server = await startWebhookReceiver({ connection: 'so', connector, flows: ['enrich'], clock });
  cleanups.push(() => server.close());
  return server;
}

/** Signs exactly as the reference (§1.4) describes, with node:crypto only. */
function referenceSignature(secret: string, body: Buffer): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(body).digest('base64');
}

function post(webhookUrl: string, body: Buffer, headers: Record<string, string>): Promise<Response> {
  return fetch(webhookUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body,
  });
}

describe('superoffice integration: webhooks', () => {
  it('check() fails while a webhook is TooManyErrors; webhook activate brings it back', async () => {
    const clock = new ManualClock(START);
    const sim = await simulator(clock, { seed: false });
    const { connector, api } = connect(sim, clock);
    let answer = 200;
    const target = createServer((request, response) => {
      request.resume();
      request.on('end', () => response.writeHead(answer).end());
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => target.close(() => resolve())));
    const registered = await api.createWebhook({
      name: 'flaky',
      events: ['contact.created'],
      targetUrl: `http://127.0.0.1:${(target.address() as AddressInfo).port}/hook`,
      secret: WEBHOOK_SECRET,
    });
    assert.equal((await connector.check()).ok, true);

    answer = 500;
    await simAdmin(sim, 'POST', 'act/RKAB/Contact', { Name: 'Stoerung GmbH' });
    await eventually(async () => (await api.getWebhook(registered.WebhookId))?.State === 'TooManyErrors', {
      timeoutMs: 10_000,
    });
    const failing = await connector.check();
    assert.equal(failing.ok, false);
    assert.match(
      failing.message,
      new RegExp(`webhook ${registered.WebhookId} \\(TooManyErrors\\) delivers nothing`),
    );
    assert.match(failing.message, /crmsync superoffice webhook activate so <id>/);

    answer = 200;
    assert.equal((await api.activateWebhook(registered.WebhookId))?.State, 'Active');
    assert.equal((await connector.check()).ok, true);
    assert.equal(await api.activateWebhook(999_999), null);
  });

  it('accepts a payload signed with node:crypto, rejects a one-byte change and a missing signature with 401', async () => {
    const clock = new ManualClock(START);
    const sim = await simulator(clock, { seed: false });
    const { connector } = connect(sim, clock);
    const server = await receiver(connector, clock);
    const body = Buffer.from(
      JSON.stringify({
        EventId: 'a3f1c2e4-0000-4000-8000-000000000001',
        Timestamp: '2026-03-02T08:00:00.1234567Z',
        Changes: ['contact_id', 'name', 'updated'],
        Event: 'contact.changed',
        PrimaryKey: 42,
        Entity: 'contact',
        ContextIdentifier: sim.credentials.contextIdentifier,
        ChangedByAssociateId: 485,
        WebhookName: 'crmsync',
      }),
    );
    const valid = await post(server.webhookUrl, body, {
      'X-SuperOffice-Signature': referenceSignature(WEBHOOK_SECRET, body),
    });
    assert.equal(valid.status, 200, await valid.clone().text());
    const tampered = Buffer.from(body);
    tampered[tampered.indexOf('485') + 2] = '6'.charCodeAt(0);
    const rejected = await post(server.webhookUrl, tampered, {
      'X-SuperOffice-Signature': referenceSignature(WEBHOOK_SECRET, body),
    });
    assert.equal(rejected.status, 401);
    assert.equal((await post(server.webhookUrl, body, {})).status, 401);
    const jobs = await server.backend.queue.list();
    assert.deepEqual(
      jobs.map((job) => job.recordKey),
      ['enrich|so/Contact/42'],
    );
  });

  it('registers a webhook (test event answered), receives signed deliveries and recognises duplicates', async () => {
    const clock = new ManualClock(START);
    const sim = await simulator(clock, { seed: false });
    const { connector, api } = connect(sim, clock);
    const server = await receiver(connector, clock);
    const registered = await api.createWebhook({
      name: 'crmsync-test',
      events: ['contact.created', 'contact.changed'],
      targetUrl: server.webhookUrl,
      secret: WEBHOOK_SECRET,
    });
    assert.ok(registered.WebhookId > 0);
    assert.deepEqual(
      (await api.listWebhooks()).map((webhook) => webhook.WebhookId),
      [registered.WebhookId],
    );
    assert.equal((await api.getWebhook(registered.WebhookId))?.Name, 'crmsync-test');

    await simAdmin(sim, 'POST', 'quirks', {
      duplicateContactCreated: 2,
      duplicateContactCreatedEventId: 'same',
    });
    const created = await simAdmin(sim, 'POST', 'act/RKAB/Contact', { Name: 'Bremer Abenteuerland' });
    const id = JSON.stringify(created['id']);
    await eventually(() => server.outcomes.filter((outcome) => outcome === 'duplicate').length >= 1);
    const jobs = await server.backend.queue.list();
    assert.deepEqual(
      jobs.map((job) => job.recordKey),
      [`enrich|so/Contact/${id}`],
    );
    assert.equal(jobs[0]!.inputCount, 1, 'the duplicate delivery was not folded in as a second input');
    // Every delivery was answered 200 at the first attempt: SuperOffice retries any other status.
    const deliveries = (await simAdmin(sim, 'GET', 'deliveries')) as unknown as { status: number }[];
    assert.deepEqual(new Set(deliveries.map((delivery) => delivery.status)), new Set([200]));
    const payload = jobs[0]!.payloads[0] as JsonObject;
    assert.equal(JSON.stringify(payload).includes('"actorId":"485"'), true, JSON.stringify(payload));

    assert.equal(await api.deleteWebhook(registered.WebhookId), true);
    assert.deepEqual(await api.listWebhooks(), []);
  });

  it('webhook register generates a secret when none is configured; the save-time test event still passes', async () => {
    const clock = new ManualClock(START);
    const sim = await simulator(clock, { seed: false });
    const { connector, api } = connect(sim, clock);
    const server = await receiver(connector, clock);
    const result = await registerWebhook(api, {
      targetUrl: server.webhookUrl,
      events: ['contact.created'],
      name: 'crmsync-cli',
      configuredSecret: undefined,
    });
    assert.match(result.generatedSecret ?? '', /^[A-Za-z0-9_-]{43}$/);
    const rows = describeWebhooks(await api.listWebhooks());
    assert.deepEqual(
      rows.map((row) => [row.name, row.events, row.state]),
      [['crmsync-cli', 'contact.created', 'Active']],
    );
    assert.doesNotMatch(JSON.stringify(rows), new RegExp(result.generatedSecret ?? 'x'));
    // Until the operator configures the generated secret, real deliveries are refused (401), not queued.
    await simAdmin(sim, 'POST', 'act/RKAB/Contact', { Name: 'Hanse Logistik' });
    await eventually(() => server.outcomes.includes('unauthorized'));
    assert.deepEqual(await server.backend.queue.list(), []);
  });
});

/** Runs `crmsync --config <configPath> <args>`, asserts success and returns what it printed. */
async function runCli(args: string[], configPath: string): Promise<string> {
  const result = await runWithConfig(configPath, args);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout;
}

describe('superoffice integration: CLI', () => {
  it('crmsync superoffice webhook register | list | delete', async () => {
    const clock = new ManualClock(START);
    const sim = await simulator(clock, { seed: false });
    const { connector } = connect(sim, clock);
    const server = await receiver(connector, clock);
    const temp = makeTempDir('crmsync-so-cli-');
    cleanups.push(() => temp.remove());
    const { configPath } = writeCrmsyncConfig(
      temp.path,
      `connections: { so: { connector: 'superoffice', options: ${JSON.stringify(simulatorConnectionOptions(sim))} } },`,
    );
    const registered = await runCli(
      ['superoffice', 'webhook', 'register', 'so', '--url', server.webhookUrl, '--events', 'contact.changed'],
      configPath,
    );
    assert.match(registered, /^registered webhook (\d+) \(contact\.changed\)/);
    assert.match(registered, /shown only this once:\n {2}[A-Za-z0-9_-]{43}\n/);
    const listed = JSON.parse(
      await runCli(['superoffice', 'webhook', 'list', 'so', '--json'], configPath),
    ) as {
      id: number;
    }[];
    assert.equal(listed.length, 1);
    const id = String(listed[0]!.id);
    assert.equal(
      await runCli(['superoffice', 'webhook', 'delete', 'so', id], configPath),
      `deleted webhook ${id}\n`,
    );
    assert.deepEqual(
      JSON.parse(await runCli(['superoffice', 'webhook', 'list', 'so', '--json'], configPath)),
      [],
    );
  });
});
