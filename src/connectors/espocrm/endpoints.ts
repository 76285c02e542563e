/**
 * Typed EspoCRM API endpoints (reference §1-§7): record CRUD with partial updates, optimistic concurrency and
 * the duplicate check; lists with filters and paging through every page; webhooks; notifications; the update
 * stream (field history); and `App/user`, who the API user is.
 */
import { InputError } from '../../core/errors.ts';
import type { JsonObject, JsonValue } from '../../core/types.ts';
import { EspoCrmApiError, EspoCrmNotificationForbiddenError } from './errors.ts';
import type { EspoCrmClient } from './client.ts';
import { isJsonObject } from '../shared/casing.ts';
import { espoDateTimeToIso } from './datetime.ts';
import { ENTITY_TYPE_PATTERN, ESPOCRM_MAX_PAGE_SIZE } from './options.ts';
import type { EspoCrmOptions } from './options.ts';
import { listQuery } from './where.ts';
import type { ListParams, WhereEncoding } from './where.ts';

/** One page of a list: `total` is the count of all matches, or -1 (more exist) / -2 (no more) without a count. */
export interface ListResult {
  readonly total: number;
  readonly list: readonly JsonObject[];
}

/** `total` when the server did not count and no more records exist (-1 means more exist; reference §3). */
export const TOTAL_NO_MORE = -2;

/** Options of list calls. */
export interface ListOptions {
  /** Send `X-No-Total: true`: the server skips the count and answers `total` -1 or -2. Cheaper on big tables. */
  readonly noTotal?: boolean;
}

/** Options of create. */
export interface CreateOptions {
  /** Send `X-Skip-Duplicate-Check: true`. */
  readonly skipDuplicateCheck?: boolean;
  /** `X-Duplicate-Source-Id`: copy the links of this record to the new one. */
  readonly duplicateSourceId?: string;
}

/** Options of update. */
export interface UpdateOptions {
  /**
   * `X-Version-Number`: the update fails with EspoCrmStaleWriteError (409 `modified`) when the record's
   * version differs and a submitted field's stored value differs too (entity types with optimistic
   * concurrency control only; elsewhere the header is ignored and the last write wins).
   */
  readonly versionNumber?: number;
  /** Never resend after a wait: the caller compared the record just before (see the HTTP client's Call). */
  readonly singleAttempt?: boolean;
  /** PUT and PATCH are the same partial update on the server; PATCH (the default) says so. */
  readonly method?: 'PATCH' | 'PUT';
  /** Send `X-Skip-Duplicate-Check: true` (only matters where the entity checks duplicates on update). */
  readonly skipDuplicateCheck?: boolean;
}

/** Who the API user is (`GET App/user`). */
export interface AppUser {
  readonly id: string;
  readonly userName: string;
  readonly name: string | null;
  /** `api` for API users, `admin`, `regular`, ... */
  readonly type: string | null;
}

/** A webhook registration (`Webhook` entity, reference §5). */
export interface EspoCrmWebhook {
  readonly id: string;
  /** `CBeteiligte.create`, `Account.fieldUpdate.name`, ... */
  readonly event: string;
  readonly url: string;
  readonly isActive: boolean;
  readonly skipOwn: boolean;
  readonly userId: string | null;
  /** The signing key; present in the answer to create (shown once by `webhook register`), never printed by list. */
  readonly secretKey: string | null;
}

/** What to register. */
export interface WebhookDefinition {
  readonly event: string;
  readonly url: string;
  readonly isActive?: boolean;
  /** Do not send events caused by the webhook's own user (the API user's writes); EspoCRM 9.2+. */
  readonly skipOwn?: boolean;
}

/** An in-app message to a user. */
export interface NotificationDefinition {
  /** The recipient's user id. */
  readonly userId: string;
  /** Markdown text; the server renders and sanitises it. */
  readonly message: string;
}

/** One attribute change of an Update note. */
export interface AttributeChange {
  readonly attribute: string;
  readonly was: JsonValue;
  readonly became: JsonValue;
}

/** An `Update` note of the update stream: who changed which audited fields when, with old and new values. */
export interface UpdateNote {
  readonly id: string;
  /** When (ISO 8601 UTC), or null when the note has no readable `createdAt`. */
  readonly at: string | null;
  readonly userId: string | null;
  readonly userName: string | null;
  /** The changed fields (field names, e.g. `assignedUser`). */
  readonly fields: readonly string[];
  /** Every attribute of those fields with its old and new value (`assignedUserId`, `assignedUserName`, ...). */
  readonly changes: readonly AttributeChange[];
}

