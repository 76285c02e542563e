/**
 * Verify and parse webhooks of the generic connector. The wire format is documented in ./index.ts.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { InputError, WebhookAuthError, WebhookPayloadError } from '../../core/errors.ts';
import type { ChangeEvent, JsonObject } from '../../core/types.ts';
import type { VerifiedWebhook, WebhookRequest, WebhookVerification } from '../../ports/connector.ts';

const SIGNATURE_PREFIX = 'sha256=';
const DIGEST_BYTES = 32;
/** A 400 lists at most this many problems, so a 500-event batch of garbage does not make a megabyte answer. */
const MAX_LISTED_PROBLEMS = 50;

/** The header value for `body` signed with `secret`: `sha256=<lower-case hex HMAC-SHA256>`. */
export function signGenericWebhook(secret: string, body: Buffer | string): string {
  return SIGNATURE_PREFIX + createHmac('sha256', secret).update(body).digest('hex');
}

/**
 * Checks the signature header against the raw body in constant time. Throws {@link WebhookAuthError} when the
 * header is missing, repeated, malformed or wrong; the message never echoes the signature.
 */
export function verifyGenericSignature(request: WebhookRequest, secret: string, header: string): void {
  const value = request.headers[header];
  if (value === undefined)
    throw new WebhookAuthError(`Missing signature header ${header}.`, 'WEBHOOK_SIGNATURE_MISSING');
  if (typeof value !== 'string') throw new WebhookAuthError(`Signature header ${header} must be sent once.`);
  // Exact length and prefix first: Buffer.from(hex) silently stops at the first non-hex character, so only
  // a value of exactly 64 hex digits decodes to 32 bytes.
  if (value.length !== SIGNATURE_PREFIX.length + 2 * DIGEST_BYTES || !value.startsWith(SIGNATURE_PREFIX)) {
    throw new WebhookAuthError(`Signature header ${header} must be "sha256=" followed by 64 hex digits.`);
  }
  const given = Buffer.from(value.slice(SIGNATURE_PREFIX.length), 'hex');
  const expected = createHmac('sha256', secret).update(request.rawBody).digest();
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new WebhookAuthError(`Signature in ${header} does not match the body.`);
  }
}

/**
 * Verifies the signature; the verified webhook keeps the content type, which parsing checks (a signed body
 * of the wrong type is a dead letter, not a 415: see {@link Connector.parseWebhook}).
 */
export function verifyGenericWebhook(
  request: WebhookRequest,
  secret: string,
  header: string,
): WebhookVerification {
  verifyGenericSignature(request, secret, header);
  const contentType = request.headers['content-type'];
  return {
    kind: 'verified',
    webhook: {
      rawBody: request.rawBody,
      context: typeof contentType === 'string' ? { contentType } : {},
      receivedAt: request.receivedAt,
    },
  };
}

/** Throws 415 unless the body is declared as JSON (`application/json` or a `+json` type). */
function requireJsonContentType(declared: unknown): void {
  const mediaType = typeof declared === 'string' ? declared.split(';', 1)[0]!.trim().toLowerCase() : '';
  if (
    mediaType !== 'application/json' &&
    !(mediaType.startsWith('application/') && mediaType.endsWith('+json'))
  ) {
    throw new InputError(
      'WEBHOOK_CONTENT_TYPE_UNSUPPORTED',
      `Content-Type must be application/json, got ${mediaType === '' ? 'none' : `"${mediaType}"`}.`,
      415,
    );
  }
}

const idSchema = z.union([z.string().min(1).max(256), z.number().int()], {
  error: 'expected a non-empty string or an integer',
});

/** One event of the wire format. Strict: a misspelt optional field is an error, not silently dropped. */
const eventSchema = z.strictObject({
  id: z.string().min(1).max(256).optional(),
  // No "/" in the entity type: record keys are `connection/entityType/id` and must parse back.
  entityType: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[^/]+$/, 'must not contain "/"'),
  recordId: idSchema,
  kind: z.enum(['created', 'updated', 'deleted']).optional(),
  occurredAt: z.iso.datetime({ offset: true }).optional(),
  changedFields: z.array(z.string()).max(10_000).optional(),
  actorId: idSchema.optional(),
  // Only "an object" is checked: it came out of JSON.parse, so every value in it is JSON already, and a deep
  // check would cost time on every webhook for nothing.
  data: z.record(z.string(), z.unknown()).optional(),
  version: z.string().max(256).optional(),
});

type WireEvent = z.output<typeof eventSchema>;

/** Builds the body schema: `{"events":[...]}` with at most `maxEvents` events, or a single event object. */
export function genericBodySchema(maxEvents: number) {
  const envelope = z.strictObject({
    events: z.array(eventSchema).max(maxEvents, `at most ${maxEvents} events per request; split the batch`),
  });
  return { envelope, single: eventSchema };
}

/** The schemas of one connection (built once per connector, not per request). */
export type GenericBodySchema = ReturnType<typeof genericBodySchema>;

/**
 * Parses a verified body into change events of `connection`. Throws 415 for a content type that is not JSON,
 * {@link WebhookPayloadError} for invalid JSON or a body that does not match the format; the message lists every problem with its path (up to 50).
 */
export function parseGenericWebhook(
  webhook: VerifiedWebhook,
  connection: string,
  schema: GenericBodySchema,
): ChangeEvent[] {
  requireJsonContentType(webhook.context['contentType']);
  let body: unknown;
  try {
    body = JSON.parse(webhook.rawBody.toString('utf8'));
  } catch (error) {
    throw new WebhookPayloadError(`Body is not valid JSON: ${(error as Error).message}`);
  }
  const isEnvelope = typeof body === 'object' && body !== null && !Array.isArray(body) && 'events' in body;
  const parsed = isEnvelope ? schema.envelope.safeParse(body) : schema.single.safeParse(body);
  if (!parsed.success) throw payloadError(parsed.error.issues);
  const events: readonly WireEvent[] = 'events' in parsed.data ? parsed.data.events : [parsed.data];
  return events.map((event) => toChangeEvent(event, connection));
}

function payloadError(issues: readonly z.core.$ZodIssue[]): WebhookPayloadError {
  const problems = issues.map((issue) => ({
    path: issue.path.length === 0 ? '(root)' : issue.path.map(String).join('.'),
    message: issue.message,
  }));
  const listed = problems
    .slice(0, MAX_LISTED_PROBLEMS)
    .map((problem) => `${problem.path}: ${problem.message}`);
  const more =
    problems.length > MAX_LISTED_PROBLEMS ? `; and ${problems.length - MAX_LISTED_PROBLEMS} more` : '';
  return new WebhookPayloadError(`Invalid webhook body: ${listed.join('; ')}${more}`, {
    problems: problems.slice(0, MAX_LISTED_PROBLEMS),
  });
}

function toChangeEvent(event: WireEvent, connection: string): ChangeEvent {
  // Absent fields stay absent (not undefined), so the queued payload is as small as the event.
  return {
    ref: { connection, entityType: event.entityType, id: String(event.recordId) },
    kind: event.kind ?? 'unknown',
    ...(event.id !== undefined && { eventId: event.id }),
    ...(event.occurredAt !== undefined && { occurredAt: event.occurredAt }),
    ...(event.changedFields !== undefined && { changedFields: event.changedFields }),
    ...(event.actorId !== undefined && { actorId: String(event.actorId) }),
    ...(event.data !== undefined && { data: event.data as JsonObject }),
    ...(event.version !== undefined && { version: event.version }),
  };
}
