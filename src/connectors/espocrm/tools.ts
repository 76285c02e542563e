/**
 * Operator tools of the EspoCRM connector, used by `crmsync espocrm webhook register|list|delete`.
 *
 * EspoCRM registers one event per webhook and generates each webhook's `secretKey` itself; crmsync cannot
 * choose it. So registering N events makes N webhooks with N secrets, which the operator must put into the
 * connection's `webhookSecrets` (ESPOCRM_WEBHOOK_SECRET as `id:secretKey` pairs) before deliveries verify.
 */
import { InputError } from '../../core/errors.ts';
import type { EspoCrmApi, EspoCrmWebhook } from './endpoints.ts';
import { targetUrlFor } from './webhook-events.ts';
import type { WebhookEventDirectory } from './webhook-events.ts';
import { parseEventName } from './webhook.ts';

/** What {@link registerWebhooks} should register. */
export interface WebhookRegistrationRequest {
  /** The receiver, e.g. `https://crm.example.com/webhooks/espocrm`; `?event=` is added per webhook. */
  readonly url: string;
  /** Event names, e.g. `CBeteiligte.create`. */
  readonly events: readonly string[];
  /** Skip events caused by the API user's own writes (the engine's echoes). EspoCRM 9.2+. */
  readonly skipOwn: boolean;
}

/** What {@link registerWebhooks} did: the webhooks made (with their secretKeys), and the failure that stopped it. */
export interface WebhookRegistrationResult {
  readonly registered: readonly EspoCrmWebhook[];
  /** The event that could not be registered and why; the events after it were not tried. */
  readonly failed: { readonly event: string; readonly error: Error } | null;
}

/** Throws InputError unless every name is an EspoCRM webhook event and none repeats. */
export function validateEvents(events: readonly string[]): void {
  if (events.length === 0) {
    throw new InputError('ESPOCRM_EVENTS_MISSING', 'Give at least one event, e.g. CBeteiligte.update.');
  }
  const invalid = events.filter((event) => parseEventName(event) === null);
  if (invalid.length > 0) {
    throw new InputError(
      'ESPOCRM_EVENT_INVALID',
      `Not EspoCRM webhook events: ${invalid.join(', ')}. Use Entity.create, Entity.update, Entity.delete or ` +
        'Entity.fieldUpdate.field (a field name such as assignedUser, not an attribute such as assignedUserId).',
    );
  }
  const repeated = events.filter((event, index) => events.indexOf(event) !== index);
  if (repeated.length > 0)
    throw new InputError('ESPOCRM_EVENT_REPEATED', `Events given twice: ${repeated.join(', ')}.`);
}

/**
 * Registers one webhook per event, each with `?event=<event>` on the URL, and stores each webhook's event in
 * the connector state. Stops at the first refusal and reports it next to what was registered, so the
 * secretKeys of the registered ones are not lost.
 */
export async function registerWebhooks(
  api: EspoCrmApi,
  directory: WebhookEventDirectory,
  request: WebhookRegistrationRequest,
): Promise<WebhookRegistrationResult> {
  validateEvents(request.events);
  const registered: EspoCrmWebhook[] = [];
  for (const event of request.events) {
    try {
      const webhook = await api.createWebhook({
        event,
        url: targetUrlFor(request.url, event),
        skipOwn: request.skipOwn,
      });
      await directory.remember(webhook.id, event);
      registered.push(webhook);
    } catch (error) {
      return {
        registered,
        failed: { event, error: error instanceof Error ? error : new Error(String(error)) },
      };
    }
  }
  return { registered, failed: null };
}

/** The value for ESPOCRM_WEBHOOK_SECRET of the given webhooks: `id:secretKey` pairs, comma-separated. */
export function webhookSecretsValue(webhooks: readonly EspoCrmWebhook[]): string {
  return webhooks
    .filter((webhook) => webhook.secretKey !== null)
    .map((webhook) => `${webhook.id}:${webhook.secretKey}`)
    .join(',');
}

/** One row per webhook for `webhook list` (the secretKey is never included). */
export function describeWebhooks(webhooks: readonly EspoCrmWebhook[]): {
  id: string;
  event: string;
  active: boolean;
  skipOwn: boolean;
  url: string;
}[] {
  return webhooks.map((webhook) => ({
    id: webhook.id,
    event: webhook.event,
    active: webhook.isActive,
    skipOwn: webhook.skipOwn,
    url: webhook.url,
  }));
}

/** Deletes a webhook and forgets its event. Returns false when EspoCRM did not know it. */
export async function deleteWebhook(
  api: EspoCrmApi,
  directory: WebhookEventDirectory,
  id: string,
): Promise<boolean> {
  const deleted = await api.deleteWebhook(id);
  await directory.forget(id);
  return deleted;
}