/**
 * The version token of a record: its `versionNumber` (entity types with optimistic concurrency control) as a
 * decimal string, else its `modifiedAt` as the vendor writes it (`YYYY-MM-DD HH:mm:ss`); null without either.
 * The two cannot be confused: a version number is digits only. Update webhooks carry neither (reference §5).
 */
export function versionOf(record: JsonObject): string | null {
  const versionNumber = record['versionNumber'];
  if (typeof versionNumber === 'number' && Number.isInteger(versionNumber)) return String(versionNumber);
  if (typeof versionNumber === 'string' && isVersionNumber(versionNumber)) return versionNumber;
  return text(record['modifiedAt']);
}

/** Whether a version token is a `versionNumber` (digits only), rather than a `modifiedAt`. */
export function isVersionNumber(version: string): boolean {
  return /^\d+$/.test(version);
}

/** Throws InputError unless `entityType` is a valid entity type name (it becomes a URL path segment). */
export function requireEntityType(entityType: string): string {
  if (!ENTITY_TYPE_PATTERN.test(entityType)) {
    throw new InputError(
      'ESPOCRM_ENTITY_TYPE_INVALID',
      `"${entityType}" is not an EspoCRM entity type name (letters, digits and _, e.g. Account or CBeteiligte).`,
    );
  }
  return entityType;
}

function recordPath(entityType: string, id: string): string {
  if (id === '') throw new InputError('ESPOCRM_ID_INVALID', `An id of ${entityType} must not be empty.`);
  return `${requireEntityType(entityType)}/${encodeURIComponent(id)}`;
}

function text(value: JsonValue | undefined): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function toWebhook(body: JsonObject): EspoCrmWebhook {
  return {
    id: text(body['id']) ?? '',
    event: text(body['event']) ?? '',
    url: text(body['url']) ?? '',
    isActive: body['isActive'] !== false,
    skipOwn: body['skipOwn'] === true,
    userId: text(body['userId']),
    secretKey: text(body['secretKey']),
  };
}

function toUpdateNote(note: JsonObject): UpdateNote {
  const data = isJsonObject(note['data']) ? note['data'] : {};
  const attributes = isJsonObject(data['attributes']) ? data['attributes'] : {};
  const was = isJsonObject(attributes['was']) ? attributes['was'] : {};
  const became = isJsonObject(attributes['became']) ? attributes['became'] : {};
  const names = [...new Set([...Object.keys(was), ...Object.keys(became)])];
  const fields = Array.isArray(data['fields'])
    ? data['fields'].filter((field) => typeof field === 'string')
    : [];
  return {
    id: text(note['id']) ?? '',
    at: espoDateTimeToIso(note['createdAt']),
    userId: text(note['createdById']),
    userName: text(note['createdByName']),
    fields,
    changes: names.map((attribute) => ({
      attribute,
      was: was[attribute] ?? null,
      became: became[attribute] ?? null,
    })),
  };
}

/** A list answer as {@link ListResult}; anything without `{total, list}` is an API error. */
function listResult(route: string, body: JsonObject): ListResult {
  const { list, total } = body;
  if (!Array.isArray(list) || typeof total !== 'number') {
    throw new EspoCrmApiError(`${route} answered without {total, list}.`, {
      route,
      status: 200,
      retryable: false,
    });
  }
  return { total, list: list.filter(isJsonObject) };
}

/**
 * Pages from `offset` on until the last: the end is known from `total`, a count (stop once the offset reaches
 * it), -2 (no more records) or -1 (more exist, go on). An empty page always ends the walk, so a negative
 * total can never make it loop ("while fetched < total" would stop at once with -1, or never with a count
 * that shrank meanwhile).
 */
async function* walkPages(
  offset: number,
  fetch: (offset: number) => Promise<ListResult>,
): AsyncGenerator<ListResult> {
  let next = offset;
  for (;;) {
    const page = await fetch(next);
    if (page.list.length === 0) return;
    yield page;
    next += page.list.length;
    if (page.total === TOTAL_NO_MORE || (page.total >= 0 && next >= page.total)) return;
  }
}

/** The EspoCRM endpoints over one {@link EspoCrmClient}. */
export class EspoCrmApi {
  readonly client: EspoCrmClient;
  readonly #pageSize: number;
  readonly #encoding: WhereEncoding;

