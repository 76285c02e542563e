import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { CrmsyncError, StaleWriteError } from '../../../src/core/errors.ts';
import { getField, getId } from '../../../src/connectors/shared/casing.ts';
import { isIdempotent } from '../../../src/connectors/superoffice/client.ts';
import { SuperOfficeApi, httpDate, versionOf } from '../../../src/connectors/superoffice/endpoints.ts';
import { SuperOfficeApiError, SuperOfficeAuthError } from '../../../src/connectors/superoffice/errors.ts';
import { apiBaseFrom } from '../../../src/connectors/superoffice/auth.ts';
import { authBaseUrl, superOfficeOptionsSchema } from '../../../src/connectors/superoffice/options.ts';
import { TokenBucket } from '../../../src/connectors/shared/token-bucket.ts';
import { parseRetryAfter } from '../../../src/core/retry-after.ts';
import { ManualClock } from '../../support/manual-clock.ts';
import { memoryState, startFakeVendor, testClient, testOptions, tokenAnswer } from './support.ts';
import type { FakeAnswer, FakeRequest, FakeVendor } from './support.ts';
import { VendorWriteAmbiguousError } from '../../../src/connectors/shared/api-error.ts';

let vendor: FakeVendor | undefined;
afterEach(async () => {
  await vendor?.close();
  vendor = undefined;
});

/** A fake vendor whose token endpoint issues tok-1, tok-2, ... and whose API answers through `api`. */
async function fake(
  api: (request: FakeRequest) => FakeAnswer,
  token?: (request: FakeRequest) => FakeAnswer | undefined,
) {
  let issued = 0;
  vendor = await startFakeVendor((request) => {
    if (request.url.pathname === '/login/common/oauth/tokens') {
      return token?.(request) ?? tokenAnswer(vendor!.url, ++issued);
    }
    return api(request);
  });
  return vendor;
}

const apiRequests = (target: FakeVendor) =>
  target.requests.filter((r) => r.url.pathname.startsWith('/Cust1/'));

describe('superoffice options', () => {
  it("reads the seeds' numbered SO_ENVIRONMENT as its auth environment and derives the auth host", () => {
    const options = testOptions('http://127.0.0.1:1', { environment: 'online3', authBaseUrl: undefined });
    assert.equal(options.environment, 'online');
    assert.equal(authBaseUrl(options), 'https://online.superoffice.com');
    assert.equal(options.requestsPerSecond, 10);
    assert.equal(
      authBaseUrl({ environment: 'sod', authBaseUrl: 'http://127.0.0.1:9/' }),
      'http://127.0.0.1:9',
    );
  });

  it('rejects unknown keys, unknown environments and short webhook secrets with their paths', () => {
    const result = superOfficeOptionsSchema.safeParse({
      clientId: 'a',
      clientSecret: 'b',
      refreshToken: 'c',
      contextIdentifier: 'Cust1',
      environment: 'prod',
      webhookSecret: 'short',
      clientID: 'typo',
    });
    assert.equal(result.success, false);
    const paths = result.error?.issues.map((issue) => issue.path.join('.') || '(root)').sort();
    assert.deepEqual(paths, ['(root)', 'environment', 'webhookSecret']);
  });
});

describe('superoffice casing', () => {
  it('reads keys case-insensitively, exact match first', () => {
    assert.equal(getField({ contactId: 5 }, 'ContactId'), 5);
    assert.equal(getField({ ContactId: 5, contactid: 6 }, 'ContactId'), 5);
    assert.equal(getField({ name: 'x' }, 'missing'), undefined);
    assert.equal(getId({ PrimaryKey: 7 }, 'primarykey'), '7');
    assert.equal(getId({ PrimaryKey: '7' }, 'PrimaryKey'), '7');
    assert.equal(getId({ PrimaryKey: 7.5 }, 'PrimaryKey'), undefined);
  });
});

