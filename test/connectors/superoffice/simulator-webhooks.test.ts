/**
 * The SuperOffice simulator's webhook hub over real HTTP: the hub is mounted on a small fastify app with a
 * stub authenticate (header `x-test-associate`), and deliveries go to a local receiver that records the raw
 * bytes. Covers registration with the test event, per-associate visibility, payload and header shape, the
 * signature (checked here with node:crypto only), retries, TooManyErrors and recovery, the duplicate and
 * reorder quirks, timeouts and connection errors, persistence, and shutdown without leftover timers.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, test } from 'node:test';
import { fastify } from 'fastify';
import type { FastifyRequest } from 'fastify';
import {
  SimHttpError,
  netServerErrorBody,
  sendSimError,
} from '../../../src/simulators/superoffice/errors.ts';
import { WebhookHub } from '../../../src/simulators/superoffice/webhooks.ts';
import type { SimChangeEvent, WebhookHubOptions } from '../../../src/simulators/superoffice/webhooks.ts';
import { eventually } from '../../support/eventually.ts';
import { ManualClock } from '../../support/manual-clock.ts';
import { recordedWaits } from '../../support/recorded-waits.ts';
import { seededRandom } from '../../../src/core/random.ts';

const CONTEXT = 'Cust12345';
const PREFIX = `/${CONTEXT}/api/v1`;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A request the receiver got, with the exact bytes. */
interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly raw: Buffer;
  readonly body: Record<string, unknown>;
}

/** How the receiver answers: a status, never (`hang`), or by dropping the connection. */
type Answer = number | 'hang' | 'drop';

/** A local webhook target that records every request. `answer` sees only deliveries (test events get 200). */
async function startReceiver() {
  const received: Received[] = [];
  const state = { answer: (_delivery: Received, _index: number): Answer => 200, testEventStatus: 200 };
  const server = createServer((incoming: IncomingMessage, outgoing: ServerResponse) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const raw = Buffer.concat(chunks);
      const request: Received = {
        headers: incoming.headers,
        raw,
        body: JSON.parse(raw.toString('utf8')) as Record<string, unknown>,
      };
      received.push(request);
      const isTest = incoming.headers['x-hook-test'] === 'true';
      const answer = isTest
        ? state.testEventStatus
        : state.answer(request, received.filter((r) => r.headers['x-hook-test'] !== 'true').length - 1);
      if (answer === 'hang') return;
      if (answer === 'drop') return incoming.socket.destroy();
      outgoing.writeHead(answer).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook?token=t0ps3cret`,
    received,
    state,
    /** The deliveries (no test events). */
    deliveries: () => received.filter((request) => request.headers['x-hook-test'] !== 'true'),
    testEvents: () => received.filter((request) => request.headers['x-hook-test'] === 'true'),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A Webhook entity or an error body, loosely typed for assertions. */
interface WebhookJson {
  readonly WebhookId: number;
  readonly State: string;
  readonly TargetUrl: string;
  readonly Message: string;
  readonly [key: string]: unknown;
}

type Receiver = Awaited<ReturnType<typeof startReceiver>>;

const associateOfRequest = new WeakMap<FastifyRequest, number>();

/** A fastify app with the hub under PREFIX; the stub authenticate takes the associate from a header. */
async function startHost(hubOptions: Partial<WebhookHubOptions> = {}) {
  const hub = new WebhookHub({
    contextIdentifier: CONTEXT,
    retryDelaysMs: [1, 1],
    timeoutMs: 2_000,
    associateOf: (request) => associateOfRequest.get(request) ?? 0,
    ...hubOptions,
  });
  const app = fastify({ logger: false, forceCloseConnections: true });
  app.setErrorHandler((error: unknown, _request, reply) => {
    const simError =
      error instanceof SimHttpError ? error : new SimHttpError(500, 'InternalServerError', String(error));
    return sendSimError(reply, simError, netServerErrorBody);
  });
  hub.registerRoutes(app, PREFIX, (request, _reply, done) => {
    const associate = Number(request.headers['x-test-associate']);
    if (!Number.isInteger(associate) || associate <= 0)
      return done(new SimHttpError(401, 'Unauthorized', 'no associate'));
    associateOfRequest.set(request, associate);
    done();
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}${PREFIX}`;
  /** Calls the Webhook API as `associate`; answers the status and the body as an entity and as a list. */
  const api = async (method: string, path: string, body?: unknown, associate = 7) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        'x-test-associate': String(associate),
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    const answer = (text === '' ? undefined : JSON.parse(text)) as unknown;
    return { status: response.status, body: answer as WebhookJson, list: answer as WebhookJson[] };
  };
  return {
    hub,
    api,
    close: async () => {
      await hub.close();
      await app.close();
    },
  };
}

