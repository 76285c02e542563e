/**
 * Typed WebAPI endpoints used by the connector and later issues: Contact, Person and Sale entities (reference
 * §3), archive/OData lists (§4), list items (§3.7), the current principal (§2.5) and webhooks (§1.1).
 * Entity JSON is PascalCase, archive rows camelCase: read both through ../shared/casing.ts.
 */
import { StaleWriteError } from '../../core/errors.ts';
import type { JsonObject, JsonValue } from '../../core/types.ts';
import { getField, getId, isObject } from '../shared/casing.ts';
import type { SuperOfficeClient } from './client.ts';
import { SuperOfficeApiError } from './errors.ts';

/** The entities the connector reads and writes. */
export const ENTITY_TYPES = ['Contact', 'Person', 'Sale'] as const;

/** One of {@link ENTITY_TYPES}. */
export type EntityType = (typeof ENTITY_TYPES)[number];

/** The entity type named by `name`, case-insensitively (`contact` in webhooks, `Contact` in REST), or null. */
export function entityTypeOf(name: string): EntityType | null {
  const wanted = name.toLowerCase();
  return ENTITY_TYPES.find((type) => type.toLowerCase() === wanted) ?? null;
}

/** One RFC 6902 operation; the vendor supports add, replace, remove and test (reference §3.2). */
export interface JsonPatchOperation {
  readonly op: 'add' | 'replace' | 'remove' | 'test';
  /** Case-insensitive property path, e.g. `/Department` or `/UserDefinedFields/SuperOffice:7`. */
  readonly path: string;
  readonly value?: JsonValue;
}

/** Options of conditional writes. */
export interface WriteCondition {
  /** Fails with StaleWriteError (412) when the record changed after this time (epoch ms or a Date string). */
  readonly ifUnmodifiedSince?: number | string;
}

/** Query options of archive/OData lists. Column names are archive (camelCase) names. */
export interface ArchiveQuery {
  readonly select?: readonly string[];
  readonly filter?: string;
  readonly orderBy?: string;
  readonly top?: number;
  readonly skip?: number;
}

/** One row of an archive list: `PrimaryKey` (string or number on the wire, always a string here) and columns. */
export interface ArchiveRow {
  readonly primaryKey: string;
  readonly columns: Readonly<Record<string, JsonValue>>;
}

/** One page of an archive list. */
export interface ArchivePage {
  readonly rows: readonly ArchiveRow[];
  /** The vendor's `odata.nextLink`, or null on the last page. */
  readonly nextLink: string | null;
}

/** An item of `List/{name}/Items`. */
export interface ListItem {
  readonly id: number;
  readonly name: string;
  readonly tooltip: string;
  readonly deleted: boolean;
}

/** A webhook registration as the vendor returns it (PascalCase, reference §1.1). */
export interface WebhookRegistration {
  readonly WebhookId: number;
  readonly Name: string;
  readonly Events: readonly string[];
  readonly TargetUrl: string;
  readonly State: string;
  readonly Type: string;
  readonly [key: string]: unknown;
}

/** What to register. */
export interface WebhookDefinition {
  readonly name: string;
  readonly events: readonly string[];
  readonly targetUrl: string;
  readonly secret?: string;
  readonly errorsEmail?: string;
}

/** `If-Unmodified-Since` in HTTP-date format (second precision: the header cannot carry more). */
export function httpDate(value: number | string): string {
  const ms = typeof value === 'number' ? value : parseVendorDate(value);
  if (ms === null) throw new TypeError(`not a date: ${String(value)}`);
  return new Date(ms).toUTCString();
}

/**
 * Epoch ms of a vendor date. Archive dates have no offset and entity dates sometimes do; both are UTC per the
 * docs (reference §3.4, §4), so a missing offset means UTC.
 */
export function parseVendorDate(value: string): number | null {
  const zoneless = value.includes('T') && !/(?:Z|[+-]\d{2}:?\d{2})$/i.test(value);
  const ms = Date.parse(zoneless ? `${value}Z` : value);
  return Number.isNaN(ms) ? null : ms;
}

/**
 * The version token of a record: its `UpdatedDate` (entity) or `updatedDate` (archive row), normalised to ISO
 * UTC so that both surfaces give the same token for the same write. Null when the record has none.
 */
