/**
 * From a verified webhook to the job inputs that store it: shared by the webhook route and by the replay of
 * dead letters, so a replayed delivery is taken exactly as a fresh one would be.
 *
 * A correctly signed webhook is never refused for its content: vendors give up on a 4xx (EspoCRM drops a
 * delivery answered 400 or 413 for good) or retry it forever. What cannot be taken (a body that nests too
 * deeply, does not parse, names an unknown event) becomes a **dead letter**: a DEAD job of the built-in flow
 * {@link DEAD_LETTER_FLOW} holding the raw body, the connector's secret-free parse context and the reason.
 * `crmsync jobs replay` runs it again once the config is fixed (see ./dead-letters.ts).
 */
import { createHash } from 'node:crypto';
import { CrmsyncError, InputError, describeError } from '../core/errors.ts';
import { jsonDeeperThan } from '../core/json-depth.ts';
import type { ChangeEvent, JsonObject, JsonValue } from '../core/types.ts';
import { jobRecordKey } from '../core/types.ts';
import type { Connector, VerifiedWebhook, WebhookReply } from '../ports/connector.ts';
import type { JobError, JobInput } from '../ports/queue.ts';

/** The built-in flow of dead letters; the `.` keeps it apart from configured flow names. */
export const DEAD_LETTER_FLOW = 'webhook.dead-letter';

/**
 * Deepest nesting of objects and arrays a webhook body may have. CRM payloads nest a few levels; a body
 * nested thousands deep would overflow the stack wherever it is serialised or walked later.
 */
export const MAX_JSON_DEPTH = 64;

/** What a verified webhook comes to: inputs to store, or a dead letter. */
export type Intake =
  | { readonly kind: 'events'; readonly inputs: JobInput[]; readonly reply?: WebhookReply }
  | { readonly kind: 'dead'; readonly error: JobError };

/**
 * Parses `webhook` with `connector` into one input per event and flow. Content that cannot be taken is a
 * dead letter; a retryable failure (the store is unreachable) is thrown, so that the vendor retries.
 */
export async function intake(
  connector: Connector,
  webhook: VerifiedWebhook,
  flows: readonly string[],
): Promise<Intake> {
  if (jsonDeeperThan(webhook.rawBody, MAX_JSON_DEPTH)) {
    return {
      kind: 'dead',
      error: {
        code: 'WEBHOOK_PAYLOAD_TOO_DEEP',
        message: `The body nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels.`,
      },
    };
  }
  try {
    const result = await connector.parseWebhook(webhook);
    return {
      kind: 'events',
      inputs: toJobInputs(connector.connection, result.events, flows),
      ...(result.reply !== undefined && { reply: result.reply }),
    };
  } catch (error) {
    if (error instanceof CrmsyncError && error.retryable) throw error;
    const { code, message } = describeError(error);
    return { kind: 'dead', error: { code, message } };
  }
}

/** One input per event and flow. The record key is per flow, so flows fed by one connection never block each other. */
export function toJobInputs(
  connection: string,
  events: readonly ChangeEvent[],
  flows: readonly string[],
): JobInput[] {
  const inputs: JobInput[] = [];
  for (const event of events) {
    // ChangeEvent is made of JSON values only; the cast just drops its readonly-ness.
    const payload = event as unknown as JsonObject;
    for (const flow of flows) {
      inputs.push({
        flow,
        recordKey: jobRecordKey(flow, event.ref),
        dedupKey: event.eventId === undefined ? undefined : `${flow}|${connection}|${event.eventId}`,
        payload,
      });
    }
  }
  return inputs;
}

/** The payload of a dead-letter job. The body is text when it is valid UTF-8, else base64. */
interface DeadLetterPayload {
  readonly connection: string;
  readonly receivedAt: number;
  readonly context: JsonObject;
  readonly body?: string;
  readonly bodyBase64?: string;
}

/**
 * The DEAD job input of a verified webhook that could not be taken. One per distinct delivery: a vendor's
 * redelivery of the same bytes is recognised as a duplicate.
 */
export function deadLetterInput(connection: string, webhook: VerifiedWebhook, error: JobError): JobInput {
  const digest = createHash('sha256')
    .update(JSON.stringify(webhook.context))
    .update('\n')
    .update(webhook.rawBody)
    .digest('hex');
  const text = webhook.rawBody.toString('utf8');
  const payload: DeadLetterPayload = {
    connection,
    receivedAt: webhook.receivedAt,
    context: webhook.context,
    ...(Buffer.from(text, 'utf8').equals(webhook.rawBody)
      ? { body: text }
      : { bodyBase64: webhook.rawBody.toString('base64') }),
  };
  return {
    flow: DEAD_LETTER_FLOW,
    recordKey: jobRecordKey(DEAD_LETTER_FLOW, { connection, entityType: 'webhook', id: digest }),
    dedupKey: `${DEAD_LETTER_FLOW}|${connection}|${digest}`,
    // Made of JSON values only; the cast just drops the interface's closed shape.
    payload: payload as unknown as JsonObject,
    dead: error,
  };
}

/** A stored dead letter, ready to be parsed again. */
export interface DeadLetter {
  readonly connection: string;
  readonly webhook: VerifiedWebhook;
}

/** Reads a dead-letter payload back; throws a non-retryable InputError when it is not one. */
export function readDeadLetter(payload: JsonValue): DeadLetter {
  const letter = isObject(payload) ? payload : {};
  const { connection, receivedAt, context, body, bodyBase64 } = letter;
  const rawBody =
    typeof body === 'string'
      ? Buffer.from(body, 'utf8')
      : typeof bodyBase64 === 'string'
        ? Buffer.from(bodyBase64, 'base64')
        : undefined;
  if (
    rawBody === undefined ||
    typeof connection !== 'string' ||
    typeof receivedAt !== 'number' ||
    !isObject(context)
  ) {
    throw new InputError('DEAD_LETTER_INVALID', 'The job payload is not a webhook dead letter.');
  }
  return { connection, webhook: { rawBody, context, receivedAt } };
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
