/**
 * Registers the SuperOffice simulator's webhook for crmsync, idempotently: a registration of the same name is
 * reused (and brought up to date: target, events, secret, back to Active after TooManyErrors) instead of
 * added again, so a simulator persisted across restarts never delivers the same change twice. It talks to
 * the simulator's REST `Webhook` resource as the API user, as a real connection does.
 */
import type { SuperOfficeSimulator } from '../simulators/superoffice/index.ts';
import { SandboxError } from './errors.ts';
import { callSimulator, simulatorAccessToken } from './simulator-http.ts';

/** What the simulator should deliver, and where. */
export interface SimulatorWebhook {
  /** Registration name; the key that makes registering idempotent. */
  readonly name: string;
  /** crmsync's webhook URL, `http://<host>:<port>/webhooks/<connection>`. */
  readonly targetUrl: string;
  readonly events: readonly string[];
  /** The connection's webhookSecret: deliveries are signed with it. */
  readonly secret: string;
}

/** What {@link ensureSimulatorWebhook} did. */
export interface WebhookRegistrationOutcome {
  readonly webhookId: number;
  /** `created`: new; `updated`: an existing registration was changed; `unchanged`: it was already right. */
  readonly outcome: 'created' | 'updated' | 'unchanged';
}

/** A registration as the simulator answers it (PascalCase). */
interface WebhookEntity {
  readonly WebhookId: number;
  readonly Name: string;
  readonly Events: readonly string[];
  readonly TargetUrl: string;
  readonly Secret?: string;
  readonly State: string;
}

function isWebhookEntity(value: unknown): value is WebhookEntity {
  const entity = value as Partial<WebhookEntity> | null;
  return (
    typeof entity === 'object' &&
    entity !== null &&
    typeof entity.WebhookId === 'number' &&
    typeof entity.Name === 'string' &&
    Array.isArray(entity.Events) &&
    typeof entity.TargetUrl === 'string'
  );
}

function sameEvents(left: readonly string[], right: readonly string[]): boolean {
  return left.length === right.length && [...left].sort().join(',') === [...right].sort().join(',');
}

/** Whether `entity` already delivers what `wanted` asks for. A secret the API does not echo is rewritten. */
function isUpToDate(entity: WebhookEntity, wanted: SimulatorWebhook): boolean {
  return (
    entity.State === 'Active' &&
    entity.TargetUrl === wanted.targetUrl &&
    entity.Secret === wanted.secret &&
    sameEvents(entity.Events, wanted.events)
  );
}

/**
 * Makes sure exactly one registration named `webhook.name` exists and delivers as asked. The simulator
 * test-posts to the target when a registration is created or its target changes, so crmsync must already
 * listen there.
 */
export async function ensureSimulatorWebhook(
  simulator: Pick<SuperOfficeSimulator, 'url' | 'webapiUrl' | 'credentials'>,
  webhook: SimulatorWebhook,
): Promise<WebhookRegistrationOutcome> {
  const token = await simulatorAccessToken(simulator);
  const base = `${simulator.webapiUrl}v1/Webhook`;
  const listed = await callSimulator({ method: 'GET', url: base, token });
  const mine = (Array.isArray(listed) ? listed : [])
    .filter(isWebhookEntity)
    .filter((entity) => entity.Name === webhook.name)
    .sort((left, right) => left.WebhookId - right.WebhookId);
  const body = {
    Name: webhook.name,
    Events: [...webhook.events],
    TargetUrl: webhook.targetUrl,
    Secret: webhook.secret,
    State: 'Active',
    Type: 'webhook',
  };
  const [kept, ...extra] = mine;
  // More than one of ours would deliver every change more than once.
  for (const duplicate of extra)
    await callSimulator({ method: 'DELETE', url: `${base}/${duplicate.WebhookId}`, token });
  if (kept === undefined) {
    const created = await callSimulator({ method: 'POST', url: base, token, body });
    if (!isWebhookEntity(created))
      throw new SandboxError('SANDBOX_SIMULATOR_FAILED', `POST ${base} answered without a webhook.`);
    return { webhookId: created.WebhookId, outcome: 'created' };
  }
  if (isUpToDate(kept, webhook)) return { webhookId: kept.WebhookId, outcome: 'unchanged' };
  await callSimulator({ method: 'PUT', url: `${base}/${kept.WebhookId}`, token, body });
  return { webhookId: kept.WebhookId, outcome: 'updated' };
}
