/** The optional signed change webhooks ([UNCONFIRMED], the simulator's): verification and parsing. */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { WebhookAuthError, WebhookPayloadError } from '../../../src/core/errors.ts';
import type { WebhookRequest } from '../../../src/ports/connector.ts';
import {
  parseAdvowareWebhook,
  signAdvowareWebhook,
  verifyAdvowareWebhook,
} from '../../../src/connectors/advoware/webhook.ts';

const SECRET = 'advoware-webhook-secret-0123';

function request(body: string, headers: Record<string, string> = {}): WebhookRequest {
  return { headers, rawBody: Buffer.from(body, 'utf8'), query: {}, receivedAt: 0 };
}

describe('advoware webhooks', () => {
  const body = '{"event":"Beteiligte.updated","betNr":17,"rowId":"AAAAAAAB9+A=","at":"2026-03-01T10:00:00Z"}';
  const signature = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;

  it('signs like the header format, computed independently', () => {
    assert.equal(signAdvowareWebhook(SECRET, body), signature);
  });

  it('accepts a valid signature (hex case-insensitive) and rejects tampered or missing ones', () => {
    verifyAdvowareWebhook(request(body, { 'x-advoware-signature': signature }), SECRET);
    verifyAdvowareWebhook(
      request(body, { 'x-advoware-signature': signature.toUpperCase().replace('SHA256', 'sha256') }),
      SECRET,
    );
    assert.throws(
      () =>
        verifyAdvowareWebhook(
          request(body.replace('17', '18'), { 'x-advoware-signature': signature }),
          SECRET,
        ),
      (error: unknown) => error instanceof WebhookAuthError && error.code === 'WEBHOOK_SIGNATURE_INVALID',
    );
    assert.throws(
      () => verifyAdvowareWebhook(request(body, { 'x-advoware-signature': signature.slice(7) }), SECRET),
      WebhookAuthError,
      'the sha256= prefix is required',
    );
    assert.throws(
      () => verifyAdvowareWebhook(request(body), SECRET),
      (error: unknown) => error instanceof WebhookAuthError && error.code === 'WEBHOOK_SIGNATURE_MISSING',
    );
  });

  it('parses one event or an array into change events with rowId as version', () => {
    const { events } = parseAdvowareWebhook(Buffer.from(body), 'advo');
    assert.deepEqual(events, [
      {
        ref: { connection: 'advo', entityType: 'Beteiligte', id: '17' },
        kind: 'updated',
        vendorEvent: 'Beteiligte.updated',
        version: 'AAAAAAAB9+A=',
        eventId: '17:AAAAAAAB9+A=',
        occurredAt: '2026-03-01T10:00:00Z',
      },
    ]);
    const batch = parseAdvowareWebhook(
      Buffer.from('[{"event":"created","betNr":"5","rowId":"a"},{"event":"deleted","betNr":6}]'),
      'advo',
    );
    assert.deepEqual(
      batch.events.map((event) => [event.kind, event.ref.id, event.version]),
      [
        ['created', '5', 'a'],
        ['deleted', '6', undefined],
      ],
    );
  });

  it('rejects bodies that are not JSON or lack a betNr', () => {
    assert.throws(() => parseAdvowareWebhook(Buffer.from('{'), 'advo'), WebhookPayloadError);
    assert.throws(
      () => parseAdvowareWebhook(Buffer.from('[{"event":"updated","betNr":"x"}]'), 'advo'),
      /Item 0: betNr/,
    );
  });
});
