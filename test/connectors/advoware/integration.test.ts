/**
 * The advoware client and connector against the simulator over HTTP (issue 5 acceptance): discovery with
 * and without connectorUrl, the token vector and a wrong signature, token reuse and re-auth on 401, GET
 * shapes, POST and read-modify-write PUT with the rowId read back, Kommunikationen (kommKz never sent on
 * PUT, read back as 0, no DELETE), stale versions, list paging, 429/5xx/timeouts, and the change webhooks
 * into a real receiver (buildServer + SQLite).
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { afterEach, describe, it } from 'node:test';
import { StaleWriteError, WebhookAuthError } from '../../../src/core/errors.ts';
import { AdvowareApi, advowareConnector, guessKommKz } from '../../../src/connectors/advoware/index.ts';
import type { AdvowareConnector } from '../../../src/connectors/advoware/index.ts';
import { AdvowareClient } from '../../../src/connectors/advoware/client.ts';
import { AdvowareApiError, AdvowareAuthError } from '../../../src/connectors/advoware/errors.ts';
import type { AdvowareOptions } from '../../../src/connectors/advoware/options.ts';
import { startAdvowareSimulator } from '../../../src/simulators/advoware/index.ts';
import type { AdvowareSimulator, AdvowareSimulatorOptions } from '../../../src/simulators/advoware/index.ts';
import type { Clock } from '../../../src/ports/clock.ts';
import { systemClock } from '../../../src/ports/clock.ts';
import type { ConnectorStateRepository } from '../../../src/ports/store.ts';
import { eventually } from '../../support/eventually.ts';
import { ManualClock } from '../../support/manual-clock.ts';
import { simAdmin, simRequestCounts } from '../../support/sim-admin.ts';
import { startWebhookReceiver } from '../../support/webhook-receiver.ts';
import { memoryState, recorder, silentLogger } from '../superoffice/support.ts';
import { recordedWaits } from '../../support/recorded-waits.ts';
import { VendorWriteAmbiguousError } from '../../../src/connectors/shared/api-error.ts';

const WEBHOOK_SECRET = 'advoware-integration-webhook-secret';
const TOKEN_ROUTE = 'POST api/v1/Token';
/** The reference's test vector (§3). */
const VECTOR = {
  appId: 'app-123',
  apiKey: Buffer.from('test-secret-key', 'utf8').toString('base64'),
  nonce: 'nonce-abc',
  timestamp: '2026-08-30T00:00:00.000Z',
};

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function simulator(options: AdvowareSimulatorOptions = {}): Promise<AdvowareSimulator> {
  const sim = await startAdvowareSimulator({ port: 0, seed: true, ...options });
  cleanups.push(() => sim.close());
  return sim;
}

/** Connection options for the simulator's own credentials. */
function simOptions(sim: AdvowareSimulator, overrides: Record<string, unknown> = {}): AdvowareOptions {
  return advowareConnector.optionsSchema.parse({
    configuratorUrl: sim.configuratorUrl,
    ...sim.credentials,
    requestsPerSecond: 1_000,
    ...overrides,
  });
}

interface ConnectOptions {
  readonly clock?: Clock;
  readonly state?: ConnectorStateRepository;
  readonly overrides?: Record<string, unknown>;
}

function connect(sim: AdvowareSimulator, options: ConnectOptions = {}) {
  const clock = options.clock ?? systemClock;
  const apiCalls = recorder();
  const connector = advowareConnector.create({
    connection: 'advo',
    options: simOptions(sim, options.overrides),
    clock,
    logger: silentLogger,
    apiCalls,
    state: options.state ?? memoryState(clock),
  }) as AdvowareConnector;
  cleanups.push(() => connector.close());
  return { connector, api: connector.api, apiCalls };
}

/** An API over a client whose waits (Retry-After, backoff) are recorded instead of slept. */
function recordingApi(sim: AdvowareSimulator, overrides: Record<string, unknown> = {}) {
  const apiCalls = recorder();
  const { waits, random, sleep } = recordedWaits();
  const options = simOptions(sim, overrides);
  const client = new AdvowareClient({
    connection: 'advo',
    options,
    clock: systemClock,
    state: memoryState(systemClock),
    apiCalls,
    random,
    sleep,
  });
  cleanups.push(() => client.close());
  return { api: new AdvowareApi(client, { betNrField: options.betNrField }), apiCalls, waits };
}

