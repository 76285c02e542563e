/**
 * The Advoware simulator over real HTTP: configurator (with and without connectorUrl), the token endpoint
 * (the reference's test vector, signatures computed here with node:crypto, wrong signature / password /
 * product, expiry, revocation, the optional skew and nonce checks), Beteiligte CRUD with its quirks,
 * Kommunikationen with theirs (DELETE 403, kommKz read as 0, kommKz ignored on PUT), each switched off too,
 * rowId renewal after every write, the admin API (reset, seed, act as a human), faults, the request budget,
 * request counts, persistence and the signed change webhooks.
 */
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startAdvowareSimulator } from '../../../src/simulators/advoware/index.ts';
import type {
  AdvowareCredentials,
  AdvowareSimulator,
  AdvowareSimulatorOptions,
} from '../../../src/simulators/advoware/index.ts';
import { eventually } from '../../support/eventually.ts';
import { ManualClock } from '../../support/manual-clock.ts';
import { makeTempDir } from '../../support/temp-dir.ts';

/** The reference's test vector (advoware-api.md §3). */
const VECTOR = {
  appId: 'app-123',
  apiKey: Buffer.from('test-secret-key', 'utf8').toString('base64'),
  nonce: 'nonce-abc',
  timestamp: '2026-08-30T00:00:00.000Z',
  signature: 'o7rz9KmoXZs550HfzO6ffiG17XwiPmlBHlksUYKZ3jcfolELow51Fw5KlrQqCK5y41aIValDjrh1iQ2GZ2WtqQ==',
};
const VECTOR_TIME = Date.parse(VECTOR.timestamp);

/** The signature as the reference defines it, computed independently of the simulator. */
function sign(product: number, appId: string, nonce: string, timestamp: string, apiKey: string): string {
  return createHmac('sha512', Buffer.from(apiKey, 'base64'))
    .update(`${product}:${appId}:${nonce}:${timestamp}`, 'utf8')
    .digest('base64');
}

/** A token request body for `credentials`, signed; `overrides` replace fields after signing. */
function tokenBody(
  credentials: AdvowareCredentials,
  clock: ManualClock,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  const nonce = randomUUID();
  const timestamp = new Date(clock.now()).toISOString();
  return {
    AppID: credentials.appId,
    Kanzlei: credentials.kanzlei,
    Database: credentials.database,
    User: credentials.user,
    Role: credentials.role,
    Product: 64,
    Password: credentials.password,
    Nonce: nonce,
    HMAC512Signature: sign(64, credentials.appId, nonce, timestamp, credentials.apiKey),
    RequestTimeStamp: timestamp,
    ...overrides,
  };
}

/** An answer: status, headers, parsed JSON body (undefined when empty). */
interface Answer<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

