/**
 * Operator tools of the SuperOffice connector, used by `crmsync superoffice webhook register|list|delete`.
 */
import { randomBytes } from 'node:crypto';
import type { SuperOfficeApi, WebhookRegistration } from './endpoints.ts';

/** The events the enrichment flows of the seeds listen to. */
export const DEFAULT_WEBHOOK_EVENTS = [
  'contact.created',
  'contact.changed',
  'person.created',
  'person.changed',
] as const;

/** A new webhook secret: 32 random bytes, base64url (43 characters). */
function generateWebhookSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** What {@link registerWebhook} did. */
export interface WebhookRegistrationResult {
  readonly webhook: WebhookRegistration;
  /** The secret, when it was generated here (the caller shows it once; it is not stored anywhere). */
  readonly generatedSecret: string | null;
}

/**
 * Registers a webhook with a secret: the configured one, or a newly generated one. The vendor test-posts to
 * `targetUrl` on save and the save fails unless the receiver answers 200, so the receiver must already run.
 */
export async function registerWebhook(
  api: SuperOfficeApi,
  definition: {
    targetUrl: string;
    events: readonly string[];
    name: string;
    configuredSecret?: string | undefined;
  },
): Promise<WebhookRegistrationResult> {
  const generatedSecret = definition.configuredSecret === undefined ? generateWebhookSecret() : null;
  const webhook = await api.createWebhook({
    name: definition.name,
    events: definition.events,
    targetUrl: definition.targetUrl,
    secret: definition.configuredSecret ?? generatedSecret ?? undefined,
  });
  return { webhook, generatedSecret };
}

/** One row per webhook for `webhook list` (the Secret is never included). */
export function describeWebhooks(webhooks: readonly WebhookRegistration[]): {
  id: number;
  name: string;
  state: string;
  events: string;
  targetUrl: string;
}[] {
  return webhooks.map((webhook) => ({
    id: webhook.WebhookId,
    name: webhook.Name,
    state: webhook.State,
    events: webhook.Events.join(','),
    targetUrl: webhook.TargetUrl,
  }));
}