function calls(apiCalls: ReturnType<typeof recorder>, route: string): number {
  return apiCalls.calls.filter((call) => call.route === route).length;
}

/** Any seeded Beteiligter's number, through the connector's own list. */
async function someBetNr(connector: AdvowareConnector, index = 0): Promise<string> {
  const page = await connector.list({ entityType: 'Beteiligte', limit: index + 1 });
  const record = page.records[index];
  assert.ok(record !== undefined, 'the simulator is seeded');
  return record.id;
}

describe('advoware discovery and token', () => {
  it('uses connectorUrl when the configurator gives one', async () => {
    const sim = await simulator();
    const { connector } = connect(sim);
    const check = await connector.check();
    assert.equal(check.ok, true, check.message);
    assert.match(check.message, /via connectorUrl .*\/connector\//);
    const routes = Object.keys(await simRequestCounts(sim));
    assert.ok(routes.some((route) => route.startsWith('GET /connector/api/v1/advonet/Beteiligte')));
    assert.ok(!routes.some((route) => route.includes('/relay/')), routes.join(', '));
  });

  it('falls back to relayUrl when connectorUrl is null', async () => {
    const sim = await simulator({ connectorUrl: false });
    const { connector } = connect(sim);
    const betNr = await someBetNr(connector);
    assert.notEqual(await connector.read('Beteiligte', betNr), null);
    const routes = Object.keys(await simRequestCounts(sim));
    assert.ok(routes.some((route) => route.startsWith('GET /relay/api/v1/advonet/Beteiligte')));
    assert.ok(!routes.some((route) => route.includes('/connector/')), routes.join(', '));
  });

  it('gets a token for the reference test vector, signed independently here', async () => {
    const sim = await simulator({ credentials: { appId: VECTOR.appId, apiKey: VECTOR.apiKey } });
    const signature = createHmac('sha512', Buffer.from('test-secret-key', 'utf8'))
      .update(`64:${VECTOR.appId}:${VECTOR.nonce}:${VECTOR.timestamp}`)
      .digest('base64');
    assert.equal(
      signature,
      'o7rz9KmoXZs550HfzO6ffiG17XwiPmlBHlksUYKZ3jcfolELow51Fw5KlrQqCK5y41aIValDjrh1iQ2GZ2WtqQ==',
    );
    const { kanzlei, database, user, role, password } = sim.credentials;
    const response = await fetch(`${sim.securityGatewayUrl}api/v1/Token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        AppID: VECTOR.appId,
        Kanzlei: kanzlei,
        Database: database,
        User: user,
        Role: role,
        Product: 64,
        Password: password,
        Nonce: VECTOR.nonce,
        HMAC512Signature: signature,
        RequestTimeStamp: VECTOR.timestamp,
      }),
    });
    assert.equal(response.status, 200);
    const token = (await response.json()) as { access_token?: string; expiration_utc?: string };
    assert.ok(typeof token.access_token === 'string' && typeof token.expiration_utc === 'string');
    // The client signs with the same key and is let in too.
    const { connector } = connect(sim);
    assert.equal((await connector.check()).ok, true);
  });

  it('rejects a wrong API key with a typed error naming the settings to check', async () => {
    const sim = await simulator();
    const { connector } = connect(sim, {
      overrides: { apiKey: Buffer.from('not-the-key', 'utf8').toString('base64') },
    });
    await assert.rejects(
      () => connector.read('Beteiligte', '1'),
      (error: unknown) => {
        assert.ok(error instanceof AdvowareAuthError);
        assert.equal(error.code, 'ADVOWARE_AUTH_FAILED');
        assert.equal(error.retryable, false);
        assert.match(error.message, /HMAC512Signature/);
        assert.match(error.message, /ADVOWARE_API_KEY/);
        assert.ok(!error.message.includes(sim.credentials.password), 'no password in messages');
        return true;
      },
    );
    const check = await connector.check();
    assert.equal(check.ok, false);
  });

  it('says which settings to check for a wrong password or Kanzlei', async () => {
    const sim = await simulator();
    const wrongPassword = connect(sim, { overrides: { password: 'wrong-password' } }).connector;
    await assert.rejects(
      () => wrongPassword.read('Beteiligte', '1'),
      (error: unknown) =>
        error instanceof AdvowareAuthError &&
        /Falscher Name oder falsches Kennwort/.test(error.message) &&
        /ADVOWARE_PASSWORD/.test(error.message) &&
        !error.message.includes('wrong-password'),
    );
    const wrongKanzlei = connect(sim, { overrides: { kanzlei: 'unknown-firm' } }).connector;
    await assert.rejects(
      () => wrongKanzlei.read('Beteiligte', '1'),
      (error: unknown) =>
        error instanceof AdvowareAuthError &&
        error.code === 'ADVOWARE_DISCOVERY_FAILED' &&
        /nicht registriert/.test(error.message) &&
        /ADVOWARE_KANZLEI/.test(error.message),
    );
  });

  it('reuses the token until it expires, shares it through the connector state, re-auths on 401', async () => {
    const clock = new ManualClock(Date.UTC(2026, 2, 1, 8, 0, 0));
    const sim = await simulator({ clock, tokenTtlSeconds: 3_600 });
    const state = memoryState(clock);
    const { connector, apiCalls } = connect(sim, { clock, state });
    const betNr = await someBetNr(connector);
    for (let i = 0; i < 3; i++) await connector.read('Beteiligte', betNr);
    assert.equal(calls(apiCalls, TOKEN_ROUTE), 1, 'one token for many calls');

    // A second instance (a restart) finds the token in the connector state.
    const restarted = connect(sim, { clock, state });
    await restarted.connector.read('Beteiligte', betNr);
    assert.equal(calls(restarted.apiCalls, TOKEN_ROUTE), 0);
    assert.equal(calls(restarted.apiCalls, 'GET AdvonetConfigurator/api/Url'), 0, 'discovery cached too');

    clock.advance(3_600_000 - 60_000); // inside the refresh margin (120 s)
    await connector.read('Beteiligte', betNr);
    assert.equal(calls(apiCalls, TOKEN_ROUTE), 2, 'renewed before expiry');

    await simAdmin(sim, 'POST', 'tokens/revoke');
    assert.notEqual(await connector.read('Beteiligte', betNr), null);
    assert.equal(calls(apiCalls, TOKEN_ROUTE), 3, 'one re-auth after the 401');
    const statuses = apiCalls.calls
      .filter((call) => call.route === 'GET Beteiligte/:betNr')
      .map((call) => call.status);
    assert.deepEqual(statuses.slice(-2), [401, 200]);

    await simAdmin(sim, 'POST', 'tokens/revoke');
    await Promise.all(Array.from({ length: 5 }, () => connector.read('Beteiligte', betNr)));
    assert.equal(calls(apiCalls, TOKEN_ROUTE), 4, 'concurrent 401s share one re-auth');
  });
});

describe('advoware Beteiligte', () => {
  it('reads an object and a one-element array alike; null for an unknown betNr', async () => {
    const sim = await simulator();
    const { connector } = connect(sim);
    const betNr = await someBetNr(connector);
    const asObject = await connector.read('Beteiligte', betNr);
    await simAdmin(sim, 'POST', 'quirks', { getReturnsArray: true });
    const fromArray = await connector.read('Beteiligte', betNr);
    assert.deepEqual(fromArray, asObject);
    assert.equal(asObject?.version, asObject?.fields['rowId']);
    assert.equal(await connector.read('Beteiligte', '999999999'), null);
  });

  it('creates with POST and reads the new rowId back', async () => {
    const sim = await simulator();
    const { connector, apiCalls } = connect(sim);
    const created = await connector.write({
      entityType: 'Beteiligte',
      fields: { name: 'Muster GmbH', ort: 'Köln' },
    });
    assert.match(created.id, /^\d+$/);
    assert.ok(
      created.version !== null && created.version !== '',
      'rowId read back (the POST answer lacks it)',
    );
    const stored = await connector.read('Beteiligte', created.id);
    assert.equal(stored?.version, created.version);
    assert.equal(stored?.fields['name'], 'Muster GmbH');
    assert.equal(stored?.fields['ort'], 'Köln');
    assert.equal(calls(apiCalls, 'POST Beteiligte'), 1);
  });

  it('updates by read-modify-write: untouched fields survive a full-replace PUT, rowId changes each time', async () => {
    const sim = await simulator();
    const { connector, apiCalls } = connect(sim);
    const created = await connector.write({
      entityType: 'Beteiligte',
      fields: { name: 'Mustermann', vorname: 'Max', strasse: 'Hauptstr. 1', plz: '50667', ort: 'Köln' },
    });
    const versions = [created.version];
    const first = await connector.write({
      entityType: 'Beteiligte',
      id: created.id,
      fields: { ort: 'Bonn' },
    });
    versions.push(first.version);
    const second = await connector.write({
      entityType: 'Beteiligte',
      id: created.id,
      fields: { vorname: 'Moritz' },
      expectedVersion: first.version,
    });
    versions.push(second.version);
    assert.equal(new Set(versions).size, 3, `a new rowId after every write: ${versions.join(', ')}`);
    const stored = await connector.read('Beteiligte', created.id);
    assert.equal(stored?.version, second.version);
    assert.deepEqual(
      {
        name: stored?.fields['name'],
        vorname: stored?.fields['vorname'],
        strasse: stored?.fields['strasse'],
        plz: stored?.fields['plz'],
        ort: stored?.fields['ort'],
      },
      { name: 'Mustermann', vorname: 'Moritz', strasse: 'Hauptstr. 1', plz: '50667', ort: 'Bonn' },
    );
    // GET, PUT, GET per update.
    assert.equal(calls(apiCalls, 'PUT Beteiligte/:betNr'), 2);
  });

  it("where advoware checks the rowId (putChecksRowId), an update is one PUT from the caller's read; a stale one is refused", async () => {
    const sim = await simulator({ quirks: { putChecksRowId: true, writeResponseIncludesRowId: true } });
    const { connector, apiCalls } = connect(sim, {
      overrides: { putChecksRowId: true, writeAnswersRowId: true },
    });
    assert.equal(connector.capabilities.conditionalWrite, 'atomic');
    const betNr = await someBetNr(connector);
    const read = (await connector.read('Beteiligte', betNr))!;
    const getsBefore = calls(apiCalls, 'GET Beteiligte/:betNr');
    const written = await connector.write({
      entityType: 'Beteiligte',
      id: betNr,
      fields: { ort: 'Bonn' },
      expectedVersion: read.version,
      current: read,
    });
    assert.notEqual(written.version, read.version);
    assert.equal(calls(apiCalls, 'PUT Beteiligte/:betNr'), 1);
    assert.equal(calls(apiCalls, 'GET Beteiligte/:betNr'), getsBefore, 'no GET of its own, no read-back');
    assert.equal((await connector.read('Beteiligte', betNr))?.fields['ort'], 'Bonn');
    // A person saves; a write based on the old read is refused by advoware itself.
    await simAdmin(sim, 'POST', `act/anna/Beteiligte/${betNr}`, { ort: 'Aachen' });
    await assert.rejects(
      connector.write({
        entityType: 'Beteiligte',
        id: betNr,
        fields: { ort: 'Düsseldorf' },
        expectedVersion: written.version,
        current: written.record!,
      }),
      StaleWriteError,
    );
    assert.equal((await connector.read('Beteiligte', betNr))?.fields['ort'], 'Aachen');
  });

  it('refuses a write based on a stale rowId, without a PUT', async () => {
    const sim = await simulator();
    const { connector, apiCalls } = connect(sim);
    const betNr = await someBetNr(connector);
    const before = await connector.read('Beteiligte', betNr);
    await simAdmin(sim, 'POST', `act/anna/Beteiligte/${betNr}`, { ort: 'Aachen' });
    await assert.rejects(
      () =>
        connector.write({
          entityType: 'Beteiligte',
          id: betNr,
          fields: { ort: 'Düsseldorf' },
          expectedVersion: before?.version ?? null,
        }),
      StaleWriteError,
    );
    assert.equal(calls(apiCalls, 'PUT Beteiligte/:betNr'), 0);
    assert.equal((await connector.read('Beteiligte', betNr))?.fields['ort'], 'Aachen');
  });

  it('lists every seeded Beteiligter page by page', async () => {
    const sim = await simulator();
    const { connector } = connect(sim);
    const seen = new Set<string>();
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await connector.list({ entityType: 'Beteiligte', limit: 70, ...(cursor && { cursor }) });
      for (const record of page.records) {
        assert.ok(!seen.has(record.id), `no record twice (${record.id})`);
        assert.ok(record.version !== null);
        seen.add(record.id);
      }
      cursor = page.nextCursor ?? undefined;
      pages += 1;
    } while (cursor !== undefined);
    assert.equal(seen.size, 300);
    assert.equal(pages, 5);
  });

  it('takes an unpaged collection as one page', async () => {
    const sim = await simulator({ seed: 120, quirks: { collectionPaging: false } });
    const { connector } = connect(sim);
    const page = await connector.list({ entityType: 'Beteiligte', limit: 50 });
    assert.equal(page.records.length, 120);
    assert.equal(page.nextCursor, null);
  });
});

describe('advoware Kommunikationen', () => {
  it('creates and updates; kommKz reads back as 0 and is guessed; rowIds change; kommKz never sent on PUT', async () => {
    // With kommKzIgnoredOnPut off the simulator answers 400 to any PUT that carries kommKz.
    const sim = await simulator({ quirks: { kommKzIgnoredOnPut: false } });
    const { connector, api } = connect(sim);
    const created = await connector.write({
      entityType: 'Beteiligte',
      fields: { name: 'Muster', vorname: 'Erika', mobil: '+49 171 5550101' },
    });
    const mail = await api.createKommunikation(created.id, {
      tlf: 'erika@example.com',
      kommKz: 8,
      bemerkung: 'privat',
      online: true,
    });
    assert.equal(mail.kommunikation.kommKz, 0, 'the vendor bug: kommKz reads back as 0');
    assert.equal(mail.kommunikation.tlf, 'erika@example.com');
    assert.notEqual(mail.beteiligterRowId, created.version, 'the parent rowId changed');
    assert.ok(mail.kommunikation.rowId !== null);

    const mobile = await api.createKommunikation(created.id, { tlf: '0049 171 5550101', kommKz: 3 });
    const record = await connector.read('Beteiligte', created.id);
    assert.ok(record !== null);
    assert.deepEqual(guessKommKz(mobile.kommunikation, record.fields), { kommKz: 3, source: 'hint' });
    assert.deepEqual(guessKommKz(mail.kommunikation, record.fields), { kommKz: 4, source: 'pattern' });

    const updated = await api.updateKommunikation(
      created.id,
      mail.kommunikation.id,
      { tlf: 'erika.muster@example.com' },
      { expectedRowId: mail.kommunikation.rowId },
    );
    assert.equal(updated.kommunikation.tlf, 'erika.muster@example.com');
    assert.equal(updated.kommunikation.bemerkung, 'privat', 'untouched fields kept');
    assert.equal(updated.kommunikation.online, true);
    assert.notEqual(updated.kommunikation.rowId, mail.kommunikation.rowId);
    assert.notEqual(updated.beteiligterRowId, mobile.beteiligterRowId);
    const items = await api.listKommunikationen(created.id);
    assert.deepEqual(items.map((item) => item.tlf).sort(), ['0049 171 5550101', 'erika.muster@example.com']);
    const putRoute = 'PUT /connector/api/v1/advonet/Beteiligte/:betnr/Kommunikationen/:id';
    assert.deepEqual((await simRequestCounts(sim))[putRoute], { '200': 1 });
    // The control: the same PUT with kommKz in the body is refused, so the client's PUT did not carry it.
    const session = await api.client.session();
    const withKommKz = await fetch(
      `${session.apiBaseUrl}api/v1/advonet/Beteiligte/${created.id}/Kommunikationen/${mail.kommunikation.id}`,
      {
        method: 'PUT',
        headers: { authorization: `Bearer ${session.accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ tlf: 'x@example.com', bemerkung: null, online: true, kommKz: 4 }),
      },
    );
    assert.equal(withKommKz.status, 400);
  });

  it('refuses a Kommunikation update based on a stale rowId', async () => {
    const sim = await simulator();
    const { connector, api } = connect(sim);
    const { id: betNr } = await connector.write({ entityType: 'Beteiligte', fields: { name: 'Stale KG' } });
    const { kommunikation } = await api.createKommunikation(betNr, { tlf: '0221 1', kommKz: 1 });
    await simAdmin(sim, 'POST', `act/ben/Beteiligte/${betNr}/Kommunikationen/${kommunikation.id}`, {
      bemerkung: 'vom Sekretariat',
    });
    await assert.rejects(
      () =>
        api.updateKommunikation(
          betNr,
          kommunikation.id,
          { tlf: '0221 2' },
          { expectedRowId: kommunikation.rowId },
        ),
      StaleWriteError,
    );
  });

  it('exposes no delete; a raw DELETE is answered 403', async () => {
    const sim = await simulator();
    const { connector, api } = connect(sim);
    const methods = Object.getOwnPropertyNames(Object.getPrototypeOf(api));
    assert.deepEqual(
      methods.filter((name) => /delete|remove/i.test(name)),
      [],
      methods.join(', '),
    );
    const { id: betNr } = await connector.write({ entityType: 'Beteiligte', fields: { name: 'Delete AG' } });
    const { kommunikation } = await api.createKommunikation(betNr, { tlf: 'info@delete.example', kommKz: 4 });
    const session = await api.client.session();
    const response = await fetch(
      `${session.apiBaseUrl}api/v1/advonet/Beteiligte/${betNr}/Kommunikationen/${kommunikation.id}`,
      { method: 'DELETE', headers: { authorization: `Bearer ${session.accessToken}` } },
    );
    assert.equal(response.status, 403);
    assert.equal((await api.listKommunikationen(betNr)).length, 1, 'still there');
  });
});