export function versionOf(record: Readonly<Record<string, unknown>>): string | null {
  const raw = getField(record, 'UpdatedDate');
  if (typeof raw !== 'string' || raw === '') return null;
  const ms = parseVendorDate(raw);
  return ms === null ? raw : new Date(ms).toISOString();
}

function conditionHeaders(condition: WriteCondition): Record<string, string> {
  return condition.ifUnmodifiedSince === undefined
    ? {}
    : { 'if-unmodified-since': httpDate(condition.ifUnmodifiedSince) };
}

/** A string property, or '' when absent or not a string. */
function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function toRow(value: unknown): ArchiveRow | null {
  if (!isObject(value)) return null;
  const primaryKey = getId(value, 'PrimaryKey');
  if (primaryKey === undefined) return null;
  return { primaryKey, columns: value as Record<string, JsonValue> };
}

/** The WebAPI endpoints over one {@link SuperOfficeClient}. */
export class SuperOfficeApi {
  readonly client: SuperOfficeClient;

  constructor(client: SuperOfficeClient) {
    this.client = client;
  }

  /** `GET {Entity}/{id}`; null when it does not exist (404). */
  async getEntity(entity: EntityType, id: string): Promise<JsonObject | null> {
    const response = await this.client.send({
      method: 'GET',
      path: `${entity}/${encodeURIComponent(id)}`,
      route: `GET ${entity}/:id`,
      expect: [404],
    });
    if (response.status === 404) return null;
    return this.#entity(`GET ${entity}/:id`, response.status, response.body);
  }

  /** `POST {Entity}`: creates a record and returns it as stored. Never retried (not idempotent). */
  async createEntity(entity: EntityType, body: JsonObject): Promise<JsonObject> {
    return this.client.json({ method: 'POST', path: entity, route: `POST ${entity}`, body });
  }

  /** `PUT {Entity}/{id}`: replaces a record (send the whole entity). 412 -> StaleWriteError. */
  async putEntity(
    entity: EntityType,
    id: string,
    body: JsonObject,
    condition: WriteCondition = {},
  ): Promise<JsonObject> {
    return this.#write('PUT', entity, id, body, 'application/json', condition);
  }

  /**
   * `PATCH {Entity}/{id}`: an object is sent as a merge patch (RFC 7396, `application/merge-patch+json`), an
   * array as a JSON patch (RFC 6902, `application/json-patch+json`). 412 (If-Unmodified-Since) and 409 (a
   * failed `test` op) -> StaleWriteError.
   */
  async patchEntity(
    entity: EntityType,
    id: string,
    patch: JsonObject | readonly JsonPatchOperation[],
    condition: WriteCondition = {},
  ): Promise<JsonObject> {
    const contentType = Array.isArray(patch) ? 'application/json-patch+json' : 'application/merge-patch+json';
    return this.#write('PATCH', entity, id, patch as JsonValue, contentType, condition);
  }

  /** `DELETE {Entity}/{id}`. A missing record counts as deleted. */
  async deleteEntity(entity: EntityType, id: string): Promise<void> {
    await this.client.send({
      method: 'DELETE',
      path: `${entity}/${encodeURIComponent(id)}`,
      route: `DELETE ${entity}/:id`,
      expect: [404],
    });
  }

  /**
   * One page of an archive list: `path` is the provider path (`Contact`, `Archive/FindSale`) for the first
   * page, or the previous page's `odata.nextLink`. `route` names it for metrics.
   */
  async archivePage(
    path: string,
    query: ArchiveQuery = {},
    route = `GET ${path.split('?')[0]}`,
  ): Promise<ArchivePage> {
    const isNextLink = /^https?:\/\//i.test(path);
    const body = await this.client.json({
      method: 'GET',
      path,
      route,
      ...(!isNextLink && {
        query: {
          $select: query.select?.join(','),
          $filter: query.filter,
          $orderBy: query.orderBy,
          $top: query.top,
          $skip: query.skip,
        },
      }),
    });
    const value = getField(body, 'value');
    if (!Array.isArray(value)) {
      throw new SuperOfficeApiError(`${route} answered without a "value" array.`, {
        status: 200,
        route,
        retryable: false,
      });
    }
    const next = getField(body, 'odata.nextLink');
    const rows = value.map(toRow).filter((row): row is ArchiveRow => row !== null);
    return { rows, nextLink: typeof next === 'string' && next !== '' ? next : null };
  }

