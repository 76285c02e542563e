/**
 * Webhook registrations of the simulated tenant (reference §1.1): the stored record, validation of the
 * `Webhook` bodies the REST API receives, the PascalCase entity it answers with, and the persisted form.
 *
 * Facts the reference leaves open, and what the simulator does about them:
 * - `State` numbering 0..3 is [INFERRED]; states are answered as strings and accepted as strings or numbers.
 * - `Headers` and `Properties` have no documented shape: they are stored and echoed, never interpreted (in
 *   particular `Headers` is not sent with deliveries, as nothing says it is).
 * - `Type: "crmscript"` makes `TargetUrl` a CRMScript id; the simulator runs no scripts, so it refuses them.
 * - Whether GET masks `Secret` is [UNCONFIRMED]; it is answered as stored.
 * - PUT merges the given fields over the stored webhook [INFERRED] (the REST page was not read), so that
 *   `PUT {"State":"Active"}` is enough to recover a webhook from TooManyErrors.
 */
import { z } from 'zod';
import { formatEntityDate } from './entities.ts';
import { badRequest } from './errors.ts';

/** The states of a webhook, in the [INFERRED] numeric order 0..3. */
const WEBHOOK_STATES = ['Unknown', 'Active', 'Stopped', 'TooManyErrors'] as const;

/** A webhook's state, serialised as a string. */
export type WebhookState = (typeof WEBHOOK_STATES)[number];

/** A stored webhook registration. Times are epoch ms; `consecutiveErrors` drives TooManyErrors. */
export interface StoredWebhook {
  webhookId: number;
  name: string;
  events: string[];
  errorsEmail: string;
  targetUrl: string;
  secret: string;
  state: WebhookState;
  type: 'webhook';
  headers: unknown;
  properties: unknown;
  registered: number;
  registeredAssociate: number;
  updated: number;
  updatedAssociate: number;
  /** Failed delivery attempts in a row (any event); reset by a 200 or by setting the state to Active. */
  consecutiveErrors: number;
}

/** The fields a client can set, after validation. */
export type WebhookDefinition = Pick<
  StoredWebhook,
  'name' | 'events' | 'errorsEmail' | 'targetUrl' | 'secret' | 'state' | 'type' | 'headers' | 'properties'
>;

/** The template of `GET Webhook/default` (reference §1.1). */
export const DEFAULT_WEBHOOK_DEFINITION: WebhookDefinition = {
  name: '',
  events: ['contact.created', 'contact.deleted'],
  errorsEmail: '',
  targetUrl: '',
  secret: '',
  state: 'Active',
  type: 'webhook',
  headers: null,
  properties: null,
};

/** Renders the `RegisteredAssociate`/`UpdatedAssociate` value of an associate id. */
export type DescribeAssociate = (associateId: number) => unknown;

/** The entity's associate fields are [UNCONFIRMED] objects; by default only the id is given. */
export const describeAssociateById: DescribeAssociate = (associateId) => ({ AssociateId: associateId });

/** The PascalCase `WebhookEntity` of a stored webhook (or of the template, with id 0). */
export function webhookEntity(
  webhook: WebhookDefinition & Partial<StoredWebhook>,
  describeAssociate: DescribeAssociate,
): Record<string, unknown> {
  const date = (ms: number | undefined) => (ms === undefined ? null : formatEntityDate(ms));
  const associate = (id: number | undefined) => (id === undefined ? null : describeAssociate(id));
  return {
    WebhookId: webhook.webhookId ?? 0,
    Name: webhook.name,
    Events: [...webhook.events],
    ErrorsEmail: webhook.errorsEmail,
    TargetUrl: webhook.targetUrl,
    Secret: webhook.secret,
    State: webhook.state,
    Type: webhook.type,
    Headers: webhook.headers,
    Properties: webhook.properties,
    Registered: date(webhook.registered),
    RegisteredAssociate: associate(webhook.registeredAssociate),
    Updated: date(webhook.updated),
    UpdatedAssociate: associate(webhook.updatedAssociate),
  };
}

/** Reads a JSON body's keys case-insensitively, as NetServer does. */
function fieldsOf(body: unknown): Map<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw badRequest('The Webhook body must be a JSON object such as {"Name","Events","TargetUrl"}.');
  return new Map(Object.entries(body).map(([key, value]) => [key.toLowerCase(), value]));
}

function text(fields: Map<string, unknown>, key: string, fallback: string): string {
  const value = fields.get(key.toLowerCase());
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'string') throw badRequest(`Webhook.${key} must be a string.`);
  return value;
}

