/**
 * The rest of the EspoCRM simulator over real HTTP: notifications (admin only, type `Message`), the stream
 * and `updateStream` of audited fields, the admin API (act as a user, reset, deterministic seed, faults,
 * quirks, request counts) and a persistence round trip through the state file.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { DEMO_COUNTS, startEspoCrmSimulator } from '../../../src/simulators/espocrm/index.ts';
import { makeTempDir } from '../../support/temp-dir.ts';
import { admin, api, body, suiteSimulator } from './simulator-support.ts';
import type { ListBody, RecordBody } from './simulator-support.ts';

const ANNA_ID = '65a1f0c2b3d4e5f61';
const anna = { user: 'anna', password: 'anna-password' };
const adminUser = { user: 'admin', password: 'admin-password' };

describe('EspoCRM simulator: notifications', () => {
  const sim = suiteSimulator({ seed: false });

  test('the API user may not create notifications; the admin may, with type Message only', async () => {
    const message = { type: 'Message', message: 'Sync failed after 5 attempts', userId: ANNA_ID };
    const denied = await api(sim, 'POST', '/Notification', { body: message });
    assert.equal(denied.status, 403);
    assert.equal(denied.headers.get('x-status-reason'), 'No create access.');
    const lowercase = await api(sim, 'POST', '/Notification', {
      auth: adminUser,
      body: { ...message, type: 'message' },
    });
    assert.equal(lowercase.status, 400);
    assert.match(lowercase.headers.get('x-status-reason') ?? '', /field: type, type: valid/);
    const created = await api(sim, 'POST', '/Notification', { auth: adminUser, body: message });
    assert.equal(created.status, 200);
    assert.equal(body(created).type, 'Message');
    assert.equal(body(created).read, false);
    await admin(sim, 'POST', 'quirks', { apiUserCanCreateNotification: true });
    assert.equal((await api(sim, 'POST', '/Notification', { body: message })).status, 200);
    await admin(sim, 'POST', 'quirks', { apiUserCanCreateNotification: false });
  });

  test('the recipient lists, counts and marks them read', async () => {
    const list = body<ListBody>(await api(sim, 'GET', '/Notification', { auth: anna }));
    assert.equal(list.total, 2);
    assert.equal(list.list[0]?.message, 'Sync failed after 5 attempts');
    assert.equal(body<ListBody>(await api(sim, 'GET', '/Notification')).total, 0, 'only the own ones');
    assert.equal((await api(sim, 'GET', '/Notification/action/notReadCount', { auth: anna })).text, '2');
    assert.equal((await api(sim, 'POST', '/Notification/action/markAllRead', { auth: anna })).text, 'true');
    assert.equal((await api(sim, 'GET', '/Notification/action/notReadCount', { auth: anna })).text, '0');
  });
});

describe('EspoCRM simulator: stream', () => {
  const sim = suiteSimulator({ seed: false });

  test('updateStream lists Update notes of audited fields with was/became', async () => {
    const record = body(
      await api(sim, 'POST', '/CBeteiligte', { body: { name: 'Audit', syncStatus: 'pending_sync' } }),
    );
    await api(sim, 'PATCH', `/CBeteiligte/${record.id}`, {
      body: { syncStatus: 'clean', advowareRowId: 'r1' },
    });
    await api(sim, 'PATCH', `/CBeteiligte/${record.id}`, { body: { advowareRowId: 'r2' } });
    await admin(sim, 'POST', `act/anna/CBeteiligte/${record.id}`, {
      assignedUserId: ANNA_ID,
      name: 'Audit Renamed',
    });
    const updates = body<ListBody>(await api(sim, 'GET', `/CBeteiligte/${record.id}/updateStream`));
    assert.equal(updates.total, 2, 'advowareRowId is not audited');
    assert.deepEqual(updates.list[0]?.data, {
      fields: ['name'],
      attributes: { was: { name: 'Audit' }, became: { name: 'Audit Renamed' } },
    });
    assert.equal(updates.list[0]?.createdById, ANNA_ID);
    assert.deepEqual(updates.list[1]?.data, {
      fields: ['syncStatus'],
      attributes: { was: { syncStatus: 'pending_sync' }, became: { syncStatus: 'clean' } },
    });
    const stream = body<ListBody & { pinnedList: unknown[] }>(
      await api(sim, 'GET', `/CBeteiligte/${record.id}/stream`),
    );
    assert.deepEqual(
      stream.list.map((note) => note.type),
      ['Update', 'Update', 'Create'],
    );
    assert.deepEqual(stream.pinnedList, []);
  });

  test('audited fields are configurable; without the Audit permission updateStream is 403', async () => {
    await admin(sim, 'POST', 'quirks', { auditedFields: { Account: ['website', 'assignedUser'] } });
    const account = body(await api(sim, 'POST', '/Account', { body: { name: 'Audit AG' } }));
    await api(sim, 'PATCH', `/Account/${account.id}`, {
      body: { website: 'https://a.example', assignedUserId: ANNA_ID },
    });
    const notes = body<ListBody>(await api(sim, 'GET', `/Account/${account.id}/updateStream`));
    assert.deepEqual(notes.list[0]?.data, {
      fields: ['website', 'assignedUser'],
      attributes: {
        was: { website: null, assignedUserId: null, assignedUserName: null },
        became: { website: 'https://a.example', assignedUserId: ANNA_ID, assignedUserName: 'Anna Berger' },
      },
    });
    await admin(sim, 'POST', 'quirks', { apiUserAuditPermission: false });
    assert.equal((await api(sim, 'GET', `/Account/${account.id}/updateStream`)).status, 403);
    assert.equal(
      (await api(sim, 'GET', `/Account/${account.id}/updateStream`, { auth: adminUser })).status,
      200,
    );
    assert.equal((await api(sim, 'GET', '/Account/00000000000000000/stream')).status, 404);
  });
});

describe('EspoCRM simulator: admin API', () => {
  const sim = suiteSimulator({});

  test('the demo data is deterministic: same counts and ids in every simulator', async () => {
    const other = await startEspoCrmSimulator();
    try {
      for (const [type, count] of Object.entries(DEMO_COUNTS)) {
        const mine = body<ListBody>(await api(sim, 'GET', `/${type}?maxSize=10&select=name`));
        const theirs = body<ListBody>(await api(other, 'GET', `/${type}?maxSize=10&select=name`));
        assert.equal(mine.total, count);
        assert.deepEqual(mine.list, theirs.list);
      }
      const linked = body<ListBody>(
        await api(
          sim,
          'GET',
          '/CBeteiligte?maxSize=1&where[0][type]=isNotNull&where[0][attribute]=advowareId',
        ),
      );
      assert.ok(linked.total > 100 && linked.total < DEMO_COUNTS.CBeteiligte);
      const several = body<ListBody>(
        await api(sim, 'GET', '/CBeteiligte?select=emailAddressData,phoneNumberData'),
      );
      assert.ok(several.list.some((record) => (record.emailAddressData as unknown[]).length > 1));
      assert.ok(several.list.some((record) => (record.phoneNumberData as unknown[]).length > 1));
    } finally {
      await other.close();
    }
  });

  test('act as a user: create, update and delete carry that user', async () => {
    const created = await admin(sim, 'POST', 'act/ben/Contact', { firstName: 'Ben', lastName: 'Acted' });
    assert.equal(created.status, 200);
    const record = body<{ id: string; record: RecordBody }>(created);
    assert.equal(record.record.createdById, '65a1f0c2b3d4e5f62');
    const updated = body<{ record: RecordBody }>(
      await admin(sim, 'POST', `act/anna/Contact/${record.id}`, { title: 'Boss' }),
    );
    assert.equal(updated.record.modifiedById, ANNA_ID);
    assert.equal(updated.record.modifiedByName, 'Anna Berger');
    assert.equal((await admin(sim, 'DELETE', `act/anna/Contact/${record.id}`)).status, 200);
    assert.equal((await api(sim, 'GET', `/Contact/${record.id}`)).status, 404);
    const unknown = await admin(sim, 'POST', 'act/nobody/Contact', { lastName: 'x' });
    assert.equal(unknown.status, 404);
    assert.match(String(body<{ error: string }>(unknown).error), /No user "nobody"/);
  });

  test('reset empties the data (and reseeds unless told not to); seed adds records', async () => {
    await admin(sim, 'POST', 'reset', { seed: false });
    assert.equal(body<ListBody>(await api(sim, 'GET', '/Account')).total, 0);
    const seeded = await admin(sim, 'POST', 'seed', { records: { Account: [{ name: 'Seeded AG' }] } });
    assert.equal(body<{ created: Record<string, string[]> }>(seeded).created.Account?.length, 1);
    assert.equal(body<ListBody>(await api(sim, 'GET', '/Account')).total, 1);
    await admin(sim, 'POST', 'reset');
    assert.equal(body<ListBody>(await api(sim, 'GET', '/Account')).total, DEMO_COUNTS.Account);
  });

  test('faults: 429 with Retry-After, 5xx, dropped connections; request counts per method and route', async () => {
    await admin(sim, 'DELETE', 'requests');
    const set = await admin(sim, 'POST', 'faults', { status429: { everyNth: 2, retryAfterSeconds: 7 } });
    assert.equal(set.status, 200);
    assert.equal((await api(sim, 'GET', '/Account?maxSize=1')).status, 200);
    const throttled = await api(sim, 'GET', '/Account?maxSize=1');
    assert.equal(throttled.status, 429);
    assert.equal(throttled.headers.get('retry-after'), '7');
    await admin(sim, 'POST', 'faults', { status5xx: { status: 503, routes: ['POST /api/v1/Account'] } });
    assert.equal((await api(sim, 'POST', '/Account', { body: { name: 'Fails AG' } })).status, 503);
    assert.equal((await api(sim, 'GET', '/Account?maxSize=1')).status, 200, 'other routes are untouched');
    await admin(sim, 'POST', 'faults', { timeout: { hangMs: 10, routes: ['GET /api/v1/Contact/:id'] } });
    await assert.rejects(
      fetch(`${sim.url}/api/v1/Contact/abc`, { headers: { 'X-Api-Key': sim.credentials.apiKey } }),
    );
    await admin(sim, 'DELETE', 'faults');
    const counts = body<{ total: number; routes: Record<string, Record<string, number>> }>(
      await admin(sim, 'GET', 'requests'),
    );
    assert.deepEqual(counts.routes['GET /api/v1/Account'], { '200': 2, '429': 1 });
    assert.deepEqual(counts.routes['POST /api/v1/Account'], { '503': 1 });
    assert.deepEqual(counts.routes['GET /api/v1/Contact/:id'], { '0': 1 });
    assert.equal(counts.total, 5);
    const bad = await admin(sim, 'POST', 'faults', { status429: { everyNth: 0 } });
    assert.equal(bad.status, 400);
  });

  test('quirks reject unknown settings', async () => {
    const res = await admin(sim, 'POST', 'quirks', { noSuchQuirk: true });
    assert.equal(res.status, 400);
    const current = body<{ maxSizeLimit: number }>(await admin(sim, 'GET', 'quirks'));
    assert.equal(current.maxSizeLimit, 200);
  });
});

describe('EspoCRM simulator: persistence', () => {
  test('records, webhooks, quirks and tokens survive a restart from the state file', async () => {
    const dir = makeTempDir('crmsync-espocrm-sim-');
    const persistFile = join(dir.path, 'espocrm.json');
    try {
      const first = await startEspoCrmSimulator({ seed: false, persistFile });
      const record = body(
        await api(first, 'POST', '/CBeteiligte', { body: { name: 'Persisted', advowareId: 7 } }),
      );
      const webhook = body(
        await api(first, 'POST', '/Webhook', {
          body: { event: 'CBeteiligte.update', url: 'https://x.example/h' },
        }),
      );
      await admin(first, 'POST', 'quirks', { optimisticConcurrency: { CBeteiligte: true } });
      const { token } = body<{ token: string }>(await api(first, 'GET', '/App/user', { auth: anna }));
      await first.close();

      const second = await startEspoCrmSimulator({ persistFile });
      try {
        const read = body(await api(second, 'GET', `/CBeteiligte/${record.id}`));
        assert.equal(read.name, 'Persisted');
        assert.equal(read.versionNumber, 1, 'the quirk came back');
        assert.equal(
          body<ListBody>(await api(second, 'GET', '/Account')).total,
          0,
          'no demo data over a saved state',
        );
        const hook = body(await api(second, 'GET', `/Webhook/${webhook.id}`));
        assert.equal(hook.secretKey, webhook.secretKey);
        const byToken = await api(second, 'GET', '/App/user', { auth: { user: 'anna', password: token } });
        assert.equal(byToken.status, 200);
      } finally {
        await second.close();
      }
    } finally {
      dir.remove();
    }
  });
});
