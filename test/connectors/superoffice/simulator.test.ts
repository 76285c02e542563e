/**
 * The SuperOffice simulator core over real HTTP: auth grants and errors, token expiry by the manual clock,
 * 401, 421 after a tenant move, CRUD with both PATCH forms and the conditional headers, UDF encodings,
 * lists, currentPrincipal, admin act-as-user events, faults, request counts and persistence. The webhook hub
 * is replaced by a stand-in that records emitted events (the hub has its own tests).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type {
  SuperOfficeSimulator,
  SuperOfficeSimulatorOptions,
} from '../../../src/simulators/superoffice/index.ts';
import { startSuperOfficeSimulator } from '../../../src/simulators/superoffice/index.ts';
import type { SimChangeEvent, WebhookHub } from '../../../src/simulators/superoffice/webhooks.ts';
import { ManualClock } from '../../support/manual-clock.ts';
import { simAdminRequest } from '../../support/sim-admin.ts';
import { makeTempDir } from '../../support/temp-dir.ts';
import { simulatorAccessToken as accessToken } from '../../../src/sandbox/simulator-http.ts';
import { refreshFields, tokenUrl } from './support.ts';

/** A stand-in webhook hub that only records what the simulator emits. */
class RecordingHub {
  readonly events: SimChangeEvent[] = [];
  quirks: unknown[] = [];
  registerRoutes(): void {}
  emit(event: SimChangeEvent): void {
    this.events.push(event);
  }
  setQuirks(quirks: unknown): void {
    this.quirks.push(quirks);
  }
  deliveries(): readonly unknown[] {
    return [];
  }
  async idle(): Promise<void> {}
  reset(): void {
    this.events.length = 0;
  }
  toJSON(): unknown {
    return { stand: 'in' };
  }
  load(): void {}
  async close(): Promise<void> {}
}

async function start(options: SuperOfficeSimulatorOptions = {}) {
  const hub = new RecordingHub();
  const sim = await startSuperOfficeSimulator({
    ...options,
    createHub: () => hub as unknown as WebhookHub,
  });
  return { sim, hub };
}

/** The parts of entity and error bodies the tests read. */
interface Body {
  ContactId: number;
  Name: string;
  Department: string;
  Heading: string;
  CreatedDate: string;
  UpdatedDate: string;
  Associate: { AssociateId: number; Name: string };
  UpdatedBy: { AssociateId: number };
  Contact: { ContactId: number } | null;
  Persons: unknown[];
  Emails: Record<string, string>[];
  UserDefinedFields: Record<string, string>;
  /** Error answers. */
  Message: string;
}

/** `/api/state/{ctx}` */
interface TenantState {
  State: string;
  IsRunning: boolean;
  Endpoint: string;
}

/** A list item. */
interface ListItem {
  Id: number;
  Name: string;
}

/** Token endpoint answers. */
interface TokenBody {
  token_type: string;
  access_token: string;
  expires_in: number;
  id_token: string;
  refresh_token?: string;
  error?: string;
}

/** Admin API answers. */
interface AdminBody {
  id: number;
  code: string;
  endpoint: string;
  contacts: number;
  sales: number;
  created: Record<string, number[]>;
  routes: Record<string, Record<string, number>>;
  tenant: { contacts: unknown[] };
}