describe('superoffice rate limiting', () => {
  it('parses Retry-After as seconds or HTTP-date', () => {
    const now = Date.UTC(2026, 0, 1, 12, 0, 0);
    assert.equal(parseRetryAfter('3', now), 3_000);
    assert.equal(parseRetryAfter(new Date(now + 5_000).toUTCString(), now), 5_000);
    assert.equal(parseRetryAfter(new Date(now - 5_000).toUTCString(), now), 0);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter(undefined, now), undefined);
  });

  it('hands out the burst at once, then one token per 1/rate seconds', async () => {
    let now = 0;
    const slept: number[] = [];
    const bucket = new TokenBucket({
      ratePerSecond: 10,
      burst: 3,
      now: () => now,
      sleep: (ms) => {
        slept.push(ms);
        now += ms;
        return Promise.resolve();
      },
    });
    for (let i = 0; i < 5; i += 1) await bucket.take();
    assert.deepEqual(slept, [100, 100]);
    bucket.drain();
    now += 50;
    await bucket.take();
    assert.deepEqual(slept, [100, 100, 50]);
  });

  it('treats only GET, PUT, DELETE and conditional PATCH as idempotent', () => {
    assert.ok(isIdempotent('GET') && isIdempotent('PUT') && isIdempotent('DELETE'));
    assert.ok(!isIdempotent('POST') && !isIdempotent('PATCH'));
    assert.ok(isIdempotent('PATCH', { 'If-Unmodified-Since': 'x' }));
  });
});

