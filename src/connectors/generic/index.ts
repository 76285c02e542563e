/**
 * The `generic` connector: a signed-webhook source for systems without a dedicated connector. Any system
 * that can send an HTTP POST with an HMAC signature can feed crmsync's flows through it; the tests and the
 * demo use it too.
 *
 * ## Configuration
 * ```ts
 * connections: {
 *   shop: { connector: 'generic', options: { secret: env('SHOP_WEBHOOK_SECRET') } },
 * }
 * ```
 * Options (see ./options.ts): `secret` (required, at least 16 characters), `signatureHeader` (default
 * `x-crmsync-signature`), `maxEventsPerRequest` (default 500).
 *
 * ## Wire format
 * `POST /webhooks/<connection>` with `Content-Type: application/json` and the header
 * `x-crmsync-signature: sha256=<lower-case hex HMAC-SHA256 of the raw body, keyed with the secret>`
 * (use {@link signGenericWebhook}). The body is either one event or `{"events": [event, ...]}`:
 * ```json
 * {"events": [{
 *   "id": "evt-123",                 // optional: the source's event id; a redelivery with the same id is dropped
 *   "entityType": "Contact",         // required, no "/"
 *   "recordId": 42,                  // required: string or integer
 *   "kind": "updated",               // optional: created | updated | deleted (absent: unknown)
 *   "occurredAt": "2025-01-31T12:00:00Z", // optional: ISO 8601 with offset
 *   "changedFields": ["name"],       // optional
 *   "actorId": 7,                    // optional: who made the change (string or integer)
 *   "data": {"name": "ACME"},        // optional: field values carried by the event
 *   "version": "17"                  // optional: the record's version token after the change
 * }]}
 * ```
 * Unknown keys are rejected. Answers: 202 once stored, 401 for a missing or wrong signature. A signed body
 * with a non-JSON content type, invalid JSON or a body that breaks the format (every problem with its path)
 * is stored as a dead letter and answered 200 with the reason (docs/operations.md).
 *
 * ## Webhook-only
 * The source has no API crmsync could call, so `read`, `write` and `list` throw
 * {@link UnsupportedOperationError}: a generic connection can feed flows with change events (which may carry
 * the record's data), but it cannot be the target of a sync, and the reconciler cannot poll it.
 */
import { UnsupportedOperationError } from '../../core/errors.ts';
import type {
  Connector,
  ConnectorCapabilities,
  ConnectorCheck,
  ConnectorContext,
  ConnectorFactory,
  ListPage,
  VendorRecord,
  VerifiedWebhook,
  WebhookRequest,
  WebhookResult,
  WebhookVerification,
  WriteResult,
} from '../../ports/connector.ts';
import { genericOptionsSchema } from './options.ts';
import type { GenericOptions } from './options.ts';
import { genericBodySchema, parseGenericWebhook, verifyGenericWebhook } from './webhook.ts';
import type { GenericBodySchema } from './webhook.ts';

export { DEFAULT_SIGNATURE_HEADER, genericOptionsSchema } from './options.ts';
export type { GenericOptions } from './options.ts';
export { signGenericWebhook } from './webhook.ts';

const KIND = 'generic';

/** Webhook-only: nothing to read, write or list. */
const CAPABILITIES: ConnectorCapabilities = {
  records: false,
  conditionalWrite: 'none',
  deletes: false,
  versionPerWrite: false,
  comparesOverwrittenValues: false,
  list: { modifiedSince: 'unsupported', modifiedGranularityMs: 0, order: 'none', paging: 'offset' },
};

/** One generic connection. Webhook-only: see the module documentation. */
export class GenericConnector implements Connector {
  readonly kind = KIND;
  readonly capabilities = CAPABILITIES;
  readonly connection: string;
  readonly #options: GenericOptions;
  readonly #schema: GenericBodySchema;

  constructor(connection: string, options: GenericOptions) {
    this.connection = connection;
    this.#options = options;
    this.#schema = genericBodySchema(options.maxEventsPerRequest);
  }

  /** Verifies the signature (an unauthenticated caller learns nothing about the format). */
  verifyWebhook(request: WebhookRequest): WebhookVerification {
    return verifyGenericWebhook(request, this.#options.secret, this.#options.signatureHeader);
  }

  parseWebhook(webhook: VerifiedWebhook): WebhookResult {
    return { events: parseGenericWebhook(webhook, this.connection, this.#schema) };
  }

  /** Unsupported: a generic source has no API to read from. */
  read(): Promise<VendorRecord | null> {
    return Promise.reject(new UnsupportedOperationError(KIND, 'read (it is a webhook-only source)'));
  }

  /** Unsupported: a generic source has no API to write to. */
  write(): Promise<WriteResult> {
    return Promise.reject(new UnsupportedOperationError(KIND, 'write (it is a webhook-only source)'));
  }

  /** Unsupported: a generic source has no API to list records from. */
  list(): Promise<ListPage> {
    return Promise.reject(new UnsupportedOperationError(KIND, 'list (it is a webhook-only source)'));
  }

  /** Unsupported: a generic source has no API to search. */
  find(): Promise<VendorRecord[]> {
    return Promise.reject(new UnsupportedOperationError(KIND, 'find (it is a webhook-only source)'));
  }

  /** Always ok: there is no API to reach; only the webhook signature is configured. */
  check(): Promise<ConnectorCheck> {
    return Promise.resolve({
      ok: true,
      message: `webhook-only source: nothing to call; webhooks are verified with HMAC-SHA256 in header ${this.#options.signatureHeader}`,
    });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Registers the `generic` connector kind. */
export const genericConnector: ConnectorFactory<GenericOptions> = {
  kind: KIND,
  optionsSchema: genericOptionsSchema,
  create: (context: ConnectorContext<GenericOptions>) =>
    new GenericConnector(context.connection, context.options),
};