  constructor(client: EspoCrmClient, options: Pick<EspoCrmOptions, 'pageSize' | 'whereEncoding'>) {
    this.client = client;
    this.#pageSize = options.pageSize;
    this.#encoding = options.whereEncoding;
  }

  /** `GET {T}/{id}`: the record's attributes, or null when it does not exist (404). */
  async get(entityType: string, id: string): Promise<JsonObject | null> {
    const route = `GET ${entityType}/:id`;
    const response = await this.client.send({
      method: 'GET',
      path: recordPath(entityType, id),
      route,
      subject: `${entityType} ${id}`,
      expect: [404],
    });
    if (response.status === 404) return null;
    return this.#object(route, response.status, response.body);
  }

  /**
   * `POST {T}`: creates a record and returns it as stored (with `id`). Read-only inputs (`id`, `createdAt`,
   * `versionNumber`, `xxxName`, ...) are dropped by the server. A match of the duplicate check fails with
   * EspoCrmDuplicateError carrying the matches. Never retried (not idempotent).
   */
  create(entityType: string, attributes: JsonObject, options: CreateOptions = {}): Promise<JsonObject> {
    return this.client.json({
      method: 'POST',
      path: requireEntityType(entityType),
      route: `POST ${entityType}`,
      subject: `new ${entityType}`,
      body: attributes,
      headers: {
        ...(options.skipDuplicateCheck === true && { 'x-skip-duplicate-check': 'true' }),
        ...(options.duplicateSourceId !== undefined && {
          'x-duplicate-source-id': options.duplicateSourceId,
        }),
      },
    });
  }

  /**
   * `PATCH {T}/{id}` (or PUT): a partial update, send only the attributes that change. Returns every
   * attribute after the update. 409 `modified` (stale `versionNumber`) throws EspoCrmStaleWriteError with the
   * current values; 404 throws ESPOCRM_NOT_FOUND.
   */
  update(
    entityType: string,
    id: string,
    attributes: JsonObject,
    options: UpdateOptions = {},
  ): Promise<JsonObject> {
    const method = options.method ?? 'PATCH';
    return this.client.json({
      method,
      path: recordPath(entityType, id),
      route: `${method} ${entityType}/:id`,
      subject: `${entityType} ${id}`,
      body: attributes,
      ...(options.singleAttempt === true && { singleAttempt: true }),
      headers: {
        ...(options.versionNumber !== undefined && { 'x-version-number': String(options.versionNumber) }),
        ...(options.skipDuplicateCheck === true && { 'x-skip-duplicate-check': 'true' }),
      },
    });
  }

  /** `DELETE {T}/{id}`. Returns false when the record did not exist (a retried delete counts as done). */
  async delete(entityType: string, id: string): Promise<boolean> {
    const response = await this.client.send({
      method: 'DELETE',
      path: recordPath(entityType, id),
      route: `DELETE ${entityType}/:id`,
      subject: `${entityType} ${id}`,
      expect: [404],
    });
    return response.status !== 404;
  }