describe('superoffice client', () => {
  it('refreshes with the form fields the vendor expects and sends the documented headers', async () => {
    const target = await fake(() => ({ body: { ContactId: 1, Name: 'ACME' } }));
    const { client, apiCalls } = testClient(target.url, new ManualClock());
    const api = new SuperOfficeApi(client);
    assert.deepEqual(await api.getEntity('Contact', '1'), { ContactId: 1, Name: 'ACME' });
    const [tokenRequest, apiRequest] = target.requests;
    assert.equal(tokenRequest?.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(tokenRequest?.headers.accept, 'application/json');
    assert.deepEqual(Object.fromEntries(new URLSearchParams(tokenRequest?.body)), {
      grant_type: 'refresh_token',
      client_id: 'client-id',
      client_secret: 'client-secret-value',
      refresh_token: 'refresh-token-value',
      redirect_uri: 'https://example.test/callback',
    });
    assert.equal(apiRequest?.url.pathname, '/Cust1/api/v1/Contact/1');
    assert.equal(apiRequest?.headers.authorization, 'Bearer tok-1');
    assert.equal(apiRequest?.headers.accept, 'application/json');
    assert.equal(apiRequest?.headers['accept-language'], '*');
    assert.deepEqual(
      apiCalls.calls.map((call) => [call.route, call.status]),
      [
        ['POST login/common/oauth/tokens', 200],
        ['GET Contact/:id', 200],
      ],
    );
    assert.equal((await client.session()).associateId, 528);
    await client.close();
  });

  it('caches the token until shortly before expiry, also across instances through the state', async () => {
    const target = await fake(() => ({ body: { ContactId: 1 } }));
    const clock = new ManualClock();
    const state = memoryState(clock);
    const first = testClient(target.url, clock, {}, state);
    await new SuperOfficeApi(first.client).getEntity('Contact', '1');
    const restarted = testClient(target.url, clock, {}, state);
    await new SuperOfficeApi(restarted.client).getEntity('Contact', '1');
    assert.equal(target.requests.filter((r) => r.url.pathname.includes('oauth')).length, 1);
    clock.advance(3_600_000 - 30_000); // inside the 60 s margin before expires_in
    await new SuperOfficeApi(restarted.client).getEntity('Contact', '1');
    assert.equal(target.requests.filter((r) => r.url.pathname.includes('oauth')).length, 2);
    assert.equal(target.requests.at(-1)?.headers.authorization, 'Bearer tok-2');
    await first.client.close();
    await restarted.client.close();
  });

  it('refreshes once on 401 and retries; a second 401 is a typed auth error', async () => {
    const target = await fake((request) =>
      request.headers.authorization === 'Bearer tok-2'
        ? { body: { ContactId: 1 } }
        : { status: 401, body: {} },
    );
    const { client } = testClient(target.url, new ManualClock());
    assert.deepEqual(await new SuperOfficeApi(client).getEntity('Contact', '1'), { ContactId: 1 });
    target.handle = (request) =>
      request.url.pathname.includes('oauth') ? tokenAnswer(target.url, 9) : { status: 401, body: {} };
    await assert.rejects(new SuperOfficeApi(client).getEntity('Contact', '1'), SuperOfficeAuthError);
    await client.close();
  });

  it('raises a typed, non-retryable auth error without secrets when the refresh token is rejected', async () => {
    const target = await fake(
      () => ({ body: {} }),
      () => ({ status: 400, body: { error: 'invalid_grant' } }),
    );
    const { client } = testClient(target.url, new ManualClock());
    const error = await new SuperOfficeApi(client).getEntity('Contact', '1').then(
      () => assert.fail('resolved'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof SuperOfficeAuthError);
    assert.equal(error.retryable, false);
    assert.match(error.message, /SO_REFRESH_TOKEN/);
    assert.doesNotMatch(error.message, /refresh-token-value|client-secret-value/);
    await client.close();
  });

  it('falls back to the tenant status endpoint without webapi_url and rediscovers on 421', async () => {
    let moved = false;
    const target = await fake(
      (request) => {
        if (request.url.pathname === '/api/state/Cust1') {
          return {
            body: {
              ContextIdentifier: 'Cust1',
              Endpoint: `${vendor!.url}/Cust1`,
              State: 'Running',
              IsRunning: true,
            },
          };
        }
        if (request.url.pathname.startsWith('/Cust1/api/v1/') && !moved) {
          moved = true;
          return { status: 421, body: {} };
        }
        return { body: { ContactId: 3 } };
      },
      () => ({ body: { token_type: 'Bearer', access_token: 'tok-x', expires_in: 3600 } }),
    );
    const { client } = testClient(target.url, new ManualClock());
    assert.deepEqual(await new SuperOfficeApi(client).getEntity('Contact', '3'), { ContactId: 3 });
    assert.deepEqual(
      target.requests.map((r) => r.url.pathname),
      [
        '/login/common/oauth/tokens',
        '/api/state/Cust1',
        '/Cust1/api/v1/Contact/3',
        '/api/state/Cust1',
        '/Cust1/api/v1/Contact/3',
      ],
    );
    await client.close();
  });

  it('waits Retry-After on 429 within the budget, then fails retryable with the wait', async () => {
    let calls = 0;
    const target = await fake(() =>
      ++calls <= 2 ? { status: 429, headers: { 'retry-after': '2' }, body: {} } : { body: { ContactId: 1 } },
    );
    const { client, waits } = testClient(target.url, new ManualClock(), { maxRateLimitWaitMs: 5_000 });
    assert.deepEqual(await new SuperOfficeApi(client).getEntity('Contact', '1'), { ContactId: 1 });
    assert.deepEqual(waits, [2_000, 2_000]);
    target.handle = () => ({ status: 429, headers: { 'retry-after': '2' }, body: {} });
    const error = await new SuperOfficeApi(client).getEntity('Contact', '1').then(
      () => assert.fail('resolved'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof SuperOfficeApiError);
    assert.equal(error.status, 429);
    assert.equal(error.retryable, true);
    assert.equal(error.retryAfterMs, 2_000);
    await client.close();
  });

  it('retries 5xx with backoff for GET but never repeats a POST', async () => {
    let calls = 0;
    const target = await fake((request) => {
      if (request.method === 'POST') return { status: 503, body: {} };
      return ++calls <= 2 ? { status: 502, body: {} } : { body: { ContactId: 1 } };
    });
    const { client, waits } = testClient(target.url, new ManualClock());
    const api = new SuperOfficeApi(client);
    assert.deepEqual(await api.getEntity('Contact', '1'), { ContactId: 1 });
    assert.deepEqual(waits, [250, 500]);
    await assert.rejects(api.createEntity('Contact', { Name: 'x' }), (error: unknown) => {
      assert.ok(error instanceof VendorWriteAmbiguousError);
      assert.equal(error.code, 'VENDOR_WRITE_AMBIGUOUS');
      assert.equal(error.status, 503);
      assert.equal(error.retryable, true);
      return true;
    });
    assert.equal(apiRequests(target).filter((r) => r.method === 'POST').length, 1);
    await client.close();
  });

  it('retries connection errors of idempotent calls and gives up with a typed error', async () => {
    const target = await fake(() => ({ body: {} }));
    const { client, waits } = testClient(target.url, new ManualClock(), { maxRetries: 2 });
    await client.session();
    await target.close(); // the tenant host goes away after the token was issued
    vendor = undefined;
    await assert.rejects(new SuperOfficeApi(client).getEntity('Contact', '1'), (error: unknown) => {
      assert.ok(error instanceof SuperOfficeApiError);
      assert.equal(error.status, 0);
      assert.equal(error.retryable, true);
      return true;
    });
    assert.equal(waits.length, 2);
    await client.close();
  });

  it('sends merge and JSON patches with their content types; 412 and 409 are StaleWriteError', async () => {
    const target = await fake((request) => {
      if (request.headers['if-unmodified-since'] !== undefined) return { status: 412, body: {} };
      if (request.body.includes('"test"')) return { status: 409, body: {} };
      return { body: { ContactId: 1, UpdatedDate: '2026-01-02T03:04:05' } };
    });
    const { client } = testClient(target.url, new ManualClock());
    const api = new SuperOfficeApi(client);
    await api.patchEntity('Contact', '1', { Department: 'Sales' });
    await api.patchEntity('Contact', '1', [{ op: 'replace', path: '/Department', value: 'Sales' }]);
    const patches = apiRequests(target);
    assert.equal(patches[0]?.headers['content-type'], 'application/merge-patch+json');
    assert.equal(patches[1]?.headers['content-type'], 'application/json-patch+json');
    assert.deepEqual(JSON.parse(patches[1]?.body ?? ''), [
      { op: 'replace', path: '/Department', value: 'Sales' },
    ]);
    await assert.rejects(
      api.patchEntity('Contact', '1', { Name: 'x' }, { ifUnmodifiedSince: '2026-01-02T03:04:05.000Z' }),
      StaleWriteError,
    );
    assert.equal(apiRequests(target).at(-1)?.headers['if-unmodified-since'], 'Fri, 02 Jan 2026 03:04:05 GMT');
    await assert.rejects(
      api.patchEntity('Contact', '1', [{ op: 'test', path: '/Name', value: 'y' }]),
      StaleWriteError,
    );
    await client.close();
  });

  it('follows odata.nextLink to the end and accepts string and numeric PrimaryKeys', async () => {
    const target = await fake((request) => {
      const skip = Number(request.url.searchParams.get('$skip') ?? '0');
      const rows = [
        { PrimaryKey: String(skip + 1), EntityName: 'contact', contactId: skip + 1 },
        { PrimaryKey: skip + 2, EntityName: 'contact', contactId: skip + 2 },
      ];
      const next =
        skip < 4 ? `${vendor!.url}/Cust1/api/v1/Contact?$select=contactId&$top=2&$skip=${skip + 2}` : null;
      return { body: { 'odata.metadata': 'x', 'odata.nextLink': next, value: rows } };
    });
    const { client, apiCalls } = testClient(target.url, new ManualClock());
    const ids: string[] = [];
    for await (const row of new SuperOfficeApi(client).archiveRows('Contact', {
      select: ['contactId'],
      top: 2,
      filter: "name begins 'A'",
    })) {
      ids.push(row.primaryKey);
    }
    assert.deepEqual(ids, ['1', '2', '3', '4', '5', '6']);
    const first = apiRequests(target)[0]!;
    assert.equal(first.url.searchParams.get('$filter'), "name begins 'A'");
    assert.equal(first.url.searchParams.get('$top'), '2');
    assert.equal(apiCalls.calls.filter((call) => call.route === 'GET Contact').length, 3);
    await client.close();
  });

  it('normalises version tokens and HTTP dates', () => {
    assert.equal(versionOf({ UpdatedDate: '2026-01-02T03:04:05' }), '2026-01-02T03:04:05.000Z');
    assert.equal(versionOf({ updatedDate: '2026-01-02T04:04:05+01:00' }), '2026-01-02T03:04:05.000Z');
    assert.equal(versionOf({}), null);
    assert.equal(httpDate(Date.UTC(2026, 0, 2, 3, 4, 5)), 'Fri, 02 Jan 2026 03:04:05 GMT');
    assert.equal(
      apiBaseFrom('https://online3.superoffice.com/Cust1/api/'),
      'https://online3.superoffice.com/Cust1/api/v1/',
    );
    assert.equal(
      apiBaseFrom('https://online3.superoffice.com/Cust1'),
      'https://online3.superoffice.com/Cust1/api/v1/',
    );
  });

  it('errors are CrmsyncErrors with stable codes', () => {
    assert.ok(
      new SuperOfficeApiError('x', { status: 404, route: 'GET Contact/:id' }) instanceof CrmsyncError,
    );
    assert.equal(new SuperOfficeApiError('x', { status: 404, route: 'r' }).code, 'SUPEROFFICE_NOT_FOUND');
    assert.equal(new SuperOfficeApiError('x', { status: 500, route: 'r' }).retryable, true);
  });
});
