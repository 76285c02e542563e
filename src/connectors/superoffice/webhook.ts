/**
 * Verify and parse SuperOffice webhooks (reference §1.2-1.4).
 *
 * - With a secret: `X-SuperOffice-Signature` must equal Base64(HMAC-SHA256(UTF-8(secret), raw body)), compared
 *   in constant time on the exact bytes received.
 * - Without a secret, the seeds' shared-token mode: the token in `?token=` or in a header, compared in constant
 *   time. (The seed system validated a `WEBHOOK_TOKEN`; the vendor sends no signature without a Secret.)
 * - Header names are case-insensitive (the vendor's examples spell them `X-Superoffice-Eventid`).
 *
 * The payload becomes one change event: kind from the event suffix, entity from `Entity`, id from
 * `PrimaryKey`, `Changes` (DB column names) as changedFields, `ChangedByAssociateId` as actor, `EventId` for
 * duplicate detection (seed 001's duplicate `contact.created` deliveries), `FieldValues` as data. The vendor's
 * test event (sent when a webhook is saved) is answered 200 with no events; the save fails otherwise.
 * isTestEvent() lets the connector answer it even before the secret is configured (see index.ts).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { WebhookAuthError, WebhookPayloadError } from '../../core/errors.ts';
import type { ChangeEvent, ChangeKind, JsonObject } from '../../core/types.ts';
import type { WebhookRequest, WebhookResult } from '../../ports/connector.ts';
import { getField, getId, isObject } from '../shared/casing.ts';
import { entityTypeOf } from './endpoints.ts';

/** SuperOffice counts every answer but 200 as a failed delivery and retries it (reference §1.5). */
const DELIVERED = { status: 200 } as const;

/** The signature header (lower case, as WebhookRequest headers are). */
export const SIGNATURE_HEADER = 'x-superoffice-signature';

/** Kind by event suffix; other suffixes (`sold`, `consented`, `message`) are updates of the record. */
const KIND_BY_SUFFIX: Readonly<Record<string, ChangeKind>> = {
  created: 'created',
  changed: 'updated',
  deleted: 'deleted',
  softdeleted: 'deleted',
};

/** How a connection authenticates its webhooks. */
export type WebhookAuth =
  | { readonly mode: 'signature'; readonly secret: string }
  | { readonly mode: 'token'; readonly token: string; readonly header: string };

/** `Base64(HMAC-SHA256(secret, body))`: the value of X-SuperOffice-Signature. */
export function signSuperOfficeWebhook(secret: string, body: Buffer | string): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(body).digest('base64');
}

function header(request: WebhookRequest, name: string): string | undefined {
  // WebhookRequest promises lower-cased names; look case-insensitively anyway, it costs nothing.
  const value = getField(request.headers, name);
  if (Array.isArray(value)) {
    throw new WebhookAuthError(`Header ${name} must be sent once.`);
  }
  return typeof value === 'string' ? value : undefined;
}

/** Constant-time equality of two strings, also when their lengths differ (both are hashed first). */
function constantTimeEquals(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && given.length === expected.length;
}

/** Throws {@link WebhookAuthError} unless the request carries a valid signature or token; never echoes it. */
export function verifySuperOfficeWebhook(request: WebhookRequest, auth: WebhookAuth): void {
  if (auth.mode === 'signature') {
    const signature = header(request, SIGNATURE_HEADER);
    if (signature === undefined || signature === '') {
      throw new WebhookAuthError(
        'Missing X-SuperOffice-Signature: set the same Secret on the webhook registration as in webhookSecret.',
        'WEBHOOK_SIGNATURE_MISSING',
      );
    }
    if (!constantTimeEquals(signature.trim(), signSuperOfficeWebhook(auth.secret, request.rawBody))) {
      throw new WebhookAuthError(
        'X-SuperOffice-Signature does not match the body (wrong secret or altered body).',
      );
    }
    return;
  }
  const token = request.query['token'] ?? header(request, auth.header);
  if (token === undefined || token === '') {
    throw new WebhookAuthError(
      `Missing webhook token: put it in the TargetUrl as ?token=... or send header ${auth.header}.`,
      'WEBHOOK_TOKEN_MISSING',
    );
  }
  if (!constantTimeEquals(token, auth.token))
    throw new WebhookAuthError('Webhook token is wrong.', 'WEBHOOK_TOKEN_INVALID');
}

