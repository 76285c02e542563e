import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { CrmsyncError } from '../../../src/core/errors.ts';
import { superofficeConnector } from '../../../src/connectors/superoffice/index.ts';
import type { Connector, WebhookRequest } from '../../../src/ports/connector.ts';
import { memoryState, recorder, silentLogger, testOptions } from './support.ts';
import { receiveWebhook } from '../../support/receive-webhook.ts';

const SECRET = 'so-webhook-secret-0123456789';
const TOKEN = 'shared-token-abcdefghijklmnop';

/** Signs exactly as the reference (§1.4) describes, with node:crypto only. */
function referenceSignature(secret: string, body: Buffer): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(body).digest('base64');
}

function connector(options: Record<string, unknown> = { webhookSecret: SECRET }): Connector {
  const clock = { now: () => 0 };
  return superofficeConnector.create({
    connection: 'so',
    options: testOptions('http://127.0.0.1:9', options),
    clock,
    logger: silentLogger,
    apiCalls: recorder(),
    state: memoryState(clock),
  });
}

const CONTACT_CHANGED = {
  EventId: '0b4f9c9e-4a57-4a0a-9a3f-8d5e2b1c7f10',
  Timestamp: '2026-03-02T07:50:50.6812131Z',
  Changes: ['contact_id', 'updated_associate_id', 'soundEx', 'updated', 'name'],
  Event: 'contact.changed',
  PrimaryKey: 4711,
  Entity: 'contact',
  ContextIdentifier: 'Cust1',
  ChangedByAssociateId: 485,
  WebhookName: 'crmsync',
  FieldValues: { associate_id: 485, business_idx: 3, updated: '2026-03-02T08:50:50+01:00' },
};

function request(
  body: unknown,
  headers: Record<string, string> = {},
  query: Record<string, string> = {},
): WebhookRequest {
  const rawBody = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  return {
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    rawBody,
    query,
    receivedAt: 0,
  };
}

function signed(body: unknown, secret = SECRET): WebhookRequest {
  const unsigned = request(body);
  return {
    ...unsigned,
    headers: { ...unsigned.headers, 'x-superoffice-signature': referenceSignature(secret, unsigned.rawBody) },
  };
}

async function rejection(target: Connector, webhook: WebhookRequest): Promise<CrmsyncError> {
  try {
    await receiveWebhook(target, webhook);
  } catch (error) {
    assert.ok(error instanceof CrmsyncError, `expected a CrmsyncError, got ${String(error)}`);
    return error;
  }
  assert.fail('the webhook was accepted');
}

describe('superoffice webhook: signature', () => {
  it('accepts a body signed with node:crypto as the reference describes', async () => {
    const target = connector();
    const result = await receiveWebhook(target, signed(CONTACT_CHANGED));
    assert.equal(result.events.length, 1);
    await target.close();
  });

  it('rejects a one-byte change of the body with 401', async () => {
    const target = connector();
    const original = signed(CONTACT_CHANGED);
    const tampered = Buffer.from(original.rawBody);
    tampered[tampered.indexOf('4711') + 3] = '2'.charCodeAt(0);
    const error = await rejection(target, { ...original, rawBody: tampered });
    assert.equal(error.httpStatus, 401);
    assert.equal(error.code, 'WEBHOOK_SIGNATURE_INVALID');
    await target.close();
  });

  it('rejects a missing signature, a wrong secret and a repeated header with 401', async () => {
    const target = connector();
    const missing = await rejection(target, request(CONTACT_CHANGED));
    assert.equal(missing.httpStatus, 401);
    assert.equal(missing.code, 'WEBHOOK_SIGNATURE_MISSING');
    assert.equal(
      (await rejection(target, signed(CONTACT_CHANGED, 'another-secret-0123456789'))).httpStatus,
      401,
    );
    const twice = signed(CONTACT_CHANGED);
    const value = twice.headers['x-superoffice-signature'] as string;
    assert.equal(
      (
        await rejection(target, {
          ...twice,
          headers: { ...twice.headers, 'x-superoffice-signature': [value, value] },
        })
      ).httpStatus,
      401,
    );
    await target.close();
  });

  it('reads header names case-insensitively', async () => {
    const target = connector();
    const webhook = request(CONTACT_CHANGED);
    const result = await receiveWebhook(target, {
      ...webhook,
      headers: { 'X-Superoffice-Signature': referenceSignature(SECRET, webhook.rawBody) },
    });
    assert.equal(result.events.length, 1);
    await target.close();
  });

  it('refuses every webhook when neither secret nor token is configured', async () => {
    const target = connector({});
    const error = await rejection(target, signed(CONTACT_CHANGED));
    assert.equal(error.httpStatus, 401);
    assert.equal(error.code, 'WEBHOOK_NOT_CONFIGURED');
    await target.close();
  });
});

