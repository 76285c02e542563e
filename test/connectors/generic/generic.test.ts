import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import {
  CrmsyncError,
  UnsupportedOperationError,
  WebhookAuthError,
  WebhookPayloadError,
} from '../../../src/core/errors.ts';
import {
  genericConnector,
  genericOptionsSchema,
  signGenericWebhook,
} from '../../../src/connectors/generic/index.ts';
import type { Connector, WebhookRequest } from '../../../src/ports/connector.ts';
import { receiveWebhook } from '../../support/receive-webhook.ts';
import { memoryConnectorState } from '../../support/memory-store.ts';

const SECRET = 'generic-test-secret-0123456789';

function connector(options: Record<string, unknown> = {}): Connector {
  return genericConnector.create({
    connection: 'source',
    options: genericOptionsSchema.parse({ secret: SECRET, ...options }),
    clock: { now: () => 0 },
    logger: pino({ level: 'silent' }),
    apiCalls: { record: () => {} },
    state: memoryConnectorState(),
  });
}

function request(body: unknown, headers: Record<string, string> = {}): WebhookRequest {
  const rawBody = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  return {
    headers: {
      'content-type': 'application/json',
      'x-crmsync-signature': signGenericWebhook(SECRET, rawBody),
      ...headers,
    },
    rawBody,
    query: {},
    receivedAt: 0,
  };
}

/** Runs the webhook intake and returns what it threw. */
async function rejection(connectorUnderTest: Connector, webhook: WebhookRequest): Promise<CrmsyncError> {
  try {
    await receiveWebhook(connectorUnderTest, webhook);
  } catch (error) {
    assert.ok(error instanceof CrmsyncError, `expected a CrmsyncError, got ${String(error)}`);
    return error;
  }
  assert.fail('the webhook was accepted');
}

describe('generic connector: options', () => {
  it('applies defaults and lower-cases the header name', () => {
    const options = genericOptionsSchema.parse({ secret: SECRET, signatureHeader: 'X-Signature' });
    assert.deepEqual(options, { secret: SECRET, signatureHeader: 'x-signature', maxEventsPerRequest: 500 });
  });

  it('rejects a short secret and unknown keys, with paths', () => {
    const result = genericOptionsSchema.safeParse({ secret: 'short', sekret: 'x' });
    assert.equal(result.success, false);
    const paths = result.error?.issues.map((issue) => issue.path.join('.') || '(root)');
    assert.deepEqual(paths?.sort(), ['(root)', 'secret']);
  });
});

describe('generic connector: signature', () => {
  it('signs as sha256=<hex HMAC-SHA256>', () => {
    // Reference value computed independently: printf '{}' | openssl dgst -sha256 -hmac "$SECRET"
    assert.equal(
      signGenericWebhook(SECRET, '{}'),
      'sha256=f566c627151f810b3ad2a9259ae78ba839a8df547775fdf6dffa2878c1170568',
    );
    assert.equal(signGenericWebhook(SECRET, '{}'), signGenericWebhook(SECRET, Buffer.from('{}')));
  });

  it('accepts a valid signature', async () => {
    const result = await receiveWebhook(connector(), request({ entityType: 'Contact', recordId: 1 }));
    assert.equal(result.events.length, 1);
  });

  it('rejects a missing, tampered, truncated, padded or repeated signature with 401', async () => {
    const valid = request({ entityType: 'Contact', recordId: 1 });
    const signature = valid.headers['x-crmsync-signature'] as string;
    const variants: [string, WebhookRequest][] = [
      ['missing', { ...valid, headers: { 'content-type': 'application/json' } }],
      ['tampered body', { ...valid, rawBody: Buffer.from('{"entityType":"Contact","recordId":2}') }],
      [
        'other secret',
        request(
          { entityType: 'Contact', recordId: 1 },
          { 'x-crmsync-signature': signGenericWebhook('x'.repeat(16), valid.rawBody) },
        ),
      ],
      [
        'truncated',
        { ...valid, headers: { ...valid.headers, 'x-crmsync-signature': signature.slice(0, -2) } },
      ],
      ['padded', { ...valid, headers: { ...valid.headers, 'x-crmsync-signature': `${signature}00` } }],
      [
        'not hex',
        { ...valid, headers: { ...valid.headers, 'x-crmsync-signature': `sha256=${'zz'.repeat(32)}` } },
      ],
      [
        'no prefix',
        { ...valid, headers: { ...valid.headers, 'x-crmsync-signature': `sha1=${signature.slice(5)}` } },
      ],
      [
        'repeated',
        { ...valid, headers: { ...valid.headers, 'x-crmsync-signature': [signature, signature] } },
      ],
    ];
    for (const [name, webhook] of variants) {
      const error = await rejection(connector(), webhook);
      assert.ok(error instanceof WebhookAuthError, name);
      assert.equal(error.httpStatus, 401, name);
      assert.ok(
        !error.message.includes(signature.slice(7)),
        `${name}: the message must not echo the signature`,
      );
    }
  });

  it('reads the signature from a configured header', async () => {
    const webhook = request({ entityType: 'Contact', recordId: 1 });
    const moved = {
      ...webhook,
      headers: { 'content-type': 'application/json', 'x-sig': webhook.headers['x-crmsync-signature'] },
    };
    assert.equal((await receiveWebhook(connector({ signatureHeader: 'X-Sig' }), moved)).events.length, 1);
    assert.equal(
      (await rejection(connector({ signatureHeader: 'X-Sig' }), webhook)).code,
      'WEBHOOK_SIGNATURE_MISSING',
    );
  });

  it('checks the signature before the format, so strangers learn nothing about it', async () => {
    const error = await rejection(
      connector(),
      request('not json', { 'x-crmsync-signature': `sha256=${'0'.repeat(64)}` }),
    );
    assert.equal(error.httpStatus, 401);
  });
});

