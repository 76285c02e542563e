/**
 * Webhooks of the EspoCRM simulator over real HTTP, delivered to a local receiver that keeps the raw bytes:
 * registration and its 403 reasons, events recorded only while an active webhook exists, the job's portions
 * (120 events in batches of 50, 50 and 20 over three runs; 20 per run with the vendor's event portion),
 * both signature headers checked here with node:crypto over the bytes received, PHP escaping in the raw
 * body, payload shapes per event, retries and their limit, 410, skipOwn, timeouts and the schedule.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { startEspoCrmSimulator } from '../../../src/simulators/espocrm/index.ts';
import type { DeliveryRecord, EspoCrmSimulator } from '../../../src/simulators/espocrm/index.ts';
import { eventually } from '../../support/eventually.ts';
import { ManualClock } from '../../support/manual-clock.ts';
import { admin, api, body, expectedSignatures, startReceiver, suiteSimulator } from './simulator-support.ts';
import type { RecordBody } from './simulator-support.ts';

type Receiver = Awaited<ReturnType<typeof startReceiver>>;

const RETRY_DELAY_MS = 600_000;

async function register(
  sim: EspoCrmSimulator,
  event: string,
  url: string,
  extra: Record<string, unknown> = {},
) {
  const res = await api(sim, 'POST', '/Webhook', { body: { event, url, ...extra } });
  assert.equal(res.status, 200, `${res.headers.get('x-status-reason')}`);
  return body(res);
}

async function deliveries(sim: EspoCrmSimulator): Promise<DeliveryRecord[]> {
  return body<DeliveryRecord[]>(await admin(sim, 'GET', 'webhooks/deliveries'));
}

describe('EspoCRM simulator: webhook registration', () => {
  const sim = suiteSimulator({ seed: false, webhookIntervalMs: 0 });

  test('the response is the full record with a generated secretKey and the derived parts', async () => {
    const webhook = await register(sim, 'CBeteiligte.fieldUpdate.syncStatus', 'https://crm.example/hook', {
      skipOwn: true,
    });
    assert.match(String(webhook.secretKey), /^[0-9a-f]{32}$/);
    assert.match(webhook.id, /^[0-9a-f]{17}$/);
    assert.equal(webhook.userId, sim.credentials.userId);
    assert.equal(webhook.userName, 'crmsync API');
    assert.equal(webhook.entityType, 'CBeteiligte');
    assert.equal(webhook.type, 'fieldUpdate');
    assert.equal(webhook.field, 'syncStatus');
    assert.equal(webhook.isActive, true);
    assert.equal(webhook.skipOwn, true);
    const list = body<{ total: number; list: RecordBody[] }>(await api(sim, 'GET', '/Webhook'));
    assert.equal(list.total, 1);
    assert.equal((await api(sim, 'GET', `/Webhook/${webhook.id}`)).status, 200);
    const removed = await api(sim, 'DELETE', `/Webhook/${webhook.id}`);
    assert.equal(removed.text, 'true');
    assert.equal((await api(sim, 'GET', `/Webhook/${webhook.id}`)).status, 404);
  });

  test('bad events are 403 with the vendor reasons; regular users have no access', async () => {
    const reasons: [string, string][] = [
      ['Account.created', 'Not supported event.'],
      ['Account', 'Not supported event.'],
      ['Account.fieldUpdate.assignedUserId', 'Field does not exist.'],
      ['Account.fieldUpdate', 'Field is empty.'],
      ['Lead.create', 'Entity type is not available for Webhooks.'],
    ];
    for (const [event, reason] of reasons) {
      const res = await api(sim, 'POST', '/Webhook', { body: { event, url: 'https://crm.example/hook' } });
      assert.equal(res.status, 403, event);
      assert.equal(res.headers.get('x-status-reason'), reason, event);
    }
    assert.equal(
      (await register(sim, 'Account.fieldUpdate.assignedUser', 'https://crm.example/a')).field,
      'assignedUser',
    );
    const human = await api(sim, 'POST', '/Webhook', {
      auth: { user: 'anna', password: 'anna-password' },
      body: { event: 'Account.create', url: 'https://crm.example/hook' },
    });
    assert.equal(human.status, 403);
    const forHuman = await api(sim, 'POST', '/Webhook', {
      auth: { user: 'admin', password: 'admin-password' },
      body: { event: 'Account.create', url: 'https://crm.example/hook', userId: '65a1f0c2b3d4e5f61' },
    });
    assert.equal(forHuman.headers.get('x-status-reason'), 'User must be an API User.');
    const noUrl = await api(sim, 'POST', '/Webhook', { body: { event: 'Account.create' } });
    assert.equal(noUrl.status, 400);
  });
});

describe('EspoCRM simulator: webhook delivery', () => {
  const clock = new ManualClock(Date.UTC(2025, 5, 1, 9, 0, 0));
  const sim = suiteSimulator({
    seed: false,
    clock,
    webhookIntervalMs: 0,
    webhookRetryDelayMs: RETRY_DELAY_MS,
  });
  let receiver: Receiver;
  beforeEach(async () => {
    assert.equal((await admin(sim, 'POST', 'reset', { seed: false })).status, 200);
    receiver = await startReceiver();
  });
  afterEach(() => receiver.close());

  test('events are recorded only while an active webhook for that event exists', async () => {
    await api(sim, 'POST', '/Account', { body: { name: 'Before Hook AG' } });
    await register(sim, 'Account.create', receiver.url);
    await register(sim, 'Account.update', receiver.url, { isActive: false });
    const after = body(await api(sim, 'POST', '/Account', { body: { name: 'After Hook AG' } }));
    await api(sim, 'PATCH', `/Account/${after.id}`, { body: { name: 'Renamed' } });
    await sim.processWebhookQueue();
    assert.equal(receiver.received.length, 1);
    assert.deepEqual(
      receiver.received[0]?.items.map((item) => item.name),
      ['After Hook AG'],
    );
  });

  test('120 events go out as batches of 50, 50 and 20 over three runs, signed over the raw bytes', async () => {
    await admin(sim, 'POST', 'quirks', { webhookEventPortionSize: 200 });
    const webhook = await register(sim, 'CBeteiligte.create', receiver.url);
    for (let index = 0; index < 120; index++)
      await api(sim, 'POST', '/CBeteiligte', { body: { name: `Beteiligter ${index}` } });
    for (let run = 0; run < 3; run++) await sim.processWebhookQueue();
    await sim.processWebhookQueue();
    assert.deepEqual(
      receiver.received.map((request) => request.items.length),
      [50, 50, 20],
    );
    const sent = receiver.received.flatMap((request) => request.items.map((item) => item.name));
    assert.deepEqual(
      sent,
      Array.from({ length: 120 }, (_, index) => `Beteiligter ${index}`),
      'in sequence order',
    );
    for (const request of receiver.received) {
      const expected = expectedSignatures(webhook.id, String(webhook.secretKey), request.raw);
      assert.equal(request.headers.signature, expected.signature);
      assert.equal(request.headers['x-signature'], expected.legacy);
      assert.equal(request.headers['content-type'], 'application/json');
      assert.equal(Number(request.headers['content-length']), request.raw.length);
    }
    const tampered = Buffer.from(receiver.received[0]?.raw ?? Buffer.alloc(0));
    tampered[10] = 0x20;
    assert.notEqual(
      expectedSignatures(webhook.id, String(webhook.secretKey), tampered).signature,
      receiver.received[0]?.headers.signature,
    );
  });

  test('with the vendor default event portion a backlog drains 20 events per run', async () => {
    await register(sim, 'CBeteiligte.create', receiver.url);
    for (let index = 0; index < 120; index++)
      await api(sim, 'POST', '/CBeteiligte', { body: { name: `B${index}` } });
    await sim.processWebhookQueue();
    await sim.processWebhookQueue();
    assert.deepEqual(
      receiver.received.map((request) => request.items.length),
      [20, 20],
    );
  });

  test('the raw body is PHP json_encode: escaped slashes and \\u escapes, also for surrogate pairs', async () => {
    await register(sim, 'Account.create', receiver.url);
    const created = body(
      await api(sim, 'POST', '/Account', {
        body: { name: 'Müller/Söhne 😀', website: 'https://m.example/a' },
      }),
    );
    await sim.processWebhookQueue();
    const raw = receiver.received[0]?.raw.toString('utf8') ?? '';
    assert.ok(raw.includes('"name":"M\\u00fcller\\/S\\u00f6hne \\ud83d\\ude00"'), raw.slice(0, 200));
    assert.ok(raw.includes('https:\\/\\/m.example\\/a'));
    assert.ok(/^[\x20-\x7e]*$/.test(raw), 'pure ASCII');
    const parsed = JSON.parse(raw) as RecordBody[];
    assert.equal(parsed[0]?.name, 'Müller/Söhne 😀');
    assert.equal(parsed[0]?.id, created.id);
    assert.notEqual(JSON.stringify(parsed), raw, 'JSON.stringify gives other bytes');
  });

  test('payloads: create full, update changed attributes + id, fieldUpdate the field, delete the id', async () => {
    for (const event of ['Account.create', 'Account.update', 'Account.fieldUpdate.name', 'Account.delete'])
      await register(sim, event, `${receiver.url}&event=${event}`);
    const created = body(
      await api(sim, 'POST', '/Account', { body: { name: 'Payload AG', industry: 'Energy' } }),
    );
    await api(sim, 'PATCH', `/Account/${created.id}`, {
      body: { name: 'Payload Two AG', industry: 'Energy' },
    });
    await api(sim, 'PATCH', `/Account/${created.id}`, { body: { website: 'https://p.example' } });
    await api(sim, 'DELETE', `/Account/${created.id}`);
    await sim.processWebhookQueue();
    assert.equal(receiver.received.length, 4, 'one request per webhook');
    const sent = (await deliveries(sim)).map((delivery) => delivery.items);
    const [creates, updates, fieldUpdates, deletes] = sent;
    assert.equal(creates?.[0]?.name, 'Payload AG');
    assert.equal(creates?.[0]?.industry, 'Energy');
    assert.equal(creates?.[0]?.createdAt, '2025-06-01 09:00:00');
    assert.deepEqual(updates?.[0], {
      name: 'Payload Two AG',
      modifiedById: sim.credentials.userId,
      modifiedByName: 'crmsync API',
      id: created.id,
    });
    assert.deepEqual(updates?.[1], { website: 'https://p.example', id: created.id }, 'snapshotted per event');
    assert.deepEqual(
      fieldUpdates,
      [{ id: created.id, name: 'Payload Two AG' }],
      'only when the field changed',
    );
    assert.deepEqual(deletes, [{ id: created.id }]);
  });

  test('retried codes wait for the retry delay and give up after 4 attempts; others fail at once', async () => {
    receiver.control.answer = () => 503;
    await register(sim, 'Account.create', receiver.url);
    await api(sim, 'POST', '/Account', { body: { name: 'Retry AG' } });
    await sim.processWebhookQueue();
    await sim.processWebhookQueue();
    assert.equal(receiver.received.length, 1, 'not due again before the delay');
    for (let attempt = 2; attempt <= 5; attempt++) {
      clock.advance(RETRY_DELAY_MS);
      await sim.processWebhookQueue();
    }
    assert.equal(receiver.received.length, 4, 'four attempts, then Failed');
    assert.deepEqual(
      (await deliveries(sim)).map((delivery) => [delivery.status, delivery.outcome]),
      [
        [503, 'retry'],
        [503, 'retry'],
        [503, 'retry'],
        [503, 'failed'],
      ],
    );
    receiver.control.answer = () => 422;
    await api(sim, 'POST', '/Account', { body: { name: 'Unprocessable AG' } });
    await sim.processWebhookQueue();
    clock.advance(RETRY_DELAY_MS);
    await sim.processWebhookQueue();
    assert.equal(receiver.received.length, 5);
    assert.equal((await deliveries(sim)).at(-1)?.outcome, 'failed');
  });

  test('a failed batch is retried whole and then delivered', async () => {
    receiver.control.answer = (_request, index) => (index === 0 ? 500 : 200);
    await register(sim, 'Account.create', receiver.url);
    await api(sim, 'POST', '/Account', { body: { name: 'First AG' } });
    await sim.processWebhookQueue();
    await api(sim, 'POST', '/Account', { body: { name: 'Second AG' } });
    clock.advance(RETRY_DELAY_MS);
    await sim.processWebhookQueue();
    assert.deepEqual(
      receiver.received.map((request) => request.items.map((item) => item.name)),
      [['First AG'], ['First AG', 'Second AG']],
    );
  });

  test('410 deletes the webhook and its pending items', async () => {
    receiver.control.answer = () => 410;
    const webhook = await register(sim, 'Account.create', receiver.url);
    await admin(sim, 'POST', 'quirks', { webhookBatchSize: 1 });
    await api(sim, 'POST', '/Account', { body: { name: 'Gone 1' } });
    await api(sim, 'POST', '/Account', { body: { name: 'Gone 2' } });
    await sim.processWebhookQueue();
    assert.equal((await api(sim, 'GET', `/Webhook/${webhook.id}`)).status, 404);
    const queue = body<{ queue: unknown[] }>(await admin(sim, 'GET', 'webhooks'));
    assert.deepEqual(queue.queue, []);
    await sim.processWebhookQueue();
    assert.equal(receiver.received.length, 1);
  });

  test('skipOwn leaves out the events the webhook user caused, not those of humans', async () => {
    await register(sim, 'CBeteiligte.create', receiver.url, { skipOwn: true });
    await api(sim, 'POST', '/CBeteiligte', { body: { name: 'Own Echo' } });
    const acted = await admin(sim, 'POST', 'act/anna/CBeteiligte', { name: 'Anna Typed This' });
    assert.equal(acted.status, 200);
    await sim.processWebhookQueue();
    assert.deepEqual(
      receiver.received.flatMap((request) => request.items.map((item) => [item.name, item.createdById])),
      [['Anna Typed This', '65a1f0c2b3d4e5f61']],
    );
  });

  test('a receiver that does not answer in time counts as 408 and is retried', async () => {
    receiver.control.answer = () => 'hang';
    await admin(sim, 'POST', 'quirks', { webhookTimeoutMs: 100 });
    await register(sim, 'Account.create', receiver.url);
    await api(sim, 'POST', '/Account', { body: { name: 'Slow AG' } });
    await sim.processWebhookQueue();
    assert.deepEqual(
      (await deliveries(sim)).map((delivery) => [delivery.status, delivery.outcome]),
      [['timeout', 'retry']],
    );
  });

  test('a connection error fails at once (10.0) or is retried (9.3 quirk)', async () => {
    const closed = await startReceiver();
    const url = closed.url;
    await closed.close();
    await register(sim, 'Account.create', url);
    await api(sim, 'POST', '/Account', { body: { name: 'Nobody Home AG' } });
    await sim.processWebhookQueue();
    await admin(sim, 'POST', 'quirks', { webhookConnectionErrorRetried: true });
    await api(sim, 'POST', '/Account', { body: { name: 'Nobody Home Either AG' } });
    await sim.processWebhookQueue();
    assert.deepEqual(
      (await deliveries(sim)).map((delivery) => [delivery.status, delivery.outcome]),
      [
        ['error', 'failed'],
        ['error', 'retry'],
      ],
    );
  });
});

describe('EspoCRM simulator: the webhook schedule', () => {
  test('the job runs on its interval without being called', async () => {
    const receiver = await startReceiver();
    const sim = await startEspoCrmSimulator({ seed: false, webhookIntervalMs: 20 });
    try {
      await register(sim, 'Contact.create', receiver.url);
      await api(sim, 'POST', '/Contact', { body: { lastName: 'Scheduled' } });
      await eventually(() => receiver.received.length === 1);
      assert.equal(receiver.received[0]?.items[0]?.lastName, 'Scheduled');
    } finally {
      await sim.close();
      await receiver.close();
    }
  });
});
