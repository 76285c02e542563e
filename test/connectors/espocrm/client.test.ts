/**
 * The EspoCRM client and endpoints against a scriptable local HTTP server: what goes over the wire (auth,
 * headers, paths), the retry rules (idempotent only, Retry-After), errors read from X-Status-Reason into
 * typed errors, and paging that ends correctly on a count, on -2 and on an empty page after -1.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { afterEach, describe, it } from 'node:test';
import { CrmsyncError, StaleWriteError } from '../../../src/core/errors.ts';
import { EspoCrmClient } from '../../../src/connectors/espocrm/client.ts';
import { EspoCrmApi } from '../../../src/connectors/espocrm/endpoints.ts';
import {
  EspoCrmApiError,
  EspoCrmAuthError,
  EspoCrmDuplicateError,
  EspoCrmMaxSizeError,
  EspoCrmNotificationForbiddenError,
  EspoCrmStaleWriteError,
  EspoCrmValidationError,
} from '../../../src/connectors/espocrm/errors.ts';
import { espoCrmOptionsSchema } from '../../../src/connectors/espocrm/options.ts';
import { Where } from '../../../src/connectors/espocrm/where.ts';
import { ManualClock } from '../../support/manual-clock.ts';
import { recorder, startFakeVendor } from '../superoffice/support.ts';
import type { FakeAnswer, FakeRequest, FakeVendor } from '../superoffice/support.ts';
import { recordedWaits } from '../../support/recorded-waits.ts';
import { VendorWriteAmbiguousError } from '../../../src/connectors/shared/api-error.ts';

const API_KEY = 'a'.repeat(32);
const SECRET_KEY = 'b'.repeat(32);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function fake(handle: (request: FakeRequest) => FakeAnswer): Promise<FakeVendor> {
  const vendor = await startFakeVendor(handle);
  cleanups.push(() => vendor.close());
  return vendor;
}

function connect(vendor: FakeVendor, overrides: Record<string, unknown> = {}) {
  const options = espoCrmOptionsSchema.parse({
    baseUrl: `${vendor.url}/crm`,
    auth: { mode: 'hmac', apiKey: API_KEY, secretKey: SECRET_KEY },
    maxRetries: 2,
    ...overrides,
  });
  const apiCalls = recorder();
  const { waits, random, sleep } = recordedWaits();
  const client = new EspoCrmClient({
    connection: 'espo',
    options,
    clock: new ManualClock(),
    apiCalls,
    random,
    sleep,
  });
  cleanups.push(() => client.close());
  return { api: new EspoCrmApi(client, options), apiCalls, waits };
}

describe('espocrm client: the wire', () => {
  it('signs each request with HMAC over method and the path below /api/v1, query excluded', async () => {
    const vendor = await fake(() => ({ body: { total: 0, list: [] } }));
    const { api, apiCalls } = connect(vendor);
    await api.list('Account', { where: [Where.equals('name', 'ACME')], maxSize: 5 });
    const [received] = vendor.requests;
    assert.equal(received!.url.pathname, '/crm/api/v1/Account');
    const digest = createHmac('sha256', SECRET_KEY).update('GET /Account').digest('hex');
    assert.equal(
      received!.headers['x-hmac-authorization'],
      Buffer.from(`${API_KEY}:${digest}`).toString('base64'),
    );
    assert.equal(received!.headers['x-api-key'], undefined);
    assert.deepEqual(JSON.parse(received!.url.searchParams.get('searchParams')!), {
      where: [{ type: 'equals', attribute: 'name', value: 'ACME' }],
      maxSize: 5,
    });
    assert.deepEqual(
      apiCalls.calls.map((call) => [call.route, call.method, call.status]),
      [['GET Account', 'GET', 200]],
    );
  });

  it('sends partial updates with X-Version-Number, creates with X-Skip-Duplicate-Check, lists with X-No-Total', async () => {
    const vendor = await fake((request) => ({
      body: request.method === 'GET' ? { total: -2, list: [] } : { id: 'a1', versionNumber: 4 },
    }));
    const { api } = connect(vendor, { auth: { mode: 'apiKey', apiKey: API_KEY }, whereEncoding: 'query' });
    await api.update('Account', 'a1', { name: 'Neu' }, { versionNumber: 3 });
    await api.create('Account', { name: 'Neu' }, { skipDuplicateCheck: true });
    await api.list('Account', { where: [Where.equals('name', 'Neu')] }, { noTotal: true });
    const [patch, post, get] = vendor.requests;
    assert.equal(patch!.method, 'PATCH');
    assert.equal(patch!.url.pathname, '/crm/api/v1/Account/a1');
    assert.equal(patch!.headers['x-version-number'], '3');
    assert.equal(patch!.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(patch!.body), { name: 'Neu' });
    assert.equal(post!.headers['x-skip-duplicate-check'], 'true');
    assert.equal(post!.headers['x-api-key'], API_KEY);
    assert.equal(get!.headers['x-no-total'], 'true');
    assert.equal(get!.url.searchParams.get('where[0][value]'), 'Neu');
    assert.equal(get!.url.searchParams.get('maxSize'), '200');
  });

  it('refuses a page size over 200 before calling', async () => {
    const vendor = await fake(() => ({ body: {} }));
    const { api } = connect(vendor);
    await assert.rejects(api.list('Account', { maxSize: 201 }), (error: unknown) => {
      assert.ok(error instanceof CrmsyncError && error.code === 'ESPOCRM_MAX_SIZE');
      return true;
    });
    await assert.rejects(api.get('Bad/Type', '1'), /not an EspoCRM entity type/);
    assert.equal(vendor.requests.length, 0);
  });
});

describe('espocrm client: retries', () => {
  it('retries a GET after two 503s with backoff, then succeeds', async () => {
    let calls = 0;
    const vendor = await fake(() => (++calls <= 2 ? { status: 503 } : { body: { id: 'a1' } }));
    const { api, waits, apiCalls } = connect(vendor);
    assert.deepEqual(await api.get('Account', 'a1'), { id: 'a1' });
    assert.equal(calls, 3);
    assert.deepEqual(waits, [250, 500]);
    assert.deepEqual(
      apiCalls.calls.map((call) => call.status),
      [503, 503, 200],
    );
  });

  it('never repeats a POST after a 5xx: ambiguous, retryable', async () => {
    const vendor = await fake(() => ({ status: 500 }));
    const { api } = connect(vendor);
    await assert.rejects(api.create('Account', { name: 'x' }), (error: unknown) => {
      assert.ok(error instanceof VendorWriteAmbiguousError);
      assert.equal(error.code, 'VENDOR_WRITE_AMBIGUOUS');
      assert.equal(error.status, 500);
      assert.equal(error.retryable, true);
      return true;
    });
    assert.equal(vendor.requests.length, 1);
  });

  it('waits Retry-After on 429, even for a POST, within the budget', async () => {
    let calls = 0;
    const vendor = await fake(() =>
      ++calls === 1 ? { status: 429, headers: { 'retry-after': '3' } } : { body: { id: 'n1' } },
    );
    const { api, waits } = connect(vendor);
    assert.equal((await api.create('Account', { name: 'x' }))['id'], 'n1');
    assert.deepEqual(waits, [3_000]);
    const over = await fake(() => ({ status: 429, headers: { 'retry-after': '120' } }));
    await assert.rejects(connect(over).api.get('Account', 'a1'), (error: unknown) => {
      assert.ok(error instanceof EspoCrmApiError && error.retryable && error.retryAfterMs === 120_000);
      return true;
    });
  });
});

describe('espocrm client: errors from X-Status-Reason', () => {
  const cases: { answer: FakeAnswer; check: (error: unknown) => void }[] = [
    {
      answer: { status: 401 },
      check: (error) => {
        assert.ok(error instanceof EspoCrmAuthError);
        assert.equal(error.code, 'ESPOCRM_AUTH_FAILED');
        assert.equal(error.retryable, false);
        assert.doesNotMatch(error.message, new RegExp(`${API_KEY}|${SECRET_KEY}`));
      },
    },
    {
      answer: {
        status: 400,
        headers: {
          'x-status-reason': 'Field validation failure; entityType: Account, field: name, type: required.',
        },
        body: {
          messageTranslation: {
            label: 'validationFailure',
            scope: null,
            data: { field: 'name', type: 'required' },
          },
        },
      },
      check: (error) => {
        assert.ok(error instanceof EspoCrmValidationError);
        assert.deepEqual(
          [error.code, error.entityType, error.field, error.validationType],
          ['ESPOCRM_VALIDATION', 'Account', 'name', 'required'],
        );
      },
    },
    {
      answer: { status: 403, headers: { 'x-status-reason': 'No edit access.' } },
      check: (error) => {
        assert.ok(error instanceof EspoCrmApiError);
        assert.equal(error.code, 'ESPOCRM_FORBIDDEN');
        assert.match(error.message, /No edit access\./);
      },
    },
    {
      answer: {
        status: 403,
        headers: { 'x-status-reason': 'Max size should not exceed 200. Use offset and limit.' },
      },
      check: (error) => assert.ok(error instanceof EspoCrmMaxSizeError && error.code === 'ESPOCRM_MAX_SIZE'),
    },
    {
      answer: { status: 404, headers: { 'x-status-reason': 'Record a1 not found.' } },
      check: (error) =>
        assert.ok(error instanceof EspoCrmApiError && error.code === 'ESPOCRM_NOT_FOUND' && !error.retryable),
    },
    {
      answer: {
        status: 409,
        headers: { 'x-status-reason': 'duplicate' },
        body: [{ id: 'd1', name: 'ACME' }, { id: 'd2' }],
      },
      check: (error) => {
        assert.ok(error instanceof EspoCrmDuplicateError);
        assert.deepEqual(
          error.matches.map((match) => match['id']),
          ['d1', 'd2'],
        );
      },
    },
    {
      answer: {
        status: 409,
        headers: { 'x-status-reason': 'modified' },
        body: { values: { name: 'Alt' }, versionNumber: 9 },
      },
      check: (error) => {
        assert.ok(error instanceof EspoCrmStaleWriteError && error instanceof StaleWriteError);
        assert.deepEqual(
          [error.code, error.currentValues, error.currentVersionNumber],
          ['STALE_WRITE', { name: 'Alt' }, 9],
        );
        assert.equal(error.retryable, true);
      },
    },
    {
      answer: { status: 409, headers: { 'x-status-reason': 'Record is locked.' } },
      check: (error) =>
        assert.ok(error instanceof EspoCrmApiError && error.code === 'ESPOCRM_CONFLICT' && error.retryable),
    },
  ];

  it('maps each status and reason to its typed error', async () => {
    for (const { answer, check } of cases) {
      const vendor = await fake(() => answer);
      await assert.rejects(connect(vendor).api.update('Account', 'a1', { name: 'x' }), (error: unknown) => {
        check(error);
        return true;
      });
    }
  });

  it("says that notifications need an admin user when the API user's POST Notification is refused", async () => {
    const vendor = await fake(() => ({ status: 403, headers: { 'x-status-reason': 'No create access.' } }));
    await assert.rejects(
      connect(vendor).api.createNotification({ userId: '1', message: 'Sync failed' }),
      (error: unknown) => {
        assert.ok(error instanceof EspoCrmNotificationForbiddenError);
        assert.match(error.message, /only admin users/);
        return true;
      },
    );
    assert.deepEqual(JSON.parse(vendor.requests[0]!.body), {
      type: 'Message',
      message: 'Sync failed',
      userId: '1',
    });
  });
});

/** A server listing `count` records, answering `total` as `totalMode` says. */
function listing(count: number, totalMode: 'count' | 'noTotal') {
  return (request: FakeRequest): FakeAnswer => {
    const params = JSON.parse(request.url.searchParams.get('searchParams') ?? '{}') as {
      offset: number;
      maxSize: number;
    };
    const list = Array.from(
      { length: Math.max(0, Math.min(params.maxSize, count - params.offset)) },
      (_, index) => ({
        id: `r${params.offset + index}`,
      }),
    );
    const more = params.offset + list.length < count;
    return { body: { total: totalMode === 'count' ? count : more ? -1 : -2, list } };
  };
}