async function call<T = Record<string, unknown>>(
  url: string,
  method = 'GET',
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer<T>> {
  const response = await fetch(url, {
    method,
    headers: { ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: (text === '' ? undefined : JSON.parse(text)) as T,
  };
}

/** A token for the simulator's API user. */
async function getToken(sim: AdvowareSimulator, clock: ManualClock): Promise<string> {
  const answer = await call<{ access_token: string }>(
    `${sim.securityGatewayUrl}api/v1/Token`,
    'POST',
    tokenBody(sim.credentials, clock),
  );
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body.access_token;
}

/** Calls below `${base}api/v1/advonet/` with a bearer token. */
function apiClient(base: string, token: string) {
  return <T = Record<string, unknown>>(method: string, path: string, body?: unknown) =>
    call<T>(`${base}api/v1/advonet/${path}`, method, body, { authorization: `Bearer ${token}` });
}

/** Calls the admin API. */
function adminClient(sim: AdvowareSimulator) {
  return <T = Record<string, unknown>>(method: string, path: string, body?: unknown) =>
    call<T>(`${sim.url}/_sim/${path}`, method, body);
}

/** A Kommunikation on the wire. */
interface Komm {
  id: number;
  rowId?: string;
  tlf: string;
  bemerkung: string | null;
  kommKz: number;
  online: boolean;
}

/** A Beteiligter on the wire. */
interface Bet {
  betNr: number;
  name: string | null;
  vorname: string | null;
  ort: string | null;
  mobil: string | null;
  rowId?: string;
  kommunikation: Komm[];
  Message?: string;
}

/** A simulator with a manual clock and helpers, started before and closed after a describe block. */
function withSimulator(options: AdvowareSimulatorOptions = {}) {
  const clock = new ManualClock(VECTOR_TIME);
  const context = {
    clock,
    sim: undefined as unknown as AdvowareSimulator,
    api: undefined as unknown as ReturnType<typeof apiClient>,
    admin: undefined as unknown as ReturnType<typeof adminClient>,
  };
  before(async () => {
    context.sim = await startAdvowareSimulator({ seed: 20, clock, ...options });
    context.api = apiClient(context.sim.relayUrl, await getToken(context.sim, clock));
    context.admin = adminClient(context.sim);
  });
  after(() => context.sim.close());
  return context;
}

/** Sets quirks for the duration of `body`, then back to what they were. */
async function withQuirks(
  admin: ReturnType<typeof adminClient>,
  quirks: Record<string, unknown>,
  body: () => Promise<void>,
): Promise<void> {
  const before = (await admin('GET', 'quirks')).body;
  await admin('POST', 'quirks', quirks);
  try {
    await body();
  } finally {
    await admin('POST', 'quirks', before);
  }
}

describe('configurator', () => {
  test('answers the three base URLs with trailing slashes, or connectorUrl null', async () => {
    for (const connectorUrl of [true, false]) {
      const sim = await startAdvowareSimulator({ seed: false, connectorUrl });
      try {
        const answer = await call(`${sim.configuratorUrl}?Kanzlei=${sim.credentials.kanzlei}`);
        assert.equal(answer.status, 200);
        assert.deepEqual(answer.body, {
          relayUrl: `${sim.url}/relay/`,
          connectorUrl: connectorUrl ? `${sim.url}/connector/` : null,
          securityGateway: `${sim.url}/security/`,
        });
        assert.equal(sim.configuratorUrl, `${sim.url}/AdvonetConfigurator/api/Url`);
      } finally {
        await sim.close();
      }
    }
  });

  test('an unknown Kanzlei is 404 "nicht registriert", a missing one 400', async () => {
    const sim = await startAdvowareSimulator({ seed: false });
    try {
      const unknown = await call<{ Message: string }>(`${sim.configuratorUrl}?Kanzlei=nobody`);
      assert.equal(unknown.status, 404);
      assert.match(unknown.body.Message, /nobody ist nicht registriert/);
      assert.equal((await call(sim.configuratorUrl)).status, 400);
    } finally {
      await sim.close();
    }
  });
});

describe('token endpoint', () => {
  const clock = new ManualClock(VECTOR_TIME);
  let sim: AdvowareSimulator;
  const vectorBody = () => ({
    AppID: VECTOR.appId,
    Kanzlei: sim.credentials.kanzlei,
    Database: sim.credentials.database,
    User: sim.credentials.user,
    Role: 2,
    Product: 64,
    Password: sim.credentials.password,
    Nonce: VECTOR.nonce,
    HMAC512Signature: VECTOR.signature,
    RequestTimeStamp: VECTOR.timestamp,
  });
  const tokenUrl = () => `${sim.securityGatewayUrl}api/v1/Token`;
  before(async () => {
    sim = await startAdvowareSimulator({
      seed: 5,
      clock,
      tokenTtlSeconds: 600,
      credentials: { appId: VECTOR.appId, apiKey: VECTOR.apiKey },
    });
  });
  after(() => sim.close());

  test('the reference test vector is accepted and answered with token, expiry and type', async () => {
    // The independent computation reproduces the vector, so the check below tests the simulator.
    assert.equal(sign(64, VECTOR.appId, VECTOR.nonce, VECTOR.timestamp, VECTOR.apiKey), VECTOR.signature);
    const answer = await call<Record<string, unknown>>(tokenUrl(), 'POST', vectorBody());
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(typeof answer.body.access_token, 'string');
    assert.equal(answer.body.expiration_utc, '2026-08-30T00:10:00.0000000Z');
    assert.equal(answer.body.expires_in, 600);
    assert.equal(answer.body.token_type, 'Bearer');
  });

  test('a wrong signature, password, product, App-ID or Kanzlei is rejected with the vendor fragments', async () => {
    const cases: [Record<string, unknown>, number, RegExp][] = [
      [{ HMAC512Signature: VECTOR.signature.replace('o7', 'o8') }, 401, /HMAC512Signature ist ungültig/],
      [{ Password: 'wrong' }, 401, /Falscher Name oder falsches Kennwort/],
      [{ User: 'XY' }, 401, /Falscher Name oder falsches Kennwort/],
      [{ Role: 1 }, 401, /Falscher Name oder falsches Kennwort/],
      [{ AppID: 'other-app' }, 401, /App-ID other-app ist nicht registriert/],
      [{ Kanzlei: 'other' }, 401, /Kanzlei other ist nicht registriert/],
      [{ Database: 'other' }, 401, /Datenbank other ist nicht angemeldet/],
      [{ Nonce: undefined }, 400, /The Nonce field is required/],
    ];
    for (const [overrides, status, message] of cases) {
      const answer = await call<{ Message: string }>(
        tokenUrl(),
        'POST',
        tokenBody(sim.credentials, clock, overrides),
      );
      assert.equal(answer.status, status, JSON.stringify(overrides));
      assert.match(answer.body.Message, message);
    }
    // Product 1 (advo-net's own app), correctly signed: not unlocked for third parties.
    const nonce = randomUUID();
    const product1 = tokenBody(sim.credentials, clock, {
      Product: 1,
      Nonce: nonce,
      HMAC512Signature: sign(1, VECTOR.appId, nonce, VECTOR.timestamp, VECTOR.apiKey),
    });
    const answer = await call<{ Message: string }>(tokenUrl(), 'POST', product1);
    assert.equal(answer.status, 403);
    assert.match(answer.body.Message, /nicht freigeschaltet/);
  });

  test('the password never appears in an answer', async () => {
    const answer = await call(tokenUrl(), 'POST', tokenBody(sim.credentials, clock, { User: 'nobody' }));
    assert.equal(JSON.stringify(answer.body).includes(sim.credentials.password), false);
  });

  test('a token works until its expiry by the simulator clock, then 401', async () => {
    const api = apiClient(sim.relayUrl, await getToken(sim, clock));
    assert.equal((await api('GET', 'Beteiligte/10001')).status, 200);
    clock.advance(599_000);
    assert.equal((await api('GET', 'Beteiligte/10001')).status, 200);
    clock.advance(1_000);
    const expired = await api<{ Message: string }>('GET', 'Beteiligte/10001');
    assert.equal(expired.status, 401);
    assert.match(expired.headers.get('www-authenticate') ?? '', /invalid_token.*expired/);
    assert.equal((await call(`${sim.relayUrl}api/v1/advonet/Beteiligte/10001`)).status, 401);
  });

  test('revoked tokens are 401', async () => {
    const api = apiClient(sim.relayUrl, await getToken(sim, clock));
    assert.equal((await api('GET', 'Beteiligte')).status, 200);
    assert.equal((await adminClient(sim)('POST', 'tokens/revoke')).status, 200);
    assert.equal((await api('GET', 'Beteiligte')).status, 401);
  });

  test('clock skew and nonce reuse are accepted by default and rejected when switched on', async () => {
    const admin = adminClient(sim);
    const stale = new Date(clock.now() - 3_600_000).toISOString();
    const nonce = randomUUID();
    const body = tokenBody(sim.credentials, clock, {
      Nonce: nonce,
      RequestTimeStamp: stale,
      HMAC512Signature: sign(64, VECTOR.appId, nonce, stale, VECTOR.apiKey),
    });
    assert.equal((await call(tokenUrl(), 'POST', body)).status, 200);
    assert.equal((await call(tokenUrl(), 'POST', body)).status, 200, 'nonce reuse allowed by default');
    await withQuirks(admin, { maxClockSkewSeconds: 300, rejectReusedNonce: true }, async () => {
      const skewed = await call<{ Message: string }>(tokenUrl(), 'POST', body);
      assert.equal(skewed.status, 401);
      assert.match(skewed.body.Message, /RequestTimeStamp/);
      const fresh = tokenBody(sim.credentials, clock);
      assert.equal((await call(tokenUrl(), 'POST', fresh)).status, 200);
      const reused = await call<{ Message: string }>(tokenUrl(), 'POST', fresh);
      assert.equal(reused.status, 401);
      assert.match(reused.body.Message, /Nonce/);
    });
  });
});

describe('Beteiligte', () => {
  const ctx = withSimulator();

  test('POST creates a record; its answer lacks the rowId, GET shows it', async () => {
    const created = await ctx.api<Bet>('POST', 'Beteiligte', {
      name: 'Muster GmbH',
      ort: 'Köln',
      unknown: 1,
    });
    assert.equal(created.status, 201);
    assert.equal(created.body.name, 'Muster GmbH');
    assert.equal(created.body.vorname, null);
    assert.equal('rowId' in created.body, false);
    const read = await ctx.api<Bet>('GET', `Beteiligte/${created.body.betNr}`);
    assert.equal(read.status, 200);
    assert.match(read.body.rowId ?? '', /^[A-Za-z0-9+/]{40}$/);
    assert.deepEqual(read.body.kommunikation, []);
    assert.equal('unknown' in read.body, false);
  });

  test('POST without a name is 400 naming the field', async () => {
    const answer = await ctx.api<{ Message: string }>('POST', 'Beteiligte', { vorname: 'Max' });
    assert.equal(answer.status, 400);
    assert.match(answer.body.Message, /name field is required/);
  });

  test('PUT is a full replace and every write renews the rowId', async () => {
    const created = await ctx.api<Bet>('POST', 'Beteiligte', { name: 'Meier', vorname: 'Eva', ort: 'Bonn' });
    const path = `Beteiligte/${created.body.betNr}`;
    const first = (await ctx.api<Bet>('GET', path)).body.rowId;
    const put = await ctx.api<Bet>('PUT', path, { name: 'Meier', vorname: 'Eva' });
    assert.equal(put.status, 200);
    const second = await ctx.api<Bet>('GET', path);
    assert.equal(second.body.ort, null, 'a field missing from the PUT body is cleared');
    assert.notEqual(second.body.rowId, first);
    // The same values again still count as a write.
    await ctx.api('PUT', path, { ...second.body });
    assert.notEqual((await ctx.api<Bet>('GET', path)).body.rowId, second.body.rowId);
  });

  test('with putFullReplace off a PUT merges; writeResponseIncludesRowId shows the new rowId', async () => {
    const created = await ctx.api<Bet>('POST', 'Beteiligte', { name: 'Kurz', ort: 'Ulm' });
    const path = `Beteiligte/${created.body.betNr}`;
    await withQuirks(ctx.admin, { putFullReplace: false, writeResponseIncludesRowId: true }, async () => {
      const put = await ctx.api<Bet>('PUT', path, { vorname: 'Uwe' });
      assert.equal(put.body.ort, 'Ulm');
      assert.equal(put.body.vorname, 'Uwe');
      assert.equal(put.body.rowId, (await ctx.api<Bet>('GET', path)).body.rowId);
    });
  });

  test('GET returns a one-element array with getReturnsArray; unknown betNr is 404', async () => {
    await withQuirks(ctx.admin, { getReturnsArray: true }, async () => {
      const answer = await ctx.api<Bet[]>('GET', 'Beteiligte/10001');
      assert.equal(Array.isArray(answer.body), true);
      assert.equal(answer.body.length, 1);
      assert.equal(answer.body[0]?.betNr, 10001);
    });
    assert.equal(Array.isArray((await ctx.api('GET', 'Beteiligte/10001')).body), false);
    assert.equal((await ctx.api('GET', 'Beteiligte/999999')).status, 404);
    assert.equal((await ctx.api('PUT', 'Beteiligte/999999', { name: 'x' })).status, 404);
    assert.equal((await ctx.api('GET', 'Beteiligte/abc')).status, 404);
  });

  test('putChecksRowId answers 409 to a stale rowId', async () => {
    const read = await ctx.api<Bet>('GET', 'Beteiligte/10002');
    await withQuirks(ctx.admin, { putChecksRowId: true }, async () => {
      assert.equal((await ctx.api('PUT', 'Beteiligte/10002', { ...read.body })).status, 200);
      assert.equal((await ctx.api('PUT', 'Beteiligte/10002', { ...read.body })).status, 409);
    });
  });

  test('the collection is a bare array in betNr order with skip/take paging, switchable', async () => {
    const all = await ctx.api<Bet[]>('GET', 'Beteiligte');
    assert.equal(all.status, 200);
    assert.ok(all.body.length >= 20);
    const numbers = all.body.map((record) => record.betNr);
    assert.deepEqual(
      numbers,
      [...numbers].sort((a, b) => a - b),
    );
    const page = await ctx.api<Bet[]>('GET', 'Beteiligte?skip=5&take=3');
    assert.deepEqual(
      page.body.map((record) => record.betNr),
      numbers.slice(5, 8),
    );
    assert.equal((await ctx.api('GET', 'Beteiligte?take=-1')).status, 400);
    await withQuirks(ctx.admin, { collectionPaging: false }, async () => {
      assert.equal((await ctx.api<Bet[]>('GET', 'Beteiligte?skip=5&take=3')).body.length, all.body.length);
    });
  });

  test('the connector prefix serves the same API', async () => {
    const token = await getToken(ctx.sim, ctx.clock);
    const viaConnector = await apiClient(ctx.sim.connectorBaseUrl, token)<Bet>('GET', 'Beteiligte/10003');
    assert.equal(viaConnector.status, 200);
    assert.deepEqual(viaConnector.body, (await ctx.api<Bet>('GET', 'Beteiligte/10003')).body);
  });

  test('the firm offline (kanzleiOffline) answers 503 "nicht angemeldet"', async () => {
    await withQuirks(ctx.admin, { kanzleiOffline: true }, async () => {
      const answer = await ctx.api<{ Message: string }>('GET', 'Beteiligte/10001');
      assert.equal(answer.status, 503);
      assert.match(answer.body.Message, /ist nicht angemeldet/);
    });
  });
});

describe('Kommunikationen', () => {
  const ctx = withSimulator();
  /** A fresh Beteiligter with one e-mail Kommunikation; returns betNr and the item's id. */
  const fresh = async () => {
    const bet = await ctx.api<Bet>('POST', 'Beteiligte', { name: 'Kommtest' });
    const item = await ctx.api<Komm>('POST', `Beteiligte/${bet.body.betNr}/Kommunikationen`, {
      tlf: 'max@example.com',
      kommKz: 4,
      bemerkung: 'Geschäftlich',
    });
    assert.equal(item.status, 201);
    return { betNr: bet.body.betNr, id: item.body.id, path: `Beteiligte/${bet.body.betNr}/Kommunikationen` };
  };

  test('POST requires tlf and a kommKz of 1..12', async () => {
    const { path } = await fresh();
    for (const body of [{ kommKz: 4 }, { tlf: 'x' }, { tlf: 'x', kommKz: 13 }, { tlf: 'x', kommKz: 0 }]) {
      const answer = await ctx.api<{ Message: string }>('POST', path, body);
      assert.equal(answer.status, 400, JSON.stringify(body));
    }
  });

  test('every read shows kommKz 0 (collection, item, embedded); switched off the real value', async () => {
    const { betNr, id, path } = await fresh();
    const item = await ctx.api<Komm>('GET', `${path}/${id}`);
    assert.equal(item.body.kommKz, 0);
    assert.equal(item.body.tlf, 'max@example.com');
    assert.equal(item.body.online, false);
    assert.equal((await ctx.api<Komm[]>('GET', path)).body[0]?.kommKz, 0);
    assert.equal((await ctx.api<Bet>('GET', `Beteiligte/${betNr}`)).body.kommunikation[0]?.kommKz, 0);
    await withQuirks(ctx.admin, { kommKzReadAsZero: false }, async () => {
      assert.equal((await ctx.api<Komm>('GET', `${path}/${id}`)).body.kommKz, 4);
    });
  });

  test('PUT writes tlf, bemerkung and online and ignores kommKz; switched off a kommKz is 400', async () => {
    const { id, path } = await fresh();
    const put = await ctx.api<Komm>('PUT', `${path}/${id}`, {
      tlf: 'neu@example.com',
      bemerkung: '[ESPOCRM:bmV1QGV4YW1wbGUuY29t:4] Geschäftlich',
      online: true,
      kommKz: 8,
    });
    assert.equal(put.status, 200);
    await withQuirks(ctx.admin, { kommKzReadAsZero: false }, async () => {
      const read = await ctx.api<Komm>('GET', `${path}/${id}`);
      assert.equal(read.body.tlf, 'neu@example.com');
      assert.equal(read.body.online, true);
      assert.equal(read.body.kommKz, 4, 'kommKz cannot change');
    });
    await withQuirks(ctx.admin, { kommKzIgnoredOnPut: false }, async () => {
      const rejected = await ctx.api<{ Message: string }>('PUT', `${path}/${id}`, { tlf: 'x', kommKz: 4 });
      assert.equal(rejected.status, 400);
      assert.match(rejected.body.Message, /kommKz is read-only/);
      assert.equal((await ctx.api('PUT', `${path}/${id}`, { tlf: 'x' })).status, 200);
    });
  });

  test('PUT is a full replace of the item by default (missing bemerkung cleared)', async () => {
    const { id, path } = await fresh();
    await ctx.api('PUT', `${path}/${id}`, { tlf: 'a@example.com' });
    const read = await ctx.api<Komm>('GET', `${path}/${id}`);
    assert.equal(read.body.bemerkung, null);
    assert.equal((await ctx.api('PUT', `${path}/${id}`, { bemerkung: 'x' })).status, 400, 'tlf is required');
  });

  test('DELETE is 403; switched off it deletes', async () => {
    const { id, path } = await fresh();
    const forbidden = await ctx.api('DELETE', `${path}/${id}`);
    assert.equal(forbidden.status, 403);
    assert.equal((await ctx.api('GET', `${path}/${id}`)).status, 200);
    await withQuirks(ctx.admin, { deleteForbidden: false }, async () => {
      assert.equal((await ctx.api('DELETE', `${path}/${id}`)).status, 204);
      assert.equal((await ctx.api('GET', `${path}/${id}`)).status, 404);
    });
  });

  test("every write renews the item's and the parent's rowId (parent part switchable)", async () => {
    const { betNr, id, path } = await fresh();
    const rowIds = async () => ({
      parent: (await ctx.api<Bet>('GET', `Beteiligte/${betNr}`)).body.rowId,
      item: (await ctx.api<Komm>('GET', `${path}/${id}`)).body.rowId,
    });
    const start = await rowIds();
    await ctx.api('PUT', `${path}/${id}`, { tlf: 'b@example.com' });
    const afterPut = await rowIds();
    assert.notEqual(afterPut.parent, start.parent);
    assert.notEqual(afterPut.item, start.item);
    await ctx.api('POST', path, { tlf: '+49 30 1', kommKz: 1 });
    const afterPost = await rowIds();
    assert.notEqual(afterPost.parent, afterPut.parent);
    assert.equal(afterPost.item, afterPut.item);
    await withQuirks(ctx.admin, { kommWriteChangesParentRowId: false }, async () => {
      await ctx.api('PUT', `${path}/${id}`, { tlf: 'c@example.com' });
      const afterQuirk = await rowIds();
      assert.equal(afterQuirk.parent, afterPost.parent);
      assert.notEqual(afterQuirk.item, afterPost.item);
    });
  });

  test('unknown Beteiligter or Kommunikation is 404', async () => {
    assert.equal((await ctx.api('GET', 'Beteiligte/999999/Kommunikationen')).status, 404);
    assert.equal((await ctx.api('GET', 'Beteiligte/10001/Kommunikationen/1')).status, 404);
    assert.equal((await ctx.api('PUT', 'Beteiligte/10001/Kommunikationen/1', { tlf: 'x' })).status, 404);
  });
});

/** Admin answers. */
interface AdminBody {
  beteiligte: number;
  withKommunikation: number;
  kommunikationen: number;
  created: number[];
  id: number;
  betNr: number;
  rowId: string;
  total: number;
  routes: Record<string, Record<string, number>>;
  data: { beteiligte: { kommunikation: { bemerkung: string | null }[] }[] };
}

describe('admin API', () => {
  const ctx = withSimulator();

  test('reset seeds 300 deterministic Beteiligte, about a third with communications and seed-003 markers', async () => {
    const reset = await ctx.admin<AdminBody>('POST', 'reset', {});
    assert.equal(reset.body.beteiligte, 300);
    assert.ok(reset.body.withKommunikation >= 70 && reset.body.withKommunikation <= 130);
    const state = (await ctx.admin<AdminBody>('GET', 'state')).body;
    const notes = state.data.beteiligte.flatMap((record) =>
      record.kommunikation.map((item) => item.bemerkung),
    );
    assert.ok(notes.some((note) => /^\[ESPOCRM:[A-Za-z0-9+/=]+:\d+\]/.test(note ?? '')));
    assert.ok(notes.some((note) => /^\[ESPOCRM-SLOT:\d+\]$/.test(note ?? '')));
    const people = await apiClient(ctx.sim.relayUrl, await getToken(ctx.sim, ctx.clock))<Bet[]>(
      'GET',
      'Beteiligte',
    );
    assert.ok(people.body.some((record) => record.vorname !== null));
    assert.ok(people.body.some((record) => record.vorname === null));
    // The same seed gives the same data in another simulator.
    const other = await startAdvowareSimulator({ clock: ctx.clock });
    try {
      const otherState = (await adminClient(other)<AdminBody>('GET', 'state')).body;
      assert.deepEqual(otherState.data, state.data);
    } finally {
      await other.close();
    }
  });

  test('reset without data, then seed adds demo and explicit records', async () => {
    assert.equal((await ctx.admin<AdminBody>('POST', 'reset', { seed: false })).body.beteiligte, 0);
    const seeded = await ctx.admin<AdminBody>('POST', 'seed', { count: 10 });
    assert.equal(seeded.body.beteiligte, 10);
    const explicit = await ctx.admin<AdminBody>('POST', 'seed', {
      beteiligte: [{ name: 'Explizit', kommunikation: [{ tlf: 'e@example.com', kommKz: 8 }] }],
    });
    assert.equal(explicit.body.beteiligte, 11);
    assert.equal(explicit.body.created.length, 1);
    assert.equal((await ctx.admin('POST', 'seed', { count: -1 })).status, 400);
  });

  test('acting as a human creates, updates and deletes with new rowIds', async () => {
    await ctx.admin('POST', 'reset', { seed: 3 });
    const api = apiClient(ctx.sim.relayUrl, await getToken(ctx.sim, ctx.clock));
    const created = await ctx.admin<AdminBody>('POST', 'act/anna/Beteiligte', {
      name: 'Neu',
      vorname: 'Nina',
    });
    assert.equal(created.status, 201);
    const read = await api<Bet>('GET', `Beteiligte/${created.body.betNr}`);
    assert.equal(read.body.rowId, created.body.rowId);
    const updated = await ctx.admin<AdminBody>('POST', `act/anna/Beteiligte/${created.body.betNr}`, {
      ort: 'Kiel',
    });
    assert.notEqual(updated.body.rowId, created.body.rowId);
    const after = await api<Bet>('GET', `Beteiligte/${created.body.betNr}`);
    assert.equal(after.body.ort, 'Kiel');
    assert.equal(after.body.vorname, 'Nina', 'a human edit keeps the other fields');
    const komm = await ctx.admin<AdminBody>(
      'POST',
      `act/ben/Beteiligte/${created.body.betNr}/Kommunikationen`,
      {
        tlf: '+49 171 1234567',
        kommKz: 3,
      },
    );
    assert.notEqual(komm.body.rowId, updated.body.rowId);
    const kommPath = `act/ben/Beteiligte/${created.body.betNr}/Kommunikationen/${komm.body.id}`;
    assert.equal((await ctx.admin('DELETE', kommPath)).status, 200, 'humans may delete a Kommunikation');
    assert.equal((await ctx.admin('DELETE', `act/admin/Beteiligte/${created.body.betNr}`)).status, 200);
    assert.equal((await api('GET', `Beteiligte/${created.body.betNr}`)).status, 404);
    assert.equal((await ctx.admin('POST', 'act/mallory/Beteiligte', { name: 'x' })).status, 404);
    assert.equal((await ctx.admin('POST', 'act/anna/Akten', { name: 'x' })).status, 404);
  });

  test('quirks reject unknown keys and wrong types', async () => {
    assert.equal((await ctx.admin('POST', 'quirks', { nope: true })).status, 400);
    assert.equal((await ctx.admin('POST', 'quirks', { deleteForbidden: 'yes' })).status, 400);
  });
});

describe('faults, budget and request counts', () => {
  const ctx = withSimulator();

  test('429 with Retry-After, 5xx and dropped requests on matching routes', async () => {
    const route = 'GET /relay/api/v1/advonet/Beteiligte/:betnr';
    await ctx.admin('POST', 'faults', { status429: { everyNth: 2, retryAfterSeconds: 7, routes: [route] } });
    assert.equal((await ctx.api('GET', 'Beteiligte/10001')).status, 200);
    const throttled = await ctx.api('GET', 'Beteiligte/10001');
    assert.equal(throttled.status, 429);
    assert.equal(throttled.headers.get('retry-after'), '7');
    assert.equal((await ctx.api('GET', 'Beteiligte')).status, 200, 'other routes are untouched');
    await ctx.admin('POST', 'faults', { status5xx: { everyNth: 1, status: 502 } });
    assert.equal((await ctx.api('GET', 'Beteiligte/10001')).status, 502);
    await ctx.admin('POST', 'faults', { timeout: { everyNth: 1, hangMs: 20, routes: [route] } });
    await assert.rejects(ctx.api('GET', 'Beteiligte/10001'));
    await ctx.admin('DELETE', 'faults');
    assert.equal((await ctx.api('GET', 'Beteiligte/10001')).status, 200);
  });

  test('the optional request budget answers 429 above N per second of the simulator clock', async () => {
    await withQuirks(ctx.admin, { requestBudgetPerSecond: 2 }, async () => {
      ctx.clock.advance(1_000);
      assert.equal((await ctx.api('GET', 'Beteiligte/10001')).status, 200);
      assert.equal((await ctx.api('GET', 'Beteiligte/10001')).status, 200);
      const over = await ctx.api('GET', 'Beteiligte/10001');
      assert.equal(over.status, 429);
      assert.equal(over.headers.get('retry-after'), '1');
      ctx.clock.advance(1_000);
      assert.equal((await ctx.api('GET', 'Beteiligte/10001')).status, 200);
    });
  });

  test('requests are counted per method, route template and status; the admin API is not', async () => {
    await ctx.admin('DELETE', 'requests');
    await ctx.api('GET', 'Beteiligte/10001');
    await ctx.api('GET', 'Beteiligte/10002');
    await ctx.api('GET', 'Beteiligte/999999');
    await ctx.api('PUT', 'Beteiligte/10001', { name: 'Neu' });
    const connector = apiClient(ctx.sim.connectorBaseUrl, await getToken(ctx.sim, ctx.clock));
    await connector('DELETE', 'Beteiligte/10001/Kommunikationen/1');
    const counts = (await ctx.admin<AdminBody>('GET', 'requests')).body;
    assert.deepEqual(counts.routes, {
      'DELETE /connector/api/v1/advonet/Beteiligte/:betnr/Kommunikationen/:id': { '403': 1 },
      'GET /relay/api/v1/advonet/Beteiligte/:betnr': { '200': 2, '404': 1 },
      'POST /security/api/v1/Token': { '200': 1 },
      'PUT /relay/api/v1/advonet/Beteiligte/:betnr': { '200': 1 },
    });
    assert.equal(counts.total, 6);
  });
});

describe('persistence', () => {
  test('records, rowIds, tokens and quirks survive a restart from the JSON file', async () => {
    const dir = makeTempDir('crmsync-advoware-sim-');
    const clock = new ManualClock(VECTOR_TIME);
    const persistFile = join(dir.path, 'advoware.json');
    try {
      const first = await startAdvowareSimulator({ clock, seed: 5, persistFile });
      const token = await getToken(first, clock);
      const created = await apiClient(first.relayUrl, token)<Bet>('POST', 'Beteiligte', { name: 'Bleibt' });
      await adminClient(first)('POST', 'quirks', { getReturnsArray: true });
      const before = await apiClient(first.relayUrl, token)<Bet[]>('GET', `Beteiligte/${created.body.betNr}`);
      await first.close();

      const second = await startAdvowareSimulator({ clock, persistFile });
      try {
        const again = await apiClient(second.relayUrl, token)<Bet[]>(
          'GET',
          `Beteiligte/${created.body.betNr}`,
        );
        assert.equal(again.status, 200);
        assert.deepEqual(again.body, before.body);
        const counts = (await adminClient(second)<{ counts: AdminBody }>('GET', 'state')).body.counts;
        assert.equal(counts.beteiligte, 6);
      } finally {
        await second.close();
      }
    } finally {
      dir.remove();
    }
  });
});

/** A webhook target that records what it receives; answers `status()` (200 unless changed). */
async function startReceiver() {
  const received: { headers: IncomingHttpHeaders; raw: Buffer }[] = [];
  let status = 200;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, raw: Buffer.concat(chunks) });
      response.statusCode = status;
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    setStatus: (next: number) => {
      status = next;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('change webhooks', () => {
  const ctx = withSimulator({ webhookRetryDelaysMs: [5] });
  const secret = 'webhook-secret-123';
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  before(async () => {
    receiver = await startReceiver();
  });
  after(() => receiver.close());

  test('nothing is sent without a registration', async () => {
    await ctx.api('PUT', 'Beteiligte/10001', { name: 'Still' });
    await ctx.sim.idle();
    assert.deepEqual((await ctx.admin<unknown[]>('GET', 'webhooks/deliveries')).body, []);
  });

  test('registered targets get signed created/changed/deleted events in order', async () => {
    const registered = await ctx.admin<{ id: string }>('POST', 'webhooks', { url: receiver.url, secret });
    assert.equal(registered.status, 201);
    const listed = await ctx.admin<Record<string, unknown>[]>('GET', 'webhooks');
    assert.equal(JSON.stringify(listed.body).includes(secret), false, 'the secret is never shown again');

    const created = await ctx.api<Bet>('POST', 'Beteiligte', { name: 'Hook' });
    await ctx.api('POST', `Beteiligte/${created.body.betNr}/Kommunikationen`, {
      tlf: 'h@example.com',
      kommKz: 4,
    });
    await ctx.admin('DELETE', `act/admin/Beteiligte/${created.body.betNr}`);
    await eventually(() => receiver.received.length === 3);

    const events = receiver.received.map(({ headers, raw }) => {
      const expected = `sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`;
      assert.equal(headers['x-advoware-signature'], expected);
      const body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
      assert.equal(headers['x-advoware-event'], body.event);
      assert.equal(body.betNr, created.body.betNr);
      assert.equal(body.at, new Date(ctx.clock.now()).toISOString());
      return body;
    });
    assert.deepEqual(
      events.map((event) => event.event),
      ['Beteiligte.created', 'Beteiligte.changed', 'Beteiligte.deleted'],
    );
    assert.equal(typeof events[1]?.rowId, 'string');
    assert.equal(events[2]?.rowId, null);
    await ctx.admin('DELETE', `webhooks/${registered.body.id}`);
  });

  test('a failing target is retried, and every attempt is listed', async () => {
    receiver.received.length = 0;
    receiver.setStatus(500);
    await ctx.admin('POST', 'webhooks', { url: receiver.url, secret, events: ['Beteiligte.changed'] });
    await ctx.api('PUT', 'Beteiligte/10002', { name: 'Retry' });
    await ctx.sim.idle();
    const attempts = (await ctx.admin<{ attempt: number; outcome: number }[]>('GET', 'webhooks/deliveries'))
      .body;
    assert.deepEqual(
      attempts.slice(-2).map((attempt) => [attempt.attempt, attempt.outcome]),
      [
        [1, 500],
        [2, 500],
      ],
    );
    assert.equal(receiver.received.length, 2);
    assert.equal((await ctx.admin('POST', 'webhooks', { url: 'ftp://x', secret })).status, 400);
  });
});