describe('superoffice webhook: shared-token mode (seeds)', () => {
  it('accepts the token in ?token= or in the header, and rejects a wrong or missing one', async () => {
    const target = connector({ webhookToken: TOKEN });
    assert.equal(
      (await receiveWebhook(target, request(CONTACT_CHANGED, {}, { token: TOKEN }))).events.length,
      1,
    );
    assert.equal(
      (await receiveWebhook(target, request(CONTACT_CHANGED, { 'x-webhook-token': TOKEN }))).events.length,
      1,
    );
    const wrong = await rejection(target, request(CONTACT_CHANGED, {}, { token: `${TOKEN}x` }));
    assert.equal(wrong.httpStatus, 401);
    assert.equal(wrong.code, 'WEBHOOK_TOKEN_INVALID');
    assert.equal((await rejection(target, request(CONTACT_CHANGED))).code, 'WEBHOOK_TOKEN_MISSING');
    await target.close();
  });
});

describe('superoffice webhook: payload', () => {
  it('parses a contact.changed payload into one change event, answered 200 as the vendor demands', async () => {
    const target = connector();
    const { events, reply } = await receiveWebhook(target, signed(CONTACT_CHANGED));
    assert.deepEqual(reply, { status: 200 }, 'SuperOffice retries every answer but 200');
    assert.deepEqual(events, [
      {
        ref: { connection: 'so', entityType: 'Contact', id: '4711' },
        kind: 'updated',
        vendorEvent: 'contact.changed',
        eventId: CONTACT_CHANGED.EventId,
        occurredAt: CONTACT_CHANGED.Timestamp,
        changedFields: CONTACT_CHANGED.Changes,
        actorId: '485',
        data: CONTACT_CHANGED.FieldValues,
      },
    ]);
    await target.close();
  });

  it('maps event suffixes to kinds and entities to types', async () => {
    const target = connector();
    const cases: [string, string, string, string][] = [
      ['person.created', 'person', 'Person', 'created'],
      ['sale.deleted', 'sale', 'Sale', 'deleted'],
      ['contact.softdeleted', 'contact', 'Contact', 'deleted'],
      ['sale.sold', 'sale', 'Sale', 'updated'],
    ];
    for (const [event, entity, entityType, kind] of cases) {
      const { events } = await receiveWebhook(
        target,
        signed({ ...CONTACT_CHANGED, Event: event, Entity: entity, PrimaryKey: '12' }),
      );
      assert.equal(events[0]?.ref.entityType, entityType, event);
      assert.equal(events[0]?.ref.id, '12', event);
      assert.equal(events[0]?.kind, kind, event);
    }
    await target.close();
  });

  it('answers the test event with 200 and no events', async () => {
    const target = connector();
    const result = await receiveWebhook(
      target,
      signed({ ...CONTACT_CHANGED, Event: 'test', Entity: 'test', PrimaryKey: 0, Changes: [] }),
    );
    assert.deepEqual(result.events, []);
    assert.equal(result.reply?.status, 200);
    await target.close();
  });

  it('ignores entities the connector does not handle', async () => {
    const target = connector();
    const { events } = await receiveWebhook(
      target,
      signed({ ...CONTACT_CHANGED, Event: 'activity.created', Entity: 'activity' }),
    );
    assert.deepEqual(events, []);
    await target.close();
  });

  it('refuses invalid JSON or a payload without event or primary key (WEBHOOK_PAYLOAD_INVALID)', async () => {
    const target = connector();
    for (const body of [
      '{not json',
      '[1]',
      { ...CONTACT_CHANGED, Event: 42 },
      { ...CONTACT_CHANGED, PrimaryKey: null },
    ]) {
      const error = await rejection(target, signed(body));
      assert.equal(error.httpStatus, 400, JSON.stringify(body));
      assert.equal(error.code, 'WEBHOOK_PAYLOAD_INVALID');
    }
    await target.close();
  });

  it('refuses a PrimaryKey that is not a positive integer, as its message says', async () => {
    const target = connector();
    for (const key of [-5, 0, 1.5, 1e21, 2 ** 53, '-5', '1e21', 'abc', '../Person/5', '007', '5 ', '']) {
      const error = await rejection(target, signed({ ...CONTACT_CHANGED, PrimaryKey: key }));
      assert.equal(error.code, 'WEBHOOK_PAYLOAD_INVALID', JSON.stringify(key));
      assert.match(error.message, /PrimaryKey must be a positive integer/);
    }
    for (const key of [5, '5', 2147483647]) {
      const { events } = await receiveWebhook(target, signed({ ...CONTACT_CHANGED, PrimaryKey: key }));
      assert.equal(events[0]?.ref.id, String(key));
    }
    await target.close();
  });
});

describe('superoffice webhook: registration test event', () => {
  it('answers the test event 200 even with an unknown signature (the secret may be freshly generated)', async () => {
    const target = connector();
    const test = { ...CONTACT_CHANGED, Event: 'test', Entity: 'test', PrimaryKey: 0, Changes: [] };
    const result = await receiveWebhook(target, signed(test, 'a-secret-the-server-does-not-know'));
    assert.deepEqual(result.events, []);
    assert.equal(result.reply?.status, 200);
    // Only the test event: a real event with the same unknown signature is still refused.
    assert.equal(
      (await rejection(target, signed(CONTACT_CHANGED, 'a-secret-the-server-does-not-know'))).httpStatus,
      401,
    );
    await target.close();
  });
});