/** The answer to the vendor's test event: 200, nothing queued. */
export const TEST_EVENT_RESULT = {
  events: [],
  reply: { status: 200, body: { ok: true, test: true } },
} as const satisfies WebhookResult;

function isTestPayload(payload: Record<string, unknown>): boolean {
  return getField(payload, 'Event') === 'test' || getField(payload, 'Entity') === 'test';
}

/** Whether a request is the vendor's test event (`X-Hook-Test: true`, or `Event: "test"` in the body). */
export function isTestEvent(request: WebhookRequest): boolean {
  if (getField(request.headers, 'x-hook-test') === 'true') return true;
  try {
    const payload: unknown = JSON.parse(request.rawBody.toString('utf8'));
    return isObject(payload) && isTestPayload(payload);
  } catch {
    return false;
  }
}

/** SuperOffice ids are positive integers: a JSON number or a string of digits, within the safe range. */
const POSITIVE_INTEGER = /^[1-9][0-9]{0,15}$/;

/**
 * The id in `value` as canonical decimal digits, or null. Anything else (`-5`, `1e21`, `"abc"`,
 * `"../Person/5"`, `"007"`) would put a foreign path or a second spelling of one id into record keys.
 */
function positiveIntegerId(value: unknown): string | null {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string' || !POSITIVE_INTEGER.test(text)) return null;
  return Number.isSafeInteger(Number(text)) ? text : null;
}

/**
 * Parses a verified body into change events of `connection`. Events of entities other than Contact, Person
 * and Sale yield no change event (the connector does not handle them), and the test event yields a 200 reply.
 */
export function parseSuperOfficeWebhook(rawBody: Buffer, connection: string): WebhookResult {
  let payload: unknown;
  try {
    payload = JSON.parse(rawBody.toString('utf8'));
  } catch (error) {
    throw new WebhookPayloadError(`Body is not valid JSON: ${(error as Error).message}`);
  }
  if (!isObject(payload))
    throw new WebhookPayloadError('Body must be a JSON object (a SuperOffice WebhookPayload).');
  if (isTestPayload(payload)) return TEST_EVENT_RESULT;

  const event = getField(payload, 'Event');
  if (typeof event !== 'string' || !event.includes('.')) {
    throw new WebhookPayloadError('Event must be a string like "contact.changed".', { field: 'Event' });
  }
  const entityName = getField(payload, 'Entity');
  const entityType = entityTypeOf(typeof entityName === 'string' ? entityName : event.split('.', 1)[0]!);
  if (entityType === null) return { events: [], reply: DELIVERED };
  const id = positiveIntegerId(getField(payload, 'PrimaryKey'));
  if (id === null) {
    throw new WebhookPayloadError('PrimaryKey must be a positive integer.', { field: 'PrimaryKey' });
  }
  const suffix = event.slice(event.lastIndexOf('.') + 1).toLowerCase();
  const changes = getField(payload, 'Changes');
  const actor = getId(payload, 'ChangedByAssociateId');
  const eventId = getField(payload, 'EventId');
  const timestamp = getField(payload, 'Timestamp');
  const fieldValues = getField(payload, 'FieldValues');
  const changeEvent: ChangeEvent = {
    ref: { connection, entityType, id },
    kind: KIND_BY_SUFFIX[suffix] ?? 'updated',
    vendorEvent: event,
    ...(typeof eventId === 'string' && eventId !== '' && { eventId }),
    ...(typeof timestamp === 'string' && timestamp !== '' && { occurredAt: timestamp }),
    ...(Array.isArray(changes) && { changedFields: changes.filter((name) => typeof name === 'string') }),
    ...(actor !== undefined && actor !== '0' && { actorId: actor }),
    ...(isObject(fieldValues) && { data: fieldValues as JsonObject }),
  };
  return { events: [changeEvent], reply: DELIVERED };
}
