/**
 * Verify and parse EspoCRM webhook deliveries (reference §5).
 *
 * **Signatures.** Each webhook registration has its own `secretKey`. A delivery carries
 * - `Signature: base64( webhookId + ":" + hex(HMAC-SHA256(secretKey, raw body)) )`, and
 * - the legacy `X-Signature: base64( webhookId + ":" + raw 32-byte HMAC )` (sent until v11; alone before v9.0).
 * The webhook id inside the header selects the secret. `Signature` is checked when present; `X-Signature` only
 * without it (and only when legacy signatures are accepted). The HMAC is computed over the bytes received and
 * compared in constant time: PHP escapes `/` as `\/` and non-ASCII as `\uXXXX`, so re-serialised JSON would
 * never match.
 *
 * **Payload.** A JSON array of up to 50 items, even for one. Items do not name their event, so the caller
 * passes the event of the webhook (see ./webhook-events.ts): `create` items are the full record, `update` items
 * the changed attributes plus `id`, `fieldUpdate.{field}` items `id` plus the field's attributes, `delete`
 * items `{id}`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { InputError, WebhookAuthError, WebhookPayloadError } from '../../core/errors.ts';
import type { ChangeEvent, ChangeKind, JsonObject } from '../../core/types.ts';
import type { WebhookRequest } from '../../ports/connector.ts';
import { isJsonObject } from '../shared/casing.ts';
import { espoDateTimeToIso } from './datetime.ts';
import { versionOf } from './endpoints.ts';

/** The signature header (lower case, as WebhookRequest headers are). */
export const SIGNATURE_HEADER = 'signature';
/** The legacy signature header. */
const LEGACY_SIGNATURE_HEADER = 'x-signature';

const HMAC_BYTES = 32;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const HEX_DIGEST = /^[0-9a-fA-F]{64}$/;
const EVENT_NAME = /^([A-Za-z][A-Za-z0-9_]*)\.(create|update|delete|fieldUpdate\.([A-Za-z][A-Za-z0-9_]*))$/;

/** Webhook secrets of a connection: one for all webhooks, or webhook id -> secretKey. */
export type WebhookSecrets = string | Readonly<Record<string, string>>;

/** An EspoCRM webhook event name, taken apart. */
export interface WebhookEventName {
  /** The full name, e.g. `CBeteiligte.update`. */
  readonly name: string;
  readonly entityType: string;
  readonly action: 'create' | 'update' | 'delete' | 'fieldUpdate';
  /** The field of a `fieldUpdate` event. */
  readonly field?: string;
}

/** Takes an event name apart, or returns null when it is not one (`T.create|update|delete|fieldUpdate.f`). */
export function parseEventName(name: string): WebhookEventName | null {
  const match = EVENT_NAME.exec(name);
  if (match === null) return null;
  const [, entityType, action, field] = match;
  return {
    name,
    entityType: entityType!,
    action: field === undefined ? (action as 'create' | 'update' | 'delete') : 'fieldUpdate',
    ...(field !== undefined && { field }),
  };
}

function hmac(secretKey: string, body: Buffer | string): Buffer {
  return createHmac('sha256', secretKey).update(body).digest();
}

/** The `Signature` header value of `body`, as EspoCRM computes it (for tests, tools and the simulator). */
export function signEspoCrmWebhook(webhookId: string, secretKey: string, body: Buffer | string): string {
  return Buffer.from(`${webhookId}:${hmac(secretKey, body).toString('hex')}`, 'utf8').toString('base64');
}

/** The legacy `X-Signature` header value of `body`: the HMAC as raw bytes after the colon. */
export function signEspoCrmWebhookLegacy(
  webhookId: string,
  secretKey: string,
  body: Buffer | string,
): string {
  return Buffer.concat([Buffer.from(`${webhookId}:`, 'utf8'), hmac(secretKey, body)]).toString('base64');
}