describe('advoware budget and failures', () => {
  it('waits Retry-After on 429 and succeeds', async () => {
    const sim = await simulator();
    const { api, apiCalls, waits } = recordingApi(sim);
    const [first] = await api.listBeteiligte({ skip: 0, take: 1 });
    const betNr = JSON.stringify(first?.['betNr']);
    await simAdmin(sim, 'POST', 'faults', { status429: { everyNth: 2, retryAfterSeconds: 3 } });
    for (let i = 0; i < 4; i++) assert.notEqual(await api.getBeteiligter(betNr), null);
    const statuses = apiCalls.calls
      .filter((call) => call.route === 'GET Beteiligte/:betNr')
      .map((c) => c.status);
    assert.ok(statuses.includes(429), statuses.join(','));
    // The pause is shared by the connection and ends at a point in time, so a caller that arrives a
    // millisecond later waits a millisecond less.
    assert.ok(
      waits.length > 0 && waits.every((ms) => ms > 2_900 && ms <= 3_000),
      `Retry-After honoured: ${waits.join(',')}`,
    );
  });

  it("keeps within the vendor's budget with its own token bucket", async () => {
    const sim = await simulator({ quirks: { requestBudgetPerSecond: 10 } });
    // Burst 3 + 3/s, plus discovery and token: at most 8 requests in any second of the simulator.
    const { connector, apiCalls } = connect(sim, { overrides: { requestsPerSecond: 3 } });
    const betNr = await someBetNr(connector);
    for (let i = 0; i < 8; i++) assert.notEqual(await connector.read('Beteiligte', betNr), null);
    assert.ok(!apiCalls.calls.some((call) => call.status === 429), 'never throttled');
  });

  it('gives up on 429 beyond maxRateLimitWaitMs with a retryable error', async () => {
    const sim = await simulator();
    const { api } = recordingApi(sim, { maxRateLimitWaitMs: 5_000 });
    await api.listBeteiligte({ take: 1 }); // token and discovery first: the fault hits every route
    await simAdmin(sim, 'POST', 'faults', { status429: { retryAfterSeconds: 2 } });
    await assert.rejects(
      () => api.listBeteiligte({ take: 1 }),
      (error: unknown) =>
        error instanceof AdvowareApiError && error.retryable && error.retryAfterMs === 2_000,
    );
  });

  it('retries a GET after 5xx and a timeout, never a POST', async () => {
    const sim = await simulator();
    const { api, apiCalls, waits } = recordingApi(sim, { requestTimeoutMs: 300 });
    const [first] = await api.listBeteiligte({ take: 1 });
    const betNr = JSON.stringify(first?.['betNr']);
    const getRoute = 'GET /connector/api/v1/advonet/Beteiligte/:betnr';
    await simAdmin(sim, 'POST', 'faults', { status5xx: { everyNth: 2, routes: [getRoute] } });
    assert.notEqual(await api.getBeteiligter(betNr), null);
    assert.notEqual(await api.getBeteiligter(betNr), null);
    await simAdmin(sim, 'POST', 'faults', { timeout: { everyNth: 2, hangMs: 5_000, routes: [getRoute] } });
    assert.notEqual(await api.getBeteiligter(betNr), null);
    assert.notEqual(await api.getBeteiligter(betNr), null);
    const statuses = apiCalls.calls
      .filter((call) => call.route === 'GET Beteiligte/:betNr')
      .map((c) => c.status);
    assert.ok(statuses.includes(503) && statuses.includes('error'), statuses.join(','));
    assert.equal(waits.length, 2, 'one backoff per failure');

    await simAdmin(sim, 'POST', 'faults', {
      status5xx: { routes: ['POST /connector/api/v1/advonet/Beteiligte'] },
    });
    await assert.rejects(
      () => api.createBeteiligter({ name: 'Nie Doppelt GmbH' }),
      (error: unknown) =>
        error instanceof VendorWriteAmbiguousError && error.status === 503 && error.retryable,
    );
    assert.equal(calls(apiCalls, 'POST Beteiligte'), 1, 'a POST is sent once');
  });
});