type Host = Awaited<ReturnType<typeof startHost>>;

/** Closed after each test. */
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
});

async function setup(
  hubOptions: Partial<WebhookHubOptions> = {},
): Promise<{ host: Host; receiver: Receiver }> {
  const receiver = await startReceiver();
  open.push(receiver);
  const host = await startHost(hubOptions);
  open.push(host);
  return { host, receiver };
}

/** Registers a webhook for `events` at the receiver and returns its id. */
async function register(host: Host, receiver: Receiver, extra: Record<string, unknown> = {}, associate = 7) {
  const response = await host.api(
    'POST',
    '/Webhook',
    {
      Name: 'crmsync',
      Events: ['contact.created', 'contact.changed', 'person.deleted'],
      TargetUrl: receiver.url,
      ...extra,
    },
    associate,
  );
  assert.equal(response.status, 201, JSON.stringify(response.body));
  return response.body.WebhookId;
}

const contactChanged: SimChangeEvent = {
  event: 'contact.changed',
  entity: 'contact',
  primaryKey: 42,
  changes: ['contact_id', 'updated_associate_id', 'updated', 'name'],
  changedByAssociateId: 485,
  fieldValues: { associate_id: 485, business_idx: 3, updated: '2025-01-01T00:00:00+00:00' },
};

function contactCreated(primaryKey: number): SimChangeEvent {
  return { ...contactChanged, event: 'contact.created', primaryKey };
}

