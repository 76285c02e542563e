/**
 * One webhook POST as NetServer sends it (reference §1.2, §1.4): the PascalCase payload, the headers and
 * the signature over the exact body bytes. The single HTTP attempt is the simulator kit's `postWebhook`.
 *
 * The signature is computed here with node:crypto rather than with the connector's verifier, so that the
 * simulator and the connector stay independent descriptions of the vendor: a shared bug would go unseen.
 */
import { createHmac } from 'node:crypto';

/** The User-Agent of the documented examples (the version varies by tenant). */
const NETSERVER_USER_AGENT = 'NetServer-Webhook/8.8.6684.1719';

/** The body of a delivery, keys in the documented order. */
export interface WebhookPayload {
  readonly EventId: string;
  readonly Timestamp: string;
  readonly Changes: readonly string[];
  readonly Event: string;
  readonly PrimaryKey: number;
  readonly Entity: string;
  readonly ContextIdentifier: string;
  readonly ChangedByAssociateId: number;
  readonly WebhookName: string;
  /** Column -> value on created/changed (as the simulator core provides it). */
  readonly FieldValues?: Readonly<Record<string, unknown>>;
  /** Foreign keys on `*.deleted`. */
  readonly Values?: Readonly<Record<string, unknown>>;
}

/**
 * The vendor's timestamp: UTC with exactly seven fraction digits and `Z` (`2018-04-24T07:50:50.6812131Z`).
 * The clock has millisecond precision, so the last four digits are zeros.
 */
export function formatWebhookTimestamp(ms: number): string {
  // toISOString() always ends in `.sssZ`.
  return `${new Date(ms).toISOString().slice(0, -1)}0000Z`;
}

/** `X-SuperOffice-Signature`: Base64(HMAC-SHA256(key = UTF-8 secret, data = raw body bytes)), padded. */
function signWebhookBody(secret: string, body: Buffer): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(body).digest('base64');
}

/** Serialises a payload once; the same bytes are signed and sent. */
export function encodePayload(payload: WebhookPayload): Buffer {
  return Buffer.from(JSON.stringify(payload), 'utf8');
}

/** The headers of a delivery; the signature only when a secret is set, `X-Hook-Test` only on the test event. */
export function deliveryHeaders(options: {
  readonly payload: WebhookPayload;
  readonly body: Buffer;
  readonly secret: string;
  readonly retry: number;
}): Record<string, string> {
  const { payload, body, secret, retry } = options;
  return {
    'Content-Type': 'application/json; charset=utf-8',
    'User-Agent': NETSERVER_USER_AGENT,
    'X-SuperOffice-Event': payload.Event,
    'X-SuperOffice-EventId': payload.EventId,
    ...(secret !== '' && { 'X-SuperOffice-Signature': signWebhookBody(secret, body) }),
    'X-SuperOffice-Retry': String(retry),
    ...(payload.Event === 'test' && { 'X-Hook-Test': 'true' }),
  };
}