async function json<T>(response: Response): Promise<T> {
  const text = await response.text();
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

function api(sim: SuperOfficeSimulator, token: string) {
  return async <T = Body>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const response = await fetch(`${sim.tenantUrl}/api/v1/${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return { status: response.status, headers: response.headers, body: await json<T>(response) };
  };
}

function decodeJwt(token: string): Record<string, unknown> {
  const payload = token.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}

describe('auth host', () => {
  const clock = new ManualClock();
  let sim: SuperOfficeSimulator;
  before(async () => {
    ({ sim } = await start({ clock, accessTokenTtlSeconds: 60 }));
  });
  after(() => sim.close());

  test('refresh grant with a form body returns an opaque token and an id_token with the tenant claims', async () => {
    const response = await fetch(`${sim.url}/login/common/oauth/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(refreshFields(sim)).toString(),
    });
    const body = await json<TokenBody>(response);
    assert.equal(response.status, 200);
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 60);
    assert.match(body.access_token, /^8A:Cust12345\./);
    assert.equal(body.refresh_token, undefined);
    const claims = decodeJwt(body.id_token);
    const prefix = 'http://schemes.superoffice.net/identity/';
    assert.equal(claims[`${prefix}ctx`], 'Cust12345');
    assert.equal(claims[`${prefix}webapi_url`], sim.webapiUrl);
    assert.equal(claims[`${prefix}associateid`], '528');
    assert.equal(claims[`${prefix}is_administrator`], 'False');
    assert.equal(claims.aud, sim.credentials.clientId);
  });

  test('wrong refresh token or client secret is invalid_grant', async () => {
    const { clientId, clientSecret } = sim.credentials;
    for (const [secret, refresh] of [
      [clientSecret, 'nope'],
      ['wrong', sim.credentials.refreshToken],
    ]) {
      const query = new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: clientId,
        client_secret: secret ?? '',
        refresh_token: refresh ?? '',
      });
      const response = await fetch(`${sim.url}/login/common/oauth/tokens?${query.toString()}`, {
        method: 'POST',
      });
      assert.equal(response.status, 400);
      assert.equal((await json<TokenBody>(response)).error, 'invalid_grant');
    }
  });

  test('authorization code from /_sim/auth/code and from authorize is exchanged once for a refresh token', async () => {
    const issued = await json<AdminBody>(
      await fetch(`${sim.url}/_sim/auth/code`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"associate":"RKAB"}',
      }),
    );
    const authorize = await fetch(
      `${sim.url}/login/common/oauth/authorize?client_id=${sim.credentials.clientId}&redirect_uri=${encodeURIComponent('http://127.0.0.1:1/cb')}&state=xyz&response_type=code&scope=openid`,
      { redirect: 'manual' },
    );
    assert.equal(authorize.status, 302);
    const redirected = new URL(authorize.headers.get('location') ?? '');
    assert.equal(redirected.searchParams.get('state'), 'xyz');
    for (const code of [issued.code, redirected.searchParams.get('code') ?? '']) {
      const form = new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: sim.credentials.clientId,
        client_secret: sim.credentials.clientSecret,
        code,
      });
      const first = await fetch(`${sim.url}/login/common/oauth/tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
      });
      assert.equal(first.status, 200);
      assert.equal(typeof (await json<TokenBody>(first)).refresh_token, 'string');
      const again = await fetch(`${sim.url}/login/common/oauth/tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
      });
      assert.equal(again.status, 400);
    }
    const rkab = api(
      sim,
      await (async () => {
        const form = new URLSearchParams({
          grant_type: 'authorization_code',
          client_id: sim.credentials.clientId,
          client_secret: sim.credentials.clientSecret,
          code: (
            await json<AdminBody>(
              await fetch(`${sim.url}/_sim/auth/code`, {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: '{"associate":"RKAB"}',
              }),
            )
          ).code,
        });
        return (
          await json<TokenBody>(
            await fetch(`${sim.url}/login/common/oauth/tokens?${form.toString()}`, { method: 'POST' }),
          )
        ).access_token;
      })(),
    );
    const principal = await rkab<{ AssociateId: number; Associate: string }>('GET', 'User/currentPrincipal');
    assert.equal(principal.body.AssociateId, 485);
    assert.equal(principal.body.Associate, 'RKAB');
  });

  test('a missing, expired or revoked token is 401; revoked refresh tokens are invalid_grant', async () => {
    const token = await accessToken(sim);
    const call = api(sim, token);
    assert.equal((await call('GET', 'Contact/1')).status, 200);
    assert.equal((await api(sim, '')('GET', 'Contact/1')).status, 401);
    clock.advance(61_000);
    const expired = await call('GET', 'Contact/1');
    assert.equal(expired.status, 401);
    assert.match(expired.body.Message, /expired/);
    const fresh = await accessToken(sim);
    await fetch(`${sim.url}/_sim/tokens/revoke`, { method: 'POST' });
    assert.equal((await api(sim, fresh)('GET', 'Contact/1')).status, 401);
    const refused = await fetch(tokenUrl(sim, refreshFields(sim)), {
      method: 'POST',
    });
    assert.equal(refused.status, 400);
    assert.equal((await json<TokenBody>(refused)).error, 'invalid_grant');
    await fetch(`${sim.url}/_sim/reset`, { method: 'POST' });
  });

  test('openid metadata and tenant status; 421 after a move until the client rediscovers', async () => {
    const metadata = await json<{ token_endpoint: string }>(
      await fetch(`${sim.url}/login/.well-known/openid-configuration`),
    );
    assert.equal(metadata.token_endpoint, `${sim.url}/login/common/oauth/tokens`);
    const before = await json<TenantState>(await fetch(`${sim.url}/api/state/Cust12345`));
    assert.deepEqual([before.State, before.IsRunning, before.Endpoint], ['Running', true, sim.tenantUrl]);
    const token = await accessToken(sim);
    const oldTenantUrl = sim.tenantUrl;
    const moved = await json<AdminBody>(await fetch(`${sim.url}/_sim/tenant/move`, { method: 'POST' }));
    assert.notEqual(moved.endpoint, oldTenantUrl);
    const misdirected = await fetch(`${oldTenantUrl}/api/v1/Contact/1`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(misdirected.status, 421);
    const state = await json<TenantState>(await fetch(`${sim.url}/api/state/Cust12345`));
    assert.equal(state.Endpoint, moved.endpoint);
    const ok = await fetch(`${state.Endpoint}/api/v1/Contact/1`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(ok.status, 200);
    const idToken = (
      await json<TokenBody>(await fetch(tokenUrl(sim, refreshFields(sim)), { method: 'POST' }))
    ).id_token;
    assert.equal(
      decodeJwt(idToken)['http://schemes.superoffice.net/identity/webapi_url'],
      `${moved.endpoint}/api/`,
    );
    await fetch(`${sim.url}/_sim/tenant/move`, { method: 'POST' });
  });
});