  /** Every row of an archive list, following `odata.nextLink` to the end, page by page. */
  async *archiveRows(path: string, query: ArchiveQuery = {}): AsyncGenerator<ArchiveRow> {
    const route = `GET ${path}`;
    let page = await this.archivePage(path, query, route);
    for (;;) {
      yield* page.rows;
      if (page.nextLink === null) return;
      page = await this.archivePage(page.nextLink, {}, route);
    }
  }

  /** `GET List/{name}/Items` (user-defined lists by name, ProductFamily, Category...). */
  async listItems(name: string, options: { includeDeleted?: boolean } = {}): Promise<ListItem[]> {
    const route = 'GET List/:name/Items';
    const response = await this.client.send({
      method: 'GET',
      path: `List/${encodeURIComponent(name)}/Items`,
      route,
      query: { includeDeleted: options.includeDeleted === true ? 'true' : 'false' },
    });
    if (!Array.isArray(response.body)) {
      throw new SuperOfficeApiError(`${route} answered without a JSON array.`, {
        status: response.status,
        route,
        retryable: false,
      });
    }
    return response.body
      .filter((item): item is JsonObject => isObject(item))
      .map((item) => ({
        id: Number(getField(item, 'Id')),
        name: text(getField(item, 'Name')),
        tooltip: text(getField(item, 'Tooltip')),
        deleted: getField(item, 'Deleted') === true,
      }));
  }

  /** `GET User/currentPrincipal`: who the API user is. */
  currentPrincipal(): Promise<JsonObject> {
    return this.client.json({
      method: 'GET',
      path: 'User/currentPrincipal',
      route: 'GET User/currentPrincipal',
    });
  }

  /** `GET Webhook`: the webhooks this app registered (Online apps see only their own). */
  async listWebhooks(): Promise<WebhookRegistration[]> {
    const route = 'GET Webhook';
    const response = await this.client.send({ method: 'GET', path: 'Webhook', route });
    // [UNCONFIRMED] whether the list is a plain array or an OData envelope; accept both.
    const items = Array.isArray(response.body)
      ? response.body
      : isObject(response.body)
        ? getField(response.body, 'value')
        : undefined;
    if (!Array.isArray(items)) {
      throw new SuperOfficeApiError(`${route} answered without a list.`, {
        status: response.status,
        route,
        retryable: false,
      });
    }
    return items.filter(isObject) as unknown as WebhookRegistration[];
  }

  /** `GET Webhook/{id}` [INFERRED REST path]; null when absent. */
  async getWebhook(id: number): Promise<WebhookRegistration | null> {
    const response = await this.client.send({
      method: 'GET',
      path: `Webhook/${id}`,
      route: 'GET Webhook/:id',
      expect: [404],
    });
    return response.status === 404 || !isObject(response.body)
      ? null
      : (response.body as unknown as WebhookRegistration);
  }

  /**
   * `POST Webhook`. The vendor test-posts to the target on save and fails the save unless it answers 200, so
   * the receiver must be reachable first.
   */
  async createWebhook(definition: WebhookDefinition): Promise<WebhookRegistration> {
    const body: JsonObject = {
      Name: definition.name,
      Events: [...definition.events],
      TargetUrl: definition.targetUrl,
      State: 'Active',
      Type: 'webhook',
      ...(definition.secret !== undefined && { Secret: definition.secret }),
      ...(definition.errorsEmail !== undefined && { ErrorsEmail: definition.errorsEmail }),
    };
    const created = await this.client.json({ method: 'POST', path: 'Webhook', route: 'POST Webhook', body });
    return created as unknown as WebhookRegistration;
  }

  /**
   * Sets a webhook's State back to Active (after TooManyErrors, NetServer delivers nothing until its owner
   * does this). `PUT Webhook/{id}` with the entity as read and `State: Active`; the vendor test-posts to the
   * target again, so the receiver must answer 200 by now. [UNCONFIRMED] whether the vendor returns the Secret
   * on GET: the entity is sent back as read, so a vendor that hides it might need a new registration instead.
   * Returns null when the webhook does not exist.
   */
  async activateWebhook(id: number): Promise<WebhookRegistration | null> {
    const current = await this.getWebhook(id);
    if (current === null) return null;
    const updated = await this.client.json({
      method: 'PUT',
      path: `Webhook/${id}`,
      route: 'PUT Webhook/:id',
      body: { ...(current as unknown as JsonObject), State: 'Active' },
    });
    return updated as unknown as WebhookRegistration;
  }