describe('Webhook REST resource', () => {
  test('GET Webhook/default is the documented template', async () => {
    const { host } = await setup();
    const { status, body } = await host.api('GET', '/Webhook/default');
    assert.equal(status, 200);
    assert.deepEqual(body.Events, ['contact.created', 'contact.deleted']);
    assert.equal(body.State, 'Active');
    assert.equal(body.Type, 'webhook');
    assert.equal(body.WebhookId, 0);
    assert.equal(body.Headers, null);
    assert.equal(body.Properties, null);
  });

  test('a save posts the test event and succeeds only when the target answers 200', async () => {
    const clock = new ManualClock(Date.UTC(2025, 3, 24, 7, 50, 50, 681));
    const { host, receiver } = await setup({ clock });
    const id = await register(host, receiver, { Secret: 'hush' });

    const [testEvent] = receiver.testEvents();
    assert.ok(testEvent);
    assert.equal(testEvent.headers['x-hook-test'], 'true');
    assert.equal(testEvent.headers['x-superoffice-event'], 'test');
    assert.equal(testEvent.headers['x-superoffice-eventid'], testEvent.body.EventId);
    assert.equal(
      testEvent.headers['x-superoffice-signature'],
      createHmac('sha256', 'hush').update(testEvent.raw).digest('base64'),
    );
    assert.deepEqual(
      { ...testEvent.body, EventId: 'x' },
      {
        EventId: 'x',
        Timestamp: '2025-04-24T07:50:50.6810000Z',
        Changes: [],
        Event: 'test',
        PrimaryKey: 0,
        Entity: 'test',
        ContextIdentifier: CONTEXT,
        ChangedByAssociateId: 7,
        WebhookName: 'crmsync',
      },
    );

    const { body: saved } = await host.api('GET', `/Webhook/${id}`);
    assert.deepEqual(Object.keys(saved), [
      'WebhookId',
      'Name',
      'Events',
      'ErrorsEmail',
      'TargetUrl',
      'Secret',
      'State',
      'Type',
      'Headers',
      'Properties',
      'Registered',
      'RegisteredAssociate',
      'Updated',
      'UpdatedAssociate',
    ]);
    assert.equal(saved.State, 'Active');
    assert.equal(saved.TargetUrl, receiver.url);
    assert.equal(saved.Registered, '2025-04-24T07:50:50Z');
    assert.deepEqual(saved.RegisteredAssociate, { AssociateId: 7 });

    receiver.state.testEventStatus = 500;
    const refused = await host.api('POST', '/Webhook', {
      Name: 'b',
      Events: ['contact.created'],
      TargetUrl: receiver.url,
    });
    assert.equal(refused.status, 400);
    assert.match(refused.body.Message, /answered the test event with HTTP 500.*must answer 200/);
    assert.doesNotMatch(refused.body.Message, /t0ps3cret/, 'the token in the query string is not echoed');
    assert.equal((await host.api('GET', '/Webhook')).list.length, 1, 'the refused webhook was not saved');
  });

  test('a body without Name, Events or TargetUrl, or with a bad TargetUrl, is refused', async () => {
    const { host, receiver } = await setup();
    const missing = await host.api('POST', '/Webhook', { Events: [] });
    assert.equal(missing.status, 400);
    assert.match(missing.body.Message, /Name, Events, TargetUrl/);
    const relative = await host.api('POST', '/Webhook', {
      Name: 'a',
      Events: ['contact.created'],
      TargetUrl: '/x',
    });
    assert.equal(relative.status, 400);
    assert.equal(receiver.received.length, 0, 'nothing was posted for an invalid definition');
  });

  test('requireHttps refuses an http TargetUrl, as the product does', async () => {
    const { host, receiver } = await setup({ requireHttps: true });
    const refused = await host.api('POST', '/Webhook', {
      Name: 'a',
      Events: ['contact.created'],
      TargetUrl: receiver.url,
    });
    assert.equal(refused.status, 400);
    assert.match(refused.body.Message, /https/);
  });

  test('each associate (app) sees and changes only the webhooks it registered', async () => {
    const { host, receiver } = await setup();
    const mine = await register(host, receiver, {}, 7);
    const theirs = await register(host, receiver, { Name: 'other app' }, 8);

    assert.deepEqual(
      (await host.api('GET', '/Webhook', undefined, 7)).list.map((w) => w.WebhookId),
      [mine],
    );
    assert.deepEqual(
      (await host.api('GET', '/Webhook', undefined, 8)).list.map((w) => w.WebhookId),
      [theirs],
    );
    assert.equal((await host.api('GET', `/Webhook/${theirs}`, undefined, 7)).status, 404);
    assert.equal((await host.api('PUT', `/Webhook/${theirs}`, { Name: 'x' }, 7)).status, 404);
    assert.equal((await host.api('DELETE', `/Webhook/${theirs}`, undefined, 7)).status, 404);

    assert.equal((await host.api('DELETE', `/Webhook/${mine}`, undefined, 7)).status, 204);
    assert.equal((await host.api('GET', `/Webhook/${mine}`, undefined, 7)).status, 404);
    host.hub.emit(contactChanged);
    await host.hub.idle();
    assert.deepEqual(
      receiver.deliveries().map((d) => d.body.WebhookName),
      ['other app'],
      'a deleted webhook gets nothing',
    );
  });

  test('POST Webhook/Test test-posts a definition without saving it', async () => {
    const { host, receiver } = await setup();
    const ok = await host.api('POST', '/Webhook/Test', {
      Name: 't',
      Events: ['contact.created'],
      TargetUrl: receiver.url,
    });
    assert.equal(ok.status, 200);
    assert.equal(receiver.testEvents().length, 1);
    receiver.state.testEventStatus = 404;
    const failed = await host.api('POST', '/Webhook/Test', {
      Name: 't',
      Events: ['x'],
      TargetUrl: receiver.url,
    });
    assert.equal(failed.status, 400);
    assert.equal((await host.api('GET', '/Webhook')).list.length, 0);
  });

  test('a PUT that changes the TargetUrl tests the new target and keeps the old one on failure', async () => {
    const { host, receiver } = await setup();
    const id = await register(host, receiver);
    const other = await startReceiver();
    open.push(other);
    other.state.testEventStatus = 503;
    const refused = await host.api('PUT', `/Webhook/${id}`, { TargetUrl: other.url });
    assert.equal(refused.status, 400);
    assert.equal((await host.api('GET', `/Webhook/${id}`)).body.TargetUrl, receiver.url);
    other.state.testEventStatus = 200;
    const moved = await host.api('PUT', `/Webhook/${id}`, { TargetUrl: other.url });
    assert.equal(moved.status, 200);
    assert.equal(moved.body.TargetUrl, other.url);
    // A PUT that neither moves nor activates the webhook posts no test event.
    const before = other.testEvents().length;
    const renamed = await host.api('PUT', `/Webhook/${id}`, {
      Name: 'renamed',
      Properties: { note: 'kept' },
    });
    assert.equal(renamed.status, 200);
    assert.equal(other.testEvents().length, before);
    assert.deepEqual(renamed.body.Properties, { note: 'kept' }, 'Properties are stored and echoed');
    assert.deepEqual(renamed.body.Events, ['contact.created', 'contact.changed', 'person.deleted']);
  });
});