describe('entities', () => {
  const clock = new ManualClock(Date.UTC(2025, 5, 1, 12));
  let sim: SuperOfficeSimulator;
  let hub: RecordingHub;
  let call: ReturnType<typeof api>;
  before(async () => {
    ({ sim, hub } = await start({ clock }));
    call = api(sim, await accessToken(sim));
  });
  after(() => sim.close());

  test('GET shows the PascalCase contact with owner short name, UDF map with DisplayText, and persons', async () => {
    const { status, body } = await call('GET', 'Contact/1');
    assert.equal(status, 200);
    assert.equal(body.ContactId, 1);
    assert.match(body.Name, /^Bremer Abenteuerland /);
    assert.match(body.Associate.Name, /^[A-Z]{4}$/);
    assert.ok(Array.isArray(body.Persons) && body.Persons.length > 0);
    assert.equal(body.UserDefinedFields['SuperOffice:83'], '');
    assert.equal(body.UserDefinedFields['SuperOffice:83:DisplayText'], '');
    assert.deepEqual(Object.keys(body.Emails[0] ?? {}).sort(), ['Description', 'StrippedValue', 'Value']);
    assert.equal((await call('GET', 'Contact/99999')).status, 404);
    const template = await call('GET', 'Contact/default');
    assert.equal(template.body.ContactId, 0);
    assert.equal(template.body.Associate.AssociateId, 528);
  });

  test('POST creates, PUT replaces (400 without body), DELETE removes; each write fires an event as the API user', async () => {
    hub.events.length = 0;
    const created = await call('POST', 'Contact', {
      Name: 'Neue Firma GmbH',
      OrgNr: 'HRB 1',
      Urls: [{ Value: 'https://neu.example' }],
      ContactId: 777,
    });
    assert.equal(created.status, 201);
    const id = created.body.ContactId;
    assert.notEqual(id, 777, 'ids are read-only');
    assert.equal(created.body.CreatedDate, '2025-06-01T12:00:00Z');
    clock.advance(5_000);
    const replaced = await call('PUT', `Contact/${id}`, { ...created.body, Department: 'Vertrieb' });
    assert.equal(replaced.status, 200);
    assert.equal(replaced.body.Department, 'Vertrieb');
    assert.equal(replaced.body.UpdatedDate, '2025-06-01T12:00:05Z');
    assert.equal(replaced.body.UpdatedBy.AssociateId, 528);
    const noBody = await fetch(`${sim.tenantUrl}/api/v1/Contact/${id}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${await accessToken(sim)}` },
    });
    assert.equal(noBody.status, 400);
    assert.equal((await call('DELETE', `Contact/${id}`)).status, 204);
    assert.equal((await call('GET', `Contact/${id}`)).status, 404);
    assert.deepEqual(
      hub.events.map((event) => event.event),
      ['contact.created', 'contact.changed', 'contact.deleted'],
    );
    const [createdEvent, changedEvent, deletedEvent] = hub.events;
    assert.ok(createdEvent?.changes.includes('name') && createdEvent.changes.includes('orgNr'));
    assert.deepEqual(changedEvent?.changes, ['contact_id', 'updated', 'updated_associate_id', 'department']);
    assert.equal(changedEvent?.changedByAssociateId, 528);
    assert.equal(changedEvent?.fieldValues?.updated, '2025-06-01T12:00:05+00:00');
    assert.deepEqual(deletedEvent?.changes, []);
    assert.deepEqual(deletedEvent?.values, { associate_id: 528, contact_id: id });
  });

  test('PATCH as merge patch and as JSON patch (case-insensitive paths, test op → 409)', async () => {
    const merge = await call(
      'PATCH',
      'Contact/2',
      { department: 'Einkauf', UserDefinedFields: { 'SuperOffice:85': 'Hallo' } },
      { 'content-type': 'application/merge-patch+json' },
    );
    assert.equal(merge.status, 200);
    assert.equal(merge.body.Department, 'Einkauf');
    assert.equal(merge.body.UserDefinedFields['SuperOffice:85'], 'Hallo');
    const ops = [
      { op: 'test', path: 'department', value: 'Einkauf' },
      { op: 'replace', path: '/NAME', value: 'Hanse Logistik neu' },
      { op: 'add', path: '/UserDefinedFields/SuperOffice:83', value: '[I:1616]' },
    ];
    const patched = await call('PATCH', 'Contact/2', ops, { 'content-type': 'application/json-patch+json' });
    assert.equal(patched.status, 200);
    assert.equal(patched.body.Name, 'Hanse Logistik neu');
    assert.equal(patched.body.UserDefinedFields['SuperOffice:83:DisplayText'], 'Healthcare');
    const failed = await call(
      'PATCH',
      'Contact/2',
      [
        { op: 'test', path: '/Department', value: 'x' },
        { op: 'replace', path: '/Department', value: 'y' },
      ],
      { 'content-type': 'application/json-patch+json' },
    );
    assert.equal(failed.status, 409);
    assert.equal((await call('GET', 'Contact/2')).body.Department, 'Einkauf');
    const moveOp = await call('PATCH', 'Contact/2', [{ op: 'move', from: '/Name', path: '/Department' }], {
      'content-type': 'application/json-patch+json',
    });
    assert.equal(moveOp.status, 400);
  });

  test('If-Unmodified-Since → 412 when changed later; If-Modified-Since → 304 when unchanged', async () => {
    const current = await call('GET', 'Person/1');
    const updated = Date.parse(current.body.UpdatedDate);
    const notModified = await call('GET', 'Person/1', undefined, {
      'if-modified-since': new Date(updated).toUTCString(),
    });
    assert.equal(notModified.status, 304);
    const stale = new Date(updated - 60_000).toUTCString();
    const refused = await call(
      'PATCH',
      'Person/1',
      { Title: 'Prof.' },
      { 'if-unmodified-since': stale, 'content-type': 'application/merge-patch+json' },
    );
    assert.equal(refused.status, 412);
    const accepted = await call(
      'PATCH',
      'Person/1',
      { Title: 'Prof.' },
      {
        'if-unmodified-since': new Date(updated).toUTCString(),
        'content-type': 'application/merge-patch+json',
      },
    );
    assert.equal(accepted.status, 200);
    assert.equal(
      (await call('GET', 'Person/1', undefined, { 'if-modified-since': new Date(updated).toUTCString() }))
        .status,
      200,
    );
  });

  test('UDF encodings are stored and returned; a value that does not fit is a 400 naming the field', async () => {
    const udfs = {
      'SuperOffice:83': '[I:1619]',
      'SuperOffice:84': 'Long summary',
      'SuperOffice:86': '[D:03/22/2026]',
      'SuperOffice:87': '42',
      'SuperOffice:88': 'True',
    };
    hub.events.length = 0;
    const written = await call(
      'PATCH',
      'Contact/3',
      { UserDefinedFields: udfs },
      { 'content-type': 'application/merge-patch+json' },
    );
    assert.equal(written.status, 200);
    for (const [key, value] of Object.entries(udfs)) assert.equal(written.body.UserDefinedFields[key], value);
    assert.equal(written.body.UserDefinedFields['SuperOffice:83:DisplayText'], 'Logistics');
    assert.deepEqual(hub.events[0]?.changes, [
      'contact_id',
      'updated',
      'updated_associate_id',
      'userdef_id',
      'userdef2_id',
    ]);
    for (const [key, value, message] of [
      ['SuperOffice:87', 'forty', /SuperOffice:87.*Employees.*integer/],
      ['SuperOffice:88', 'yes', /True/],
      ['SuperOffice:86', '2026-03-22', /\[D:MM\/dd\/yyyy\]/],
      ['SuperOffice:83', '[I:9999]', /not an item/],
      ['SuperOffice:83', 'Healthcare', /\[I:<id>\]/],
      ['SuperOffice:999', 'x', /no user-defined field/],
    ] as const) {
      const refused = await call(
        'PATCH',
        'Contact/3',
        { UserDefinedFields: { [key]: value } },
        { 'content-type': 'application/merge-patch+json' },
      );
      assert.equal(refused.status, 400, `${key}=${value}`);
      assert.match(refused.body.Message, message);
    }
    const numeric = await call(
      'PATCH',
      'Contact/3',
      { UserDefinedFields: { 'SuperOffice:87': 42 } },
      { 'content-type': 'application/merge-patch+json' },
    );
    assert.equal(numeric.status, 400);
  });

  test('sales: Contact may be null; status Sold fires sale.sold', async () => {
    const orphan = await call('GET', 'Sale/5');
    assert.equal(orphan.body.Contact, null);
    assert.equal(typeof orphan.body.Heading, 'string');
    hub.events.length = 0;
    const sold = await call(
      'PATCH',
      'Sale/5',
      { Status: 'Sold', Contact: { ContactId: 4 } },
      { 'content-type': 'application/merge-patch+json' },
    );
    assert.equal(sold.status, 200);
    assert.equal(sold.body.Contact?.ContactId, 4);
    assert.deepEqual(
      hub.events.map((event) => event.event),
      ['sale.changed', 'sale.sold'],
    );
    assert.ok(hub.events[0]?.changes.includes('status') && hub.events[0].changes.includes('contact_id'));
  });

  test('lists, currentPrincipal, UDF metadata and Associate/Me', async () => {
    const vertical = await call<ListItem[]>('GET', 'List/Vertical/Items');
    assert.ok(Array.isArray(vertical.body));
    assert.deepEqual(Object.keys(vertical.body[0] ?? {}).slice(0, 6), [
      'Id',
      'Name',
      'Tooltip',
      'Deleted',
      'UdListDefinitionId',
      'Rank',
    ]);
    assert.ok(vertical.body.every((item) => item.Id >= 1613 && item.Id <= 1640));
    assert.ok(vertical.body.some((item) => item.Name === 'Leisure & Tourism'));
    const withDeleted = await call<ListItem[]>('GET', 'List/Vertical/Items?includeDeleted=true');
    assert.equal(withDeleted.body.length, vertical.body.length + 1);
    for (const name of ['ProductFamily', 'Category', 'Business'])
      assert.ok((await call<ListItem[]>('GET', `List/${name}/Items`)).body.length > 0, name);
    assert.equal((await call('GET', 'List/Nope/Items')).status, 404);
    const principal = await call<{ AssociateId: number; Associate: string }>('GET', 'User/currentPrincipal');
    assert.equal(principal.body.AssociateId, 528);
    assert.equal(principal.body.Associate, 'CRMSYNC');
    const fields = await call<{ ProgId: string; FieldType: string }[]>(
      'POST',
      'Agents/UserDefinedFieldInfo/GetUserDefinedFieldList',
      {
        UDefType: 'Contact',
      },
    );
    assert.ok(fields.body.some((field) => field.ProgId === 'SuperOffice:83' && field.FieldType === 'List'));
    assert.equal((await call('GET', 'Associate/Me')).status, 500);
  });
});

