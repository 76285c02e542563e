/**
 * The `Webhook` entity (reference §5, SRC `Classes/RecordHooks/Webhook/BeforeSave.php`): create, list,
 * read, update and delete, with the vendor's checks and 403 reasons (`Not supported event.`, `Field does not
 * exist.`, `Entity type is not available for Webhooks.`, `User must be an API User.`, `Event can't be
 * changed.`, at most 50 webhooks per non-admin user). An API user owns the webhooks it creates and sees only
 * those; the admin sees all and may name an owner. `secretKey` is 32 random hex characters, read-only.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../ports/clock.ts';
import type { JsonObject } from '../../core/types.ts';
import { currentUser } from './auth.ts';
import { entityDef, isEntityType } from './entity-defs.ts';
import { forbidden, notFound, validationFailure } from './errors.ts';
import type { EspoCrmQuirks } from './quirks.ts';
import type { SimState, StoredWebhook } from './state.ts';
import type { SimUser, UserDirectory } from './users.ts';
import type { IdGenerator } from './values.ts';
import { formatDateTime, isJsonObject } from './values.ts';

/** What the webhook routes need. */
export interface WebhookRoutesOptions {
  readonly state: SimState;
  readonly users: UserDirectory;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly quirks: () => EspoCrmQuirks;
  /** Deletes a webhook with its pending items. */
  readonly dropWebhook: (id: string) => void;
}

const EVENT_TYPES = ['create', 'update', 'delete', 'fieldUpdate'];
const MAX_PER_USER = 50;

/** Derives `entityType`, `type` and `field` from `event`, with the vendor's checks in its order. */
function parseEvent(event: string): Pick<StoredWebhook, 'entityType' | 'type' | 'field'> {
  if (event === '') throw forbidden('Event is empty.');
  const parts = event.split('.');
  if (parts.length !== 2 && parts.length !== 3) throw forbidden('Not supported event.');
  const [entityType = '', type = '', field] = parts;
  if (entityType === '') throw forbidden('Entity Type is empty.');
  if (!isEntityType(entityType)) throw forbidden('Entity type is not available for Webhooks.');
  if (!EVENT_TYPES.includes(type)) throw forbidden('Not supported event.');
  if (type !== 'fieldUpdate') return { entityType, type, field: null };
  if (field === undefined || field === '') throw forbidden('Field is empty.');
  if (!entityDef(entityType).fields.some((candidate) => candidate.name === field))
    throw forbidden('Field does not exist.');
  return { entityType, type, field };
}

function isLoopback(hostname: string): boolean {
  return /^(localhost|127\.|10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|\[::1\]|0\.0\.0\.0)/.test(hostname);
}

function checkUrl(url: unknown, quirks: EspoCrmQuirks): string {
  if (typeof url !== 'string' || url === '') throw validationFailure('Webhook', 'url', 'required');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw validationFailure('Webhook', 'url', 'valid');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw validationFailure('Webhook', 'url', 'valid');
  // [UNCONFIRMED] the reason text of the vendor's internal-address check (since 9.3.2).
  if (quirks.webhookRejectInternalUrls && isLoopback(parsed.hostname))
    throw forbidden('URL is not allowed (internal address).');
  return url;
}

/** The read output of a webhook. */
function renderWebhook(webhook: StoredWebhook, users: UserDirectory): JsonObject {
  return {
    id: webhook.id,
    event: webhook.event,
    url: webhook.url,
    isActive: webhook.isActive,
    userId: webhook.userId,
    userName: users.nameOf(webhook.userId),
    entityType: webhook.entityType,
    type: webhook.type,
    field: webhook.field,
    secretKey: webhook.secretKey,
    skipOwn: webhook.skipOwn,
    description: webhook.description,
    createdAt: webhook.createdAt,
    modifiedAt: webhook.modifiedAt,
    createdById: webhook.createdById,
    createdByName: users.nameOf(webhook.createdById),
    modifiedById: webhook.modifiedById,
    modifiedByName: users.nameOf(webhook.modifiedById),
    deleted: false,
  };
}

