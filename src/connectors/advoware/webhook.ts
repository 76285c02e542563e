/**
 * Optional change webhooks. [UNCONFIRMED] advoware documents no webhooks: it is polled (reference §6, seed
 * 004's cron). Only the simulator sends these, when switched on, so that tests and demos can push changes:
 *
 * - header `X-Advoware-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>`, verified in constant time on
 *   the exact bytes received (never re-serialised JSON);
 * - body `{event, betNr, rowId, at}` or an array of them. `rowId` is the record's version after the change,
 *   so `betNr:rowId` identifies a change and serves as the event id (a redelivery is recognised).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { WebhookAuthError, WebhookPayloadError } from '../../core/errors.ts';
import type { ChangeEvent, ChangeKind } from '../../core/types.ts';
import type { WebhookRequest, WebhookResult } from '../../ports/connector.ts';
import { getField, getId, isObject } from '../shared/casing.ts';

/** The signature header (lower case, as WebhookRequest headers are). */
const ADVOWARE_SIGNATURE_HEADER = 'x-advoware-signature';

/** The entity type of Beteiligte change events. */
export const BETEILIGTE_ENTITY = 'Beteiligte';

/** `sha256=<hex HMAC-SHA256(secret, body)>`: the value of X-Advoware-Signature. */
export function signAdvowareWebhook(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', Buffer.from(secret, 'utf8')).update(body).digest('hex')}`;
}

/** Constant-time equality of two strings, also when their lengths differ (both are hashed first). */
function constantTimeEquals(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && given.length === expected.length;
}

/** Throws {@link WebhookAuthError} unless the request carries a valid signature; never echoes it. */
export function verifyAdvowareWebhook(request: WebhookRequest, secret: string): void {
  const value = getField(request.headers, ADVOWARE_SIGNATURE_HEADER);
  if (Array.isArray(value)) throw new WebhookAuthError('Header X-Advoware-Signature must be sent once.');
  if (typeof value !== 'string' || value.trim() === '') {
    throw new WebhookAuthError(
      'Missing X-Advoware-Signature: the sender must sign the body with the secret in webhookSecret.',
      'WEBHOOK_SIGNATURE_MISSING',
    );
  }
  // The hex digest is case-insensitive; the `sha256=` prefix is not optional.
  if (!constantTimeEquals(value.trim().toLowerCase(), signAdvowareWebhook(secret, request.rawBody))) {
    throw new WebhookAuthError(
      'X-Advoware-Signature does not match the body (wrong secret or altered body).',
    );
  }
}

function kindOf(event: string): ChangeKind {
  const lower = event.toLowerCase();
  if (lower.includes('creat')) return 'created';
  if (lower.includes('delet')) return 'deleted';
  if (lower.includes('updat') || lower.includes('chang')) return 'updated';
  return 'unknown';
}

function toEvent(item: unknown, index: number, connection: string): ChangeEvent {
  const where = { index };
  if (!isObject(item)) throw new WebhookPayloadError(`Item ${index} is not a JSON object.`, where);
  const betNr = getId(item, 'betNr');
  if (betNr === undefined || !/^\d+$/.test(betNr)) {
    throw new WebhookPayloadError(`Item ${index}: betNr must be a positive integer.`, {
      ...where,
      field: 'betNr',
    });
  }
  const event = getField(item, 'event');
  const rowId = getField(item, 'rowId');
  const at = getField(item, 'at');
  const version = typeof rowId === 'string' && rowId !== '' ? rowId : undefined;
  return {
    ref: { connection, entityType: BETEILIGTE_ENTITY, id: betNr },
    kind: typeof event === 'string' ? kindOf(event) : 'unknown',
    ...(typeof event === 'string' && event !== '' && { vendorEvent: event }),
    ...(version !== undefined && { version, eventId: `${betNr}:${version}` }),
    ...(typeof at === 'string' && at !== '' && { occurredAt: at }),
  };
}

/** Parses a verified body into change events of `connection`. */
export function parseAdvowareWebhook(rawBody: Buffer, connection: string): WebhookResult {
  let payload: unknown;
  try {
    payload = JSON.parse(rawBody.toString('utf8'));
  } catch (error) {
    throw new WebhookPayloadError(`Body is not valid JSON: ${(error as Error).message}`);
  }
  const items = Array.isArray(payload) ? payload : [payload];
  return { events: items.map((item, index) => toEvent(item, index, connection)) };
}