describe('espocrm endpoints: paging', () => {
  for (const mode of ['count', 'noTotal'] as const) {
    it(`walks every page once and stops (total as ${mode})`, async () => {
      const vendor = await fake(listing(450, mode));
      const { api } = connect(vendor);
      const ids: string[] = [];
      for await (const record of api.listAll('Account', {}, { noTotal: mode === 'noTotal' }))
        ids.push(record['id'] as string);
      assert.equal(ids.length, 450);
      assert.equal(new Set(ids).size, 450);
      assert.equal(vendor.requests.length, 3, 'no extra call after the last page');
    });
  }

  it('goes on after -1 until an empty page, and stops at once on an empty first page', async () => {
    let call = 0;
    const vendor = await fake(() => ({ body: { total: -1, list: ++call <= 2 ? [{ id: `x${call}` }] : [] } }));
    const { api } = connect(vendor);
    const ids: unknown[] = [];
    for await (const record of api.listAll('Account', { maxSize: 1 })) ids.push(record['id']);
    assert.deepEqual(ids, ['x1', 'x2']);
    assert.equal(vendor.requests.length, 3);
  });

  it('reads the update stream into field changes, page by page', async () => {
    const note = (n: number) => ({
      id: `n${n}`,
      type: 'Update',
      createdAt: '2026-03-02 08:00:00',
      createdById: '64f0c1d2e3a4b5c6d',
      createdByName: 'Anna',
      data: {
        fields: ['assignedUser'],
        attributes: {
          was: { assignedUserId: 'u1', assignedUserName: 'Ben' },
          became: { assignedUserId: 'u2', assignedUserName: 'Anna' },
        },
      },
    });
    const vendor = await fake((request) => {
      const offset = Number(request.url.searchParams.get('offset'));
      return { body: { total: 3, list: offset === 0 ? [note(1), note(2)] : [note(3)] } };
    });
    const { api } = connect(vendor, { pageSize: 2 });
    const notes = [];
    for await (const entry of api.updateStream('CBeteiligte', 'c1')) notes.push(entry);
    assert.equal(vendor.requests[0]!.url.pathname, '/crm/api/v1/CBeteiligte/c1/updateStream');
    assert.deepEqual(
      notes.map((entry) => entry.id),
      ['n1', 'n2', 'n3'],
    );
    assert.deepEqual(notes[0], {
      id: 'n1',
      at: '2026-03-02T08:00:00.000Z',
      userId: '64f0c1d2e3a4b5c6d',
      userName: 'Anna',
      fields: ['assignedUser'],
      changes: [
        { attribute: 'assignedUserId', was: 'u1', became: 'u2' },
        { attribute: 'assignedUserName', was: 'Ben', became: 'Anna' },
      ],
    });
  });
});