/** Registers `/api/v1/Webhook` (authentication is installed by the server). */
export function registerWebhookRoutes(app: FastifyInstance, options: WebhookRoutesOptions): void {
  const { state, users } = options;

  /** Webhooks are a scope regular users get no access to by default. */
  const checkAccess = (user: SimUser, action: string) => {
    if (user.type === 'regular') throw forbidden(`No ${action} access.`);
  };
  const visible = (user: SimUser) =>
    state.webhooks.filter((webhook) => user.type === 'admin' || webhook.userId === user.id);
  const find = (user: SimUser, id: string, reason: string) => {
    const webhook = visible(user).find((candidate) => candidate.id === id);
    if (webhook === undefined) throw notFound(reason);
    return webhook;
  };
  const owner = (id: string | null) => {
    if (id === null) return;
    if (users.byId(id)?.type !== 'api') throw forbidden('User must be an API User.');
  };

  app.post('/api/v1/Webhook', (request) => {
    const user = currentUser(request);
    checkAccess(user, 'create');
    const body = isJsonObject(request.body) ? request.body : {};
    if (typeof body.event !== 'string' || body.event === '')
      throw validationFailure('Webhook', 'event', 'required');
    const url = checkUrl(body.url, options.quirks());
    const userId = user.type === 'api' ? user.id : typeof body.userId === 'string' ? body.userId : null;
    owner(userId);
    const derived = parseEvent(body.event);
    if (
      user.type !== 'admin' &&
      state.webhooks.filter((webhook) => webhook.userId === user.id).length >= MAX_PER_USER
    )
      throw forbidden('Webhook number per user exceeded the limit.');
    const ms = options.clock.now();
    const now = formatDateTime(ms);
    const webhook: StoredWebhook = {
      id: options.ids.next(ms),
      event: body.event,
      url,
      isActive: body.isActive !== false,
      userId,
      ...derived,
      secretKey: randomBytes(16).toString('hex'),
      skipOwn: body.skipOwn === true && userId !== null,
      description: typeof body.description === 'string' ? body.description : null,
      createdAt: now,
      modifiedAt: now,
      createdById: user.id,
      modifiedById: user.id,
    };
    state.webhooks.push(webhook);
    return renderWebhook(webhook, users);
  });

  app.get('/api/v1/Webhook', (request) => {
    const user = currentUser(request);
    checkAccess(user, 'read');
    const list = [...visible(user)].sort(
      (a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id),
    );
    return { total: list.length, list: list.map((webhook) => renderWebhook(webhook, users)) };
  });

  type WithId = { Params: { id: string } };
  app.get<WithId>('/api/v1/Webhook/:id', (request) => {
    const user = currentUser(request);
    checkAccess(user, 'read');
    return renderWebhook(find(user, request.params.id, `Record ${request.params.id} does not exist.`), users);
  });

  const update = (request: { params: { id: string }; body: unknown }, user: SimUser) => {
    checkAccess(user, 'edit');
    const webhook = find(user, request.params.id, `Record ${request.params.id} not found.`);
    const body = isJsonObject(request.body) ? request.body : {};
    if (typeof body.event === 'string' && body.event !== webhook.event)
      throw forbidden("Event can't be changed.");
    if (body.url !== undefined) webhook.url = checkUrl(body.url, options.quirks());
    if (typeof body.isActive === 'boolean') webhook.isActive = body.isActive;
    if (typeof body.skipOwn === 'boolean') webhook.skipOwn = body.skipOwn && webhook.userId !== null;
    if (body.description !== undefined)
      webhook.description = typeof body.description === 'string' ? body.description : null;
    if (user.type === 'admin' && body.userId !== undefined) {
      const userId = typeof body.userId === 'string' ? body.userId : null;
      owner(userId);
      webhook.userId = userId;
    }
    webhook.modifiedAt = formatDateTime(options.clock.now());
    webhook.modifiedById = user.id;
    return renderWebhook(webhook, users);
  };
  app.put<WithId>('/api/v1/Webhook/:id', (request) => update(request, currentUser(request)));
  app.patch<WithId>('/api/v1/Webhook/:id', (request) => update(request, currentUser(request)));

  app.delete<WithId>('/api/v1/Webhook/:id', (request) => {
    const user = currentUser(request);
    checkAccess(user, 'delete');
    options.dropWebhook(find(user, request.params.id, `Record ${request.params.id} not found.`).id);
    return true;
  });
}