function header(request: WebhookRequest, name: string): string | undefined {
  const value = request.headers[name];
  if (Array.isArray(value)) throw new WebhookAuthError(`Header ${name} must be sent once.`);
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** What a signature header claims: the webhook id and the 32-byte HMAC. */
interface SignatureClaim {
  readonly webhookId: string;
  readonly mac: Buffer;
}

/** Decodes a header value; null when it is not base64 of `id:digest` with a well-formed digest. */
function decodeClaim(value: string, legacy: boolean): SignatureClaim | null {
  if (!BASE64.test(value)) return null;
  const decoded = Buffer.from(value, 'base64');
  // The id never contains ':', the binary digest may: split at the first colon.
  const colon = decoded.indexOf(0x3a);
  if (colon <= 0) return null;
  const webhookId = decoded.subarray(0, colon).toString('utf8');
  const rest = decoded.subarray(colon + 1);
  if (legacy) return rest.length === HMAC_BYTES ? { webhookId, mac: rest } : null;
  const hex = rest.toString('latin1');
  return HEX_DIGEST.test(hex) ? { webhookId, mac: Buffer.from(hex, 'hex') } : null;
}

function secretFor(secrets: WebhookSecrets, webhookId: string): string | undefined {
  if (typeof secrets === 'string') return secrets;
  return Object.hasOwn(secrets, webhookId) ? secrets[webhookId] : undefined;
}

/** What {@link verifyEspoCrmWebhook} found. */
export interface VerifiedWebhook {
  /** The webhook id the signature names (and was verified with). */
  readonly webhookId: string;
  /** Which header carried the valid signature. */
  readonly header: 'Signature' | 'X-Signature';
}

/**
 * Throws {@link WebhookAuthError} (401) unless the request carries a valid signature; returns the webhook id.
 * Messages never echo signatures or secrets.
 */
export function verifyEspoCrmWebhook(
  request: WebhookRequest,
  secrets: WebhookSecrets,
  options: { acceptLegacy: boolean },
): VerifiedWebhook {
  const current = header(request, SIGNATURE_HEADER);
  const legacy =
    current === undefined && options.acceptLegacy ? header(request, LEGACY_SIGNATURE_HEADER) : undefined;
  const value = current ?? legacy;
  const name = current !== undefined ? 'Signature' : 'X-Signature';
  if (value === undefined) {
    throw new WebhookAuthError(
      `Missing Signature header${options.acceptLegacy ? ' (and X-Signature)' : ''}: the delivery does not come from an EspoCRM webhook.`,
      'WEBHOOK_SIGNATURE_MISSING',
    );
  }
  const claim = decodeClaim(value, current === undefined);
  if (claim === null) {
    throw new WebhookAuthError(`${name} is not base64 of "webhookId:signature".`);
  }
  const secret = secretFor(secrets, claim.webhookId);
  if (secret === undefined) {
    throw new WebhookAuthError(
      `No secret is configured for webhook ${claim.webhookId}: add "${claim.webhookId}:<secretKey>" to the ` +
        "connection's webhookSecrets (ESPOCRM_WEBHOOK_SECRET); `crmsync espocrm webhook register` prints the secretKey.",
      'WEBHOOK_SECRET_UNKNOWN',
    );
  }
  const expected = hmac(secret, request.rawBody);
  if (!timingSafeEqual(claim.mac, expected)) {
    throw new WebhookAuthError(
      `${name} does not match the body (wrong secretKey for webhook ${claim.webhookId}, or an altered body).`,
    );
  }
  return { webhookId: claim.webhookId, header: name };
}

const KIND_BY_ACTION: Readonly<Record<WebhookEventName['action'], ChangeKind>> = {
  create: 'created',
  update: 'updated',
  fieldUpdate: 'updated',
  delete: 'deleted',
};

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * Attributes EspoCRM maintains itself on every save (read-only through the API): an update webhook may carry
 * them (`modifiedById/Name` when the author changed, reference §webhooks), but they are no change of the
 * record's data. They stay in `data` (the actor and version come from them) and out of `changedFields`, so a
 * flow's relevance and echo checks see only what a user or our write changed.
 */
const SYSTEM_ATTRIBUTES: ReadonlySet<string> = new Set([
  'id',
  'deleted',
  'createdAt',
  'createdById',
  'createdByName',
  'modifiedAt',
  'modifiedById',
  'modifiedByName',
  'versionNumber',
]);

function toChangeEvent(
  item: JsonObject,
  index: number,
  event: WebhookEventName,
  connection: string,
): ChangeEvent {
  const id = item['id'];
  if (typeof id !== 'string' || id === '') {
    throw new WebhookPayloadError(`Item ${index} has no id.`, { index });
  }
  const kind = KIND_BY_ACTION[event.action];
  const base: ChangeEvent = {
    ref: { connection, entityType: event.entityType, id },
    kind,
    vendorEvent: event.name,
  };
  if (kind === 'deleted') return base;
  // The creator is the actor of a create; an update names its author in modifiedById when that changed.
  const actorId =
    kind === 'created'
      ? (text(item['createdById']) ?? text(item['modifiedById']))
      : (text(item['modifiedById']) ?? undefined);
  const occurredAt = espoDateTimeToIso(
    kind === 'created' ? (item['createdAt'] ?? item['modifiedAt']) : item['modifiedAt'],
  );
  const version = versionOf(item);
  return {
    ...base,
    ...(kind === 'updated' && {
      changedFields: Object.keys(item).filter((name) => !SYSTEM_ATTRIBUTES.has(name)),
    }),
    ...(actorId !== undefined && { actorId }),
    ...(occurredAt !== null && { occurredAt }),
    ...(version !== null && { version }),
    data: item,
  };
}

/**
 * Parses a verified delivery of the webhook for `event` into change events of `connection`, one per item,
 * in the order sent. A body that is not a JSON array of objects with ids is a WebhookPayloadError (400).
 */
export function parseEspoCrmWebhook(
  rawBody: Buffer,
  options: { connection: string; event: string },
): ChangeEvent[] {
  const event = parseEventName(options.event);
  if (event === null) {
    throw new InputError(
      'ESPOCRM_WEBHOOK_EVENT_INVALID',
      `"${options.event}" is not an EspoCRM webhook event (Entity.create, .update, .delete or .fieldUpdate.field).`,
    );
  }
  let payload: unknown;
  try {
    payload = JSON.parse(rawBody.toString('utf8'));
  } catch (error) {
    throw new WebhookPayloadError(`Body is not valid JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(payload)) {
    throw new WebhookPayloadError('Body must be a JSON array of records (EspoCRM sends batches).');
  }
  return payload.map((item: unknown, index) => {
    if (!isJsonObject(item)) throw new WebhookPayloadError(`Item ${index} is not an object.`, { index });
    return toChangeEvent(item, index, event, options.connection);
  });
}