describe('webhook delivery', () => {
  test('headers and PascalCase body as NetServer sends them, signed over the raw bytes', async () => {
    const clock = new ManualClock(Date.UTC(2018, 3, 24, 7, 50, 50, 681));
    const { host, receiver } = await setup({ clock });
    const id = await register(host, receiver, { Secret: 'geheimnis-ä' });
    host.hub.emit(contactChanged);
    host.hub.emit({
      event: 'person.deleted',
      entity: 'person',
      primaryKey: 9,
      changes: [],
      changedByAssociateId: 528,
      values: { associate_id: 485, contact_id: 42 },
    });
    host.hub.emit({ ...contactChanged, event: 'sale.sold', entity: 'sale' }); // not subscribed
    await host.hub.idle();

    const [changed, deleted] = receiver.deliveries();
    assert.equal(receiver.deliveries().length, 2);
    assert.ok(changed && deleted);
    assert.equal(changed.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(changed.headers['user-agent'], 'NetServer-Webhook/8.8.6684.1719');
    assert.equal(changed.headers['x-superoffice-event'], 'contact.changed');
    assert.equal(changed.headers['x-superoffice-eventid'], changed.body.EventId);
    assert.equal(changed.headers['x-superoffice-retry'], '0');
    assert.equal(changed.headers['x-hook-test'], undefined);
    const expected = createHmac('sha256', Buffer.from('geheimnis-ä', 'utf8'))
      .update(changed.raw)
      .digest('base64');
    assert.equal(changed.headers['x-superoffice-signature'], expected);

    assert.match(String(changed.body.EventId), GUID);
    assert.deepEqual(Object.keys(changed.body), [
      'EventId',
      'Timestamp',
      'Changes',
      'Event',
      'PrimaryKey',
      'Entity',
      'ContextIdentifier',
      'ChangedByAssociateId',
      'WebhookName',
      'FieldValues',
    ]);
    assert.equal(changed.body.Timestamp, '2018-04-24T07:50:50.6810000Z');
    assert.match(String(changed.body.Timestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/);
    assert.deepEqual(changed.body.Changes, ['contact_id', 'updated_associate_id', 'updated', 'name']);
    assert.equal(changed.body.PrimaryKey, 42);
    assert.equal(changed.body.Entity, 'contact');
    assert.equal(changed.body.ContextIdentifier, CONTEXT);
    assert.equal(changed.body.ChangedByAssociateId, 485);
    assert.equal(changed.body.WebhookName, 'crmsync');
    assert.deepEqual(changed.body.FieldValues, contactChanged.fieldValues);

    assert.deepEqual(deleted.body.Values, { associate_id: 485, contact_id: 42 });
    assert.equal(deleted.body.FieldValues, undefined);
    assert.deepEqual(deleted.body.Changes, []);
    assert.notEqual(deleted.body.EventId, changed.body.EventId);

    assert.deepEqual(
      host.hub
        .deliveries()
        .map(({ webhookId, event, attempt, status, at }) => ({ webhookId, event, attempt, status, at })),
      [
        { webhookId: id, event: 'contact.changed', attempt: 1, status: 200, at: '2018-04-24T07:50:50.681Z' },
        { webhookId: id, event: 'person.deleted', attempt: 1, status: 200, at: '2018-04-24T07:50:50.681Z' },
      ],
    );
    assert.ok(host.hub.deliveries().every((record) => !record.targetUrl.includes('t0ps3cret')));
  });

  test('without a Secret there is no signature header', async () => {
    const { host, receiver } = await setup();
    await register(host, receiver);
    host.hub.emit(contactChanged);
    await host.hub.idle();
    const [delivery] = receiver.deliveries();
    assert.ok(delivery);
    assert.equal(delivery.headers['x-superoffice-signature'], undefined);
    assert.equal(receiver.testEvents()[0]?.headers['x-superoffice-signature'], undefined);
  });

  test('failed attempts are retried after the configured delays with the same EventId', async () => {
    const { waits, sleep } = recordedWaits();
    const { host, receiver } = await setup({ retryDelaysMs: [20, 80], sleep });
    await register(host, receiver);
    receiver.state.answer = (_delivery, index) => [500, 'drop' as const, 200][index] ?? 200;
    host.hub.emit(contactChanged);
    await host.hub.idle();

    const attempts = receiver.deliveries();
    assert.equal(attempts.length, 3);
    assert.equal(new Set(attempts.map((a) => a.body.EventId)).size, 1, 'one EventId across the attempts');
    assert.deepEqual(
      attempts.map((a) => a.headers['x-superoffice-retry']),
      ['0', '1', '2'],
    );
    assert.deepEqual(waits, [20, 80], 'waited 20 ms before the 2nd attempt, 80 ms before the 3rd');
    assert.deepEqual(
      host.hub.deliveries().map((record) => [record.attempt, record.status]),
      [
        [1, 500],
        [2, 'error'],
        [3, 200],
      ],
    );
  });

  test('a target that does not answer in time counts as a failed attempt', async () => {
    const { host, receiver } = await setup({ timeoutMs: 150 });
    await register(host, receiver);
    receiver.state.answer = (_delivery, index) => (index === 0 ? 'hang' : 200);
    host.hub.emit(contactChanged);
    await host.hub.idle();
    assert.deepEqual(
      host.hub.deliveries().map((record) => record.status),
      ['timeout', 200],
    );
  });

  test('after 9 failed attempts in a row the webhook is TooManyErrors until PUT sets it Active', async () => {
    let changes = 0;
    const { host, receiver } = await setup({ onChange: () => changes++ });
    const id = await register(host, receiver);
    receiver.state.answer = () => 500;
    host.hub.emit(contactChanged);
    await host.hub.idle();

    const attempts = receiver.deliveries();
    assert.equal(attempts.length, 9, 'three cycles of three attempts, then it stops');
    assert.equal(new Set(attempts.map((a) => a.body.EventId)).size, 1, 'the EventId is kept across cycles');
    assert.deepEqual(
      attempts.map((a) => a.headers['x-superoffice-retry']),
      ['0', '1', '2', '3', '4', '5', '6', '7', '8'],
    );
    assert.equal((await host.api('GET', `/Webhook/${id}`)).body.State, 'TooManyErrors');
    assert.equal(changes, 9, 'every change of the error counter is reported for persistence');

    host.hub.emit(contactChanged);
    await host.hub.idle();
    assert.equal(receiver.deliveries().length, 9, 'nothing is delivered while TooManyErrors');

    receiver.state.answer = () => 200;
    const testsBefore = receiver.testEvents().length;
    const reactivated = await host.api('PUT', `/Webhook/${id}`, { State: 'Active' });
    assert.equal(reactivated.status, 200);
    assert.equal(reactivated.body.State, 'Active');
    assert.equal(receiver.testEvents().length, testsBefore + 1, 'reactivation posts the test event');
    host.hub.emit(contactCreated(43));
    await host.hub.idle();
    assert.equal(receiver.deliveries().length, 10);
    assert.equal(receiver.deliveries()[9]?.body.PrimaryKey, 43);
  });

  test('a success resets the count of failures in a row', async () => {
    const { host, receiver } = await setup({ requeueFailedEvents: false });
    const id = await register(host, receiver);
    // 8 failures (3 + 3 + 2), a success, then 3 more: 11 failures in all but never 9 in a row.
    receiver.state.answer = (_delivery, index) => (index === 8 ? 200 : 500);
    for (const key of [1, 2, 3, 4]) host.hub.emit(contactCreated(key));
    await host.hub.idle();
    assert.equal((await host.api('GET', `/Webhook/${id}`)).body.State, 'Active');
    const stored = (host.hub.toJSON() as { webhooks: { consecutiveErrors: number }[] }).webhooks[0];
    assert.equal(stored?.consecutiveErrors, 3);
  });

  test('newEventIdPerCycle gives each later cycle a new EventId', async () => {
    const { host, receiver } = await setup({ newEventIdPerCycle: true });
    await register(host, receiver);
    receiver.state.answer = (_delivery, index) => (index < 3 ? 500 : 200);
    host.hub.emit(contactChanged);
    await host.hub.idle();
    const attempts = receiver.deliveries();
    assert.equal(attempts.length, 4);
    assert.notEqual(attempts[3]?.body.EventId, attempts[0]?.body.EventId);
    assert.equal(attempts[3]?.headers['x-superoffice-retry'], '0');
  });

  test('quirk duplicateContactCreated repeats contact.created with new EventIds by default (seed 001)', async () => {
    const { host, receiver } = await setup();
    await register(host, receiver);
    host.hub.setQuirks({ duplicateContactCreated: 2 });
    host.hub.emit(contactCreated(77));
    host.hub.emit(contactChanged);
    await host.hub.idle();
    const created = receiver.deliveries().filter((d) => d.body.Event === 'contact.created');
    assert.equal(created.length, 3);
    assert.equal(new Set(created.map((d) => d.body.EventId)).size, 3);
    assert.equal(new Set(created.map((d) => d.headers['x-superoffice-eventid'])).size, 3);
    assert.deepEqual(new Set(created.map((d) => d.body.PrimaryKey)), new Set([77]));
    assert.equal(receiver.deliveries().filter((d) => d.body.Event === 'contact.changed').length, 1);
    assert.throws(() => host.hub.setQuirks({ duplicateContactCreated: -1 }), /whole number/);
  });

  test("quirk duplicateContactCreatedEventId 'same' repeats the first copy's EventId", async () => {
    const { host, receiver } = await setup();
    await register(host, receiver);
    host.hub.setQuirks({ duplicateContactCreated: 2, duplicateContactCreatedEventId: 'same' });
    host.hub.emit(contactCreated(77));
    await host.hub.idle();
    const created = receiver.deliveries().filter((d) => d.body.Event === 'contact.created');
    assert.equal(created.length, 3);
    assert.equal(new Set(created.map((d) => d.body.EventId)).size, 1);
    assert.equal(new Set(created.map((d) => d.headers['x-superoffice-eventid'])).size, 1);
    assert.throws(
      () => host.hub.setQuirks({ duplicateContactCreatedEventId: 'other' as 'new' }),
      /'new' or 'same'/,
    );
  });

  test('quirk reorder shuffles a batch of pending events with the seeded random', async () => {
    const seed = 20260422;
    console.log(`reorder test seed: ${seed}`);
    const orderWith = async (reorder: boolean) => {
      const { host, receiver } = await setup({ random: seededRandom(seed) });
      await register(host, receiver);
      host.hub.setQuirks({ reorder });
      for (let key = 1; key <= 8; key++) host.hub.emit(contactCreated(key));
      await host.hub.idle();
      return receiver.deliveries().map((d) => d.body.PrimaryKey as number);
    };
    assert.deepEqual(await orderWith(false), [1, 2, 3, 4, 5, 6, 7, 8], 'in order without the quirk');
    const shuffled = await orderWith(true);
    assert.deepEqual(
      [...shuffled].sort((a, b) => a - b),
      [1, 2, 3, 4, 5, 6, 7, 8],
      'each event exactly once',
    );
    assert.notDeepEqual(shuffled, [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(await orderWith(true), shuffled, 'the same seed gives the same order');
  });

  test('different webhooks are delivered concurrently', async () => {
    const { host, receiver } = await setup({ timeoutMs: 5_000 });
    const slow = await startReceiver();
    open.push(slow);
    await register(host, receiver);
    await register(host, slow);
    slow.state.answer = () => 'hang';
    host.hub.emit(contactChanged);
    await eventually(() => receiver.deliveries().length === 1 && slow.deliveries().length === 1);
    assert.deepEqual(
      host.hub.deliveries().map((record) => record.status),
      [200],
      'the fast target is answered while the slow one still hangs',
    );
  });
});

describe('persistence and shutdown', () => {
  test('toJSON/load keep the webhooks and their error counters', async () => {
    const { host, receiver } = await setup({ requeueFailedEvents: false });
    const first = await register(host, receiver, { Secret: 's', ErrorsEmail: 'ops@example.com' });
    await register(host, receiver, { Name: 'second' }, 8);
    receiver.state.answer = () => 500;
    host.hub.emit(contactChanged);
    await host.hub.idle();
    const saved = JSON.parse(JSON.stringify(host.hub.toJSON())) as unknown;

    const restored = await startHost();
    open.push(restored);
    restored.hub.load(saved);
    assert.deepEqual(restored.hub.toJSON(), saved);
    assert.deepEqual(
      (await restored.api('GET', `/Webhook/${first}`)).body,
      (await host.api('GET', `/Webhook/${first}`)).body,
    );
    const counters = (saved as { webhooks: { consecutiveErrors: number }[] }).webhooks.map(
      (w) => w.consecutiveErrors,
    );
    assert.deepEqual(counters, [3, 3]);
    assert.equal(await register(restored, receiver), 3, 'ids continue after the loaded ones');

    assert.throws(
      () => restored.hub.load({ version: 1, nextWebhookId: 1, webhooks: [{ webhookId: 'x' }] }),
      /webhooks\.0\.webhookId/,
    );
    restored.hub.reset();
    assert.equal((await restored.api('GET', '/Webhook')).list.length, 0);
  });

  test('close() cancels retry timers and requests in flight and leaves no timers', async () => {
    const receiver = await startReceiver();
    open.push(receiver);
    const host = await startHost({ retryDelaysMs: [60_000], timeoutMs: 60_000 });
    open.push(host);
    await register(host, receiver);
    const other = await register(host, receiver, { Name: 'hanging' });
    receiver.state.answer = (delivery) => (delivery.body.WebhookName === 'hanging' ? 'hang' : 500);
    const timersBefore = countTimers();

    host.hub.emit(contactChanged);
    await eventually(() => receiver.deliveries().length === 2 && host.hub.deliveries().length === 1);
    assert.ok(countTimers() > timersBefore, 'a retry is waiting and a request is in flight');
    assert.equal(host.hub.deliveries()[0]?.status, 500);
    assert.notEqual(host.hub.deliveries()[0]?.webhookId, other);

    await host.hub.close();
    await host.hub.idle();
    assert.equal(countTimers(), timersBefore);
    host.hub.emit(contactChanged);
    await host.hub.idle();
    assert.equal(receiver.deliveries().length, 2, 'emit after close() delivers nothing');
  });
});

function countTimers(): number {
  return process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
}