function stateOf(value: unknown, fallback: WebhookState): WebhookState {
  if (value === undefined || value === null) return fallback;
  const byNumber = typeof value === 'number' ? WEBHOOK_STATES[value] : undefined;
  const byName =
    typeof value === 'string'
      ? WEBHOOK_STATES.find((state) => state.toLowerCase() === value.toLowerCase())
      : undefined;
  const state = byNumber ?? byName;
  if (state === undefined)
    throw badRequest(
      `Webhook.State must be one of ${WEBHOOK_STATES.join(', ')}; got ${JSON.stringify(value)}.`,
    );
  return state;
}

function eventsOf(value: unknown, fallback: string[]): string[] {
  if (value === undefined || value === null) return fallback;
  if (!Array.isArray(value) || !value.every((event) => typeof event === 'string' && event.trim() !== ''))
    throw badRequest('Webhook.Events must be an array of event names such as ["contact.created"].');
  return value.map((event: string) => event.trim());
}

function checkTargetUrl(targetUrl: string, requireHttps: boolean): void {
  let url: URL;
  try {
    url = new URL(targetUrl);
  } catch {
    throw badRequest('Webhook.TargetUrl must be an absolute URL such as https://example.com/webhook.');
  }
  const allowed = requireHttps ? ['https:'] : ['https:', 'http:'];
  if (!allowed.includes(url.protocol))
    throw badRequest(
      requireHttps
        ? 'Webhook.TargetUrl must use https (the simulator was started with requireHttps).'
        : 'Webhook.TargetUrl must use http or https.',
    );
}

/**
 * Validates a POST/PUT body. On PUT, `base` is the stored webhook and missing fields keep its values.
 * Name, Events (non-empty) and TargetUrl are required in the result.
 */
export function parseWebhookDefinition(
  body: unknown,
  base: WebhookDefinition,
  options: { requireHttps: boolean },
): WebhookDefinition {
  const fields = fieldsOf(body);
  const type = text(fields, 'Type', base.type).toLowerCase();
  if (type !== 'webhook')
    throw badRequest(
      `Webhook.Type "${type}" is not simulated: only "webhook" is (CRMScript hooks run scripts inside SuperOffice).`,
    );
  const definition: WebhookDefinition = {
    name: text(fields, 'Name', base.name).trim(),
    events: eventsOf(fields.get('events'), base.events),
    errorsEmail: text(fields, 'ErrorsEmail', base.errorsEmail),
    targetUrl: text(fields, 'TargetUrl', base.targetUrl).trim(),
    secret: text(fields, 'Secret', base.secret),
    state: stateOf(fields.get('state'), base.state),
    type: 'webhook',
    headers: fields.has('headers') ? fields.get('headers') : base.headers,
    properties: fields.has('properties') ? fields.get('properties') : base.properties,
  };
  const missing = [
    definition.name === '' && 'Name',
    definition.events.length === 0 && 'Events',
    definition.targetUrl === '' && 'TargetUrl',
  ].filter((field) => field !== false);
  if (missing.length > 0) throw badRequest(`Webhook needs ${missing.join(', ')}.`);
  checkTargetUrl(definition.targetUrl, options.requireHttps);
  return definition;
}

const storedWebhookSchema = z.object({
  webhookId: z.number().int().positive(),
  name: z.string(),
  events: z.array(z.string()),
  errorsEmail: z.string(),
  targetUrl: z.string(),
  secret: z.string(),
  state: z.enum(WEBHOOK_STATES),
  type: z.literal('webhook'),
  headers: z.unknown(),
  properties: z.unknown(),
  registered: z.number(),
  registeredAssociate: z.number().int(),
  updated: z.number(),
  updatedAssociate: z.number().int(),
  consecutiveErrors: z.number().int().nonnegative(),
});

const persistedWebhooksSchema = z.object({
  version: z.literal(1),
  nextWebhookId: z.number().int().positive(),
  webhooks: z.array(storedWebhookSchema),
});

/** The persisted form of the registrations (in-flight deliveries are not kept). */
export type PersistedWebhooks = z.infer<typeof persistedWebhooksSchema>;

/** Validates persisted registrations, saying where they are wrong. */
export function parsePersistedWebhooks(data: unknown): PersistedWebhooks {
  const parsed = persistedWebhooksSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `Persisted webhook state is invalid at ${issue?.path.join('.') ?? '(root)'}: ${issue?.message ?? 'unknown problem'}. ` +
        'Delete the simulator state file or start without it.',
    );
  }
  return { ...parsed.data, webhooks: parsed.data.webhooks.map((webhook) => ({ ...webhook })) };
}