  /**
   * `GET {T}`: one page. `maxSize` defaults to the connection's page size; above 200 the server answers 403
   * (EspoCrmMaxSizeError), so larger values are refused here before any call.
   */
  async list(entityType: string, params: ListParams = {}, options: ListOptions = {}): Promise<ListResult> {
    const maxSize = params.maxSize ?? this.#pageSize;
    if (!Number.isInteger(maxSize) || maxSize < 1 || maxSize > ESPOCRM_MAX_PAGE_SIZE) {
      throw new InputError(
        'ESPOCRM_MAX_SIZE',
        `maxSize must be a whole number from 1 to ${ESPOCRM_MAX_PAGE_SIZE} (the server's limit), got ${maxSize}; page with offset instead.`,
      );
    }
    const route = `GET ${entityType}`;
    const body = await this.client.json({
      method: 'GET',
      path: requireEntityType(entityType),
      route,
      query: listQuery({ ...params, maxSize }, this.#encoding),
      ...(options.noTotal === true && { headers: { 'x-no-total': 'true' } }),
    });
    return listResult(route, body);
  }

  /**
   * Every page of a list, from `params.offset` on, until the last (end rules at {@link walkPages}). Offsets
   * shift when records change during the walk; for a consistent scan, order by an attribute that only grows
   * (modifiedAt) and filter past the last record seen, as the connector's list() does.
   */
  async *pages(
    entityType: string,
    params: ListParams = {},
    options: ListOptions = {},
  ): AsyncGenerator<ListResult> {
    yield* walkPages(params.offset ?? 0, (offset) => this.list(entityType, { ...params, offset }, options));
  }

  /** Every record of a list, page by page (see {@link pages}). */
  async *listAll(
    entityType: string,
    params: ListParams = {},
    options: ListOptions = {},
  ): AsyncGenerator<JsonObject> {
    for await (const page of this.pages(entityType, params, options)) yield* page.list;
  }

  /** `GET App/user`: who the credentials belong to. */
  async appUser(): Promise<AppUser> {
    const route = 'GET App/user';
    const body = await this.client.json({ method: 'GET', path: 'App/user', route });
    const user = body['user'];
    const id = isJsonObject(user) ? text(user['id']) : null;
    if (!isJsonObject(user) || id === null) {
      throw new EspoCrmApiError(`${route} answered without user.id.`, {
        route,
        status: 200,
        retryable: false,
      });
    }
    return { id, userName: text(user['userName']) ?? id, name: text(user['name']), type: text(user['type']) };
  }

  /** Every webhook the API user can see (`GET Webhook`, all pages). */
  async listWebhooks(): Promise<EspoCrmWebhook[]> {
    const webhooks: EspoCrmWebhook[] = [];
    for await (const record of this.listAll('Webhook', { orderBy: 'createdAt', order: 'asc' })) {
      webhooks.push(toWebhook(record));
    }
    return webhooks;
  }

  /**
   * `POST Webhook`: registers one event. The answer carries the generated `secretKey` (32 hex characters),
   * which signs every delivery. Refusals come as 403 with a reason (`Not supported event.`, `User must be an
   * API User.`, an internal URL since 9.3.2, ...).
   */
  async createWebhook(definition: WebhookDefinition): Promise<EspoCrmWebhook> {
    const body = await this.client.json({
      method: 'POST',
      path: 'Webhook',
      route: 'POST Webhook',
      subject: `webhook ${definition.event}`,
      body: {
        event: definition.event,
        url: definition.url,
        isActive: definition.isActive ?? true,
        ...(definition.skipOwn !== undefined && { skipOwn: definition.skipOwn }),
      },
    });
    return toWebhook(body);
  }

  /** `DELETE Webhook/{id}`; false when it did not exist. */
  deleteWebhook(id: string): Promise<boolean> {
    return this.delete('Webhook', id);
  }

  /**
   * `POST Notification` with `type: "Message"` (capital M, reference §6). Only admin users may create
   * notifications: the API user's 403 becomes EspoCrmNotificationForbiddenError, which says so.
   */
  async createNotification(notification: NotificationDefinition): Promise<JsonObject> {
    const route = 'POST Notification';
    const response = await this.client.send({
      method: 'POST',
      path: 'Notification',
      route,
      subject: `notification to user ${notification.userId}`,
      body: { type: 'Message', message: notification.message, userId: notification.userId },
      expect: [403],
    });
    if (response.status === 403) throw new EspoCrmNotificationForbiddenError({ route }, response.reason);
    return this.#object(route, response.status, response.body);
  }

  /**
   * The record's field history, newest first: `GET {T}/{id}/updateStream` (Update notes; needs the role's
   * Audit permission, else 403). Only fields with `audited: true` (and the status field) leave notes.
   */
  async *updateStream(
    entityType: string,
    id: string,
    params: Pick<ListParams, 'maxSize'> = {},
  ): AsyncGenerator<UpdateNote> {
    const route = `GET ${entityType}/:id/updateStream`;
    const page = async (offset: number) =>
      listResult(
        route,
        await this.client.json({
          method: 'GET',
          path: `${recordPath(entityType, id)}/updateStream`,
          route,
          subject: `${entityType} ${id}`,
          query: { maxSize: params.maxSize ?? this.#pageSize, offset },
        }),
      );
    for await (const { list } of walkPages(0, page)) {
      for (const note of list)
        if (note['type'] === undefined || note['type'] === 'Update') yield toUpdateNote(note);
    }
  }

  #object(route: string, status: number, body: JsonValue | null): JsonObject {
    if (!isJsonObject(body)) {
      throw new EspoCrmApiError(`${route} answered ${status} without a JSON object.`, {
        route,
        status,
        retryable: false,
      });
    }
    return body;
  }
}