describe('admin API', () => {
  let sim: SuperOfficeSimulator;
  let hub: RecordingHub;
  let call: ReturnType<typeof api>;
  const admin = async (method: string, path: string, body?: unknown) => {
    const response = await simAdminRequest(sim, method, path, body);
    return { status: response.status, body: await json<AdminBody>(response) };
  };
  before(async () => {
    ({ sim, hub } = await start());
    call = api(sim, await accessToken(sim));
  });
  after(() => sim.close());

  test('act as a named user: events carry that associate id and the DB column names', async () => {
    hub.events.length = 0;
    const created = await admin('POST', 'act/RCGO/Contact', { Name: 'Von Hand GmbH' });
    assert.equal(created.status, 201);
    await admin('POST', `act/WACK/Contact/${created.body.id}`, {
      Name: 'Umbenannt GmbH',
      Urls: [{ Value: 'https://x.example' }],
      Category: { Id: 2 },
    });
    await admin('POST', 'act/RKAB/Person/1', { Firstname: 'Änne', Position: { Id: 3 } });
    await admin('DELETE', `act/RKAB/Contact/${created.body.id}`);
    assert.deepEqual(
      hub.events.map((event) => [event.event, event.changedByAssociateId]),
      [
        ['contact.created', 486],
        ['contact.changed', 700],
        ['person.changed', 485],
        ['contact.deleted', 485],
      ],
    );
    assert.deepEqual(hub.events[1]?.changes, [
      'contact_id',
      'updated',
      'updated_associate_id',
      'name',
      'category_idx',
      'urladdress',
    ]);
    assert.deepEqual(hub.events[2]?.changes, [
      'person_id',
      'updated',
      'updated_associate_id',
      'firstname',
      'position_idx',
    ]);
    assert.equal((await admin('POST', 'act/NOBODY/Contact', {})).status, 404);
  });

  test('URL-only edits are silent when the quirk says so; hub quirks are forwarded', async () => {
    await admin('POST', 'quirks', { urlChangeColumns: [], duplicateContactCreated: 2 });
    assert.deepEqual(hub.quirks.at(-1), { duplicateContactCreated: 2 });
    hub.events.length = 0;
    await admin('POST', 'act/RKAB/Contact/1', { Urls: [{ Value: 'https://silent.example' }] });
    assert.equal(hub.events.length, 0);
    await admin('POST', 'quirks', { urlChangeColumns: ['urladdress'] });
  });

  test('faults: 429 with Retry-After on every 2nd call, 5xx, latency; request counts per route template', async () => {
    await admin('DELETE', 'requests');
    await admin('POST', 'faults', {
      status429: { everyNth: 2, retryAfterSeconds: 7, routes: ['GET /{ctx}/api/v1/Contact/:id'] },
    });
    const statuses = [];
    for (let n = 0; n < 4; n++) statuses.push(await call('GET', 'Contact/1'));
    assert.deepEqual(
      statuses.map((r) => r.status),
      [200, 429, 200, 429],
    );
    assert.equal(statuses[1]?.headers.get('retry-after'), '7');
    assert.equal((await call('GET', 'Person/1')).status, 200, 'other routes are not throttled');
    await admin('POST', 'faults', { status5xx: { probability: 1, status: 502 } });
    assert.equal((await call('GET', 'Contact/1')).status, 502);
    // Latency delays the API call sent first past the admin call sent after it (the admin API is never faulted).
    await admin('POST', 'faults', { latencyMs: 1_000 });
    const answered: string[] = [];
    const delayed = call('GET', 'Contact/1').then((response) => answered.push(`api ${response.status}`));
    answered.push(`admin ${(await admin('GET', 'faults')).status}`);
    await delayed;
    assert.deepEqual(answered, ['admin 200', 'api 200']);
    await admin('DELETE', 'faults');
    const counts = (await admin('GET', 'requests')).body;
    assert.deepEqual(counts.routes['GET /{ctx}/api/v1/Contact/:id'], { '200': 3, '429': 2, '502': 1 });
    assert.deepEqual(counts.routes['GET /{ctx}/api/v1/Person/:id'], { '200': 1 });
  });

  test('a hanging route is dropped without an answer', async () => {
    await admin('POST', 'faults', {
      timeout: { everyNth: 1, hangMs: 50, routes: ['GET /{ctx}/api/v1/Sale/:id'] },
    });
    await assert.rejects(call('GET', 'Sale/1'));
    await admin('DELETE', 'faults');
    assert.deepEqual((await admin('GET', 'requests')).body.routes['GET /{ctx}/api/v1/Sale/:id'], { '0': 1 });
  });

  test('seed adds records silently; reset empties or re-seeds', async () => {
    hub.events.length = 0;
    const seeded = await admin('POST', 'seed', { contacts: [{ Name: 'Seeded AG' }] });
    assert.equal(seeded.body.created.contact?.length, 1);
    assert.equal(hub.events.length, 0);
    const empty = await admin('POST', 'reset', { seed: false });
    assert.deepEqual([empty.body.contacts, empty.body.sales], [0, 0]);
    const reseeded = await admin('POST', 'reset', {});
    assert.equal(reseeded.body.contacts, 30);
    assert.equal(reseeded.body.sales, 120);
    const dump = (await admin('GET', 'state')).body;
    assert.equal(dump.tenant.contacts.length, 30);
  });
});

test('persistence: state written on change is loaded by the next simulator', async () => {
  const dir = makeTempDir();
  const file = join(dir.path, 'superoffice.json');
  try {
    const first = await start({ persistFile: file });
    const call = api(first.sim, await accessToken(first.sim));
    const created = await call('POST', 'Contact', {
      Name: 'Persistent GmbH',
      UserDefinedFields: { 'SuperOffice:85': 'bleibt' },
    });
    await first.sim.close();
    const second = await start({ persistFile: file });
    try {
      const again = api(second.sim, await accessToken(second.sim));
      const read = await again('GET', `Contact/${created.body.ContactId}`);
      assert.equal(read.body.Name, 'Persistent GmbH');
      assert.equal(read.body.UserDefinedFields['SuperOffice:85'], 'bleibt');
      const next = await again('POST', 'Contact', { Name: 'Next' });
      assert.equal(next.body.ContactId, created.body.ContactId + 1);
    } finally {
      await second.sim.close();
    }
  } finally {
    dir.remove();
  }
});