describe('advoware change webhooks', () => {
  /** A crmsync receiver (buildServer + SQLite) for the connection `advo`, feeding the sync flow. */
  async function receiver(connector: AdvowareConnector) {
    const server = await startWebhookReceiver({
      connection: 'advo',
      connector,
      flows: ['sync'],
      clock: systemClock,
    });
    cleanups.push(() => server.close());
    return server;
  }

  it('verifies signed change notices and parses them with rowId as version; tampered ones are refused', async () => {
    const sim = await simulator({ webhookRetryDelaysMs: [] });
    const { connector } = connect(sim, { overrides: { webhookSecret: WEBHOOK_SECRET } });
    const target = await receiver(connector);
    await simAdmin(sim, 'POST', 'webhooks', { url: target.webhookUrl, secret: WEBHOOK_SECRET });
    const betNr = await someBetNr(connector);
    const changed = await simAdmin<{ rowId: string }>(sim, 'POST', `act/anna/Beteiligte/${betNr}`, {
      ort: 'Trier',
    });
    await eventually(() => target.outcomes.includes('accepted'));
    const jobs = await target.backend.queue.list();
    assert.deepEqual(
      jobs.map((job) => job.recordKey),
      [`sync|advo/Beteiligte/${betNr}`],
    );
    const { payloads } = jobs[0]!;
    const event = payloads[0] as { occurredAt: string };
    assert.deepEqual(payloads, [
      {
        ref: { connection: 'advo', entityType: 'Beteiligte', id: betNr },
        kind: 'updated',
        vendorEvent: 'Beteiligte.changed',
        version: changed.rowId,
        eventId: `${betNr}:${changed.rowId}`,
        occurredAt: event.occurredAt,
      },
    ]);

    const body = Buffer.from(
      JSON.stringify({ event: 'Beteiligte.changed', betNr: Number(betNr), rowId: 'x' }),
    );
    const signature = `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(body).digest('hex')}`;
    const tampered = Buffer.from(body.toString('utf8').replace('"x"', '"y"'));
    assert.throws(
      () =>
        connector.verifyWebhook({
          headers: { 'x-advoware-signature': signature },
          rawBody: tampered,
          query: {},
          receivedAt: 0,
        }),
      WebhookAuthError,
    );
  });

  it('refuses webhooks without a webhookSecret, saying advoware is polled', async () => {
    const sim = await simulator({ seed: false });
    const { connector } = connect(sim);
    assert.throws(
      () => connector.verifyWebhook({ headers: {}, rawBody: Buffer.from('{}'), query: {}, receivedAt: 0 }),
      (error: unknown) =>
        error instanceof WebhookAuthError &&
        error.code === 'WEBHOOK_NOT_CONFIGURED' &&
        /polled/.test(error.message),
    );
  });
});