describe('generic connector: body', () => {
  it('parses an envelope into change events with every field', async () => {
    const result = await receiveWebhook(
      connector(),
      request({
        events: [
          {
            id: 'evt-1',
            entityType: 'Contact',
            recordId: 42,
            kind: 'updated',
            occurredAt: '2025-01-31T12:00:00Z',
            changedFields: ['name'],
            actorId: 7,
            data: { name: 'ACME', tags: ['a'] },
            version: '17',
          },
          { entityType: 'Person', recordId: 'p-1' },
        ],
      }),
    );
    assert.deepEqual(result.events, [
      {
        ref: { connection: 'source', entityType: 'Contact', id: '42' },
        kind: 'updated',
        eventId: 'evt-1',
        occurredAt: '2025-01-31T12:00:00Z',
        changedFields: ['name'],
        actorId: '7',
        data: { name: 'ACME', tags: ['a'] },
        version: '17',
      },
      { ref: { connection: 'source', entityType: 'Person', id: 'p-1' }, kind: 'unknown' },
    ]);
  });

  it('parses a single event object and an empty envelope (a ping)', async () => {
    assert.equal(
      (await receiveWebhook(connector(), request({ entityType: 'Contact', recordId: 1 }))).events.length,
      1,
    );
    assert.deepEqual((await receiveWebhook(connector(), request({ events: [] }))).events, []);
  });

  it('answers 400 for invalid JSON', async () => {
    const error = await rejection(connector(), request('{"events": ['));
    assert.ok(error instanceof WebhookPayloadError);
    assert.match(error.message, /not valid JSON/);
  });

  it('lists every schema problem with its path', async () => {
    const error = await rejection(
      connector(),
      request({
        events: [{ entityType: 'a/b', recordId: 1.5, kind: 'changed', extra: 1 }, { recordId: 'x' }],
      }),
    );
    assert.ok(error instanceof WebhookPayloadError);
    for (const path of [
      'events.0.entityType',
      'events.0.recordId',
      'events.0.kind',
      'events.0:',
      'events.1.entityType',
    ]) {
      assert.ok(error.message.includes(path), `"${path}" missing in: ${error.message}`);
    }
    assert.match(error.message, /Unrecognized key: "extra"/);
  });

  it('refuses more events than maxEventsPerRequest', async () => {
    const events = Array.from({ length: 3 }, (_, index) => ({ entityType: 'Contact', recordId: index }));
    const error = await rejection(connector({ maxEventsPerRequest: 2 }), request({ events }));
    assert.match(error.message, /events: at most 2 events per request/);
  });

  it('answers 415 for a body that is not declared as JSON (after the signature check)', async () => {
    const error = await rejection(
      connector(),
      request({ entityType: 'Contact', recordId: 1 }, { 'content-type': 'text/plain' }),
    );
    assert.equal(error.httpStatus, 415);
    const vendorJson = request(
      { entityType: 'Contact', recordId: 1 },
      { 'content-type': 'application/vnd.acme+json; charset=utf-8' },
    );
    assert.equal((await receiveWebhook(connector(), vendorJson)).events.length, 1);
  });
});

describe('generic connector: webhook-only', () => {
  it('refuses read, write and list, and says so in check()', async () => {
    const generic = connector();
    await assert.rejects(generic.read('Contact', '1'), UnsupportedOperationError);
    await assert.rejects(generic.write({ entityType: 'Contact', fields: {} }), UnsupportedOperationError);
    await assert.rejects(generic.list({ entityType: 'Contact' }), UnsupportedOperationError);
    const check = await generic.check();
    assert.equal(check.ok, true);
    assert.match(check.message, /webhook-only/);
    await generic.close();
  });
});