  /** `DELETE Webhook/{id}` [INFERRED REST path]. Returns false when it did not exist. */
  async deleteWebhook(id: number): Promise<boolean> {
    const response = await this.client.send({
      method: 'DELETE',
      path: `Webhook/${id}`,
      route: 'DELETE Webhook/:id',
      expect: [404],
    });
    return response.status !== 404;
  }

  async #write(
    method: 'PUT' | 'PATCH',
    entity: EntityType,
    id: string,
    body: JsonValue,
    contentType: string,
    condition: WriteCondition,
  ): Promise<JsonObject> {
    const route = `${method} ${entity}/:id`;
    const response = await this.client.send({
      method,
      path: `${entity}/${encodeURIComponent(id)}`,
      route,
      body,
      contentType,
      headers: conditionHeaders(condition),
      expect: [409, 412],
    });
    if (response.status === 412) {
      throw new StaleWriteError(
        `${entity} ${id} changed in SuperOffice after the version this write was based on (412); re-read and retry.`,
        { entity, id, status: 412 },
      );
    }
    if (response.status === 409) {
      throw new StaleWriteError(`${entity} ${id}: a JSON patch "test" operation failed (409).`, {
        entity,
        id,
        status: 409,
      });
    }
    return this.#entity(route, response.status, response.body);
  }

  #entity(route: string, status: number, body: JsonValue | null): JsonObject {
    if (!isObject(body)) {
      throw new SuperOfficeApiError(`${route} answered ${status} without a JSON object.`, {
        status,
        route,
        retryable: false,
      });
    }
    return body;
  }

  /**
   * The user-defined field definitions of `owner` (`POST Agents/UserDefinedFieldInfo/GetUserDefinedFieldList`
   * [INFERRED]: the agent's list call, with `UDefType` as the entity name). An RPC read: a POST that is
   * retried like a GET, since it changes nothing.
   */
  async userDefinedFieldList(owner: EntityType): Promise<UserDefinedFieldInfo[]> {
    const route = 'POST Agents/UserDefinedFieldInfo/GetUserDefinedFieldList';
    const path = 'Agents/UserDefinedFieldInfo/GetUserDefinedFieldList';
    const response = await this.client.send({
      method: 'POST',
      path,
      route,
      body: { UDefType: owner },
      idempotent: true,
    });
    return objectsOf(route, response).map((info) => toUdefInfo(owner, info));
  }
}

/** The objects of a JSON array answer (other elements dropped); an answer that is no array is an error. */
function objectsOf(route: string, response: { status: number; body: JsonValue | null }): JsonObject[] {
  if (!Array.isArray(response.body)) {
    throw new SuperOfficeApiError(`${route} answered without a JSON array.`, {
      status: response.status,
      route,
      retryable: false,
    });
  }
  return response.body.filter((item): item is JsonObject => isObject(item));
}

/** One user-defined field definition (`UserDefinedFieldInfo`, names as the agent API sends them [INFERRED]). */
export interface UserDefinedFieldInfo {
  /** The entity the field belongs to. */
  readonly owner: EntityType;
  /** `UDefFieldId`. */
  readonly fieldId: number;
  /** The key in `UserDefinedFields`: the ProgId, or `SuperOffice:<fieldId>` when the field has none. */
  readonly progId: string;
  readonly label: string;
  /** `FieldType` as sent (a name such as `List` or `LongText`; some versions may send a number). */
  readonly type: string;
  /** For list fields: `UDListDefinitionId`, else 0. */
  readonly listDefinitionId: number;
  /** For list fields: `MdoListName` (e.g. `udlist331`), else ''. */
  readonly listName: string;
}

function toUdefInfo(owner: EntityType, info: Readonly<Record<string, unknown>>): UserDefinedFieldInfo {
  const fieldId = Number(getField(info, 'UDefFieldId') ?? getField(info, 'ColumnId') ?? 0);
  const progId = text(getField(info, 'ProgId'));
  const type = getField(info, 'FieldType');
  return {
    owner,
    fieldId,
    progId: progId === '' ? `SuperOffice:${fieldId}` : progId,
    label: text(getField(info, 'FieldLabel')),
    type: typeof type === 'number' ? String(type) : text(type),
    listDefinitionId: Number(getField(info, 'UDListDefinitionId') ?? 0) || 0,
    listName: text(getField(info, 'MdoListName')),
  };
}
