/**
 * The `superoffice` connector: SuperOffice CRM Online through its REST WebAPI (see
 * /work/shared/reference/superoffice-api.md and seeds 000-002).
 *
 * - Webhooks: verified by signature (webhookSecret) or shared token (webhookToken), parsed into change events
 *   (./webhook.ts). One of the two must be configured for webhooks to be accepted.
 * - read/write/list of `Contact`, `Person` and `Sale`. The version token is `UpdatedDate` (ISO UTC). Writes
 *   are PATCH merge patches, conditional on the expected version (If-Unmodified-Since; 412 -> StaleWriteError).
 *   Lists use the entity's archive with `updatedDate afterTime` for modifiedSince, `$top`/`$skip` pages behind
 *   an opaque cursor, and follow `odata.nextLink` within a page.
 * - check(): `User/currentPrincipal`, "authenticated as associate N (name)", and fails while a webhook of this
 *   app is not Active (TooManyErrors).
 */
import { CrmsyncError, InputError, WebhookAuthError } from '../../core/errors.ts';
import type { JsonObject, JsonValue } from '../../core/types.ts';
import type {
  Connector,
  ConnectorCheck,
  ConnectorContext,
  ConnectorFactory,
  ListPage,
  ListQuery,
  VendorRecord,
  VerifiedWebhook,
  WebhookRequest,
  WebhookResult,
  WebhookVerification,
  WriteRequest,
  WriteResult,
} from '../../ports/connector.ts';
import { getField, getId, isObject } from '../shared/casing.ts';
import { createOnce } from '../shared/create-once.ts';
import { SuperOfficeClient } from './client.ts';
import { SuperOfficeApi, entityTypeOf, parseVendorDate, versionOf } from './endpoints.ts';
import type { EntityType } from './endpoints.ts';
import { superOfficeOptionsSchema } from './options.ts';
import type { SuperOfficeOptions } from './options.ts';
import {
  TEST_EVENT_RESULT,
  isTestEvent,
  parseSuperOfficeWebhook,
  verifySuperOfficeWebhook,
} from './webhook.ts';
import type { WebhookAuth } from './webhook.ts';

export { superOfficeOptionsSchema } from './options.ts';
export type { SuperOfficeOptions } from './options.ts';
export { signSuperOfficeWebhook } from './webhook.ts';
export { SuperOfficeApi } from './endpoints.ts';
export { SuperOfficeClient } from './client.ts';

const KIND = 'superoffice';
/** Default and largest page of list(). [UNCONFIRMED] the vendor's maximum `$top`; 1000 per seed 001's pages. */
const DEFAULT_PAGE = 200;
const MAX_PAGE = 1_000;

/** Archive columns list() selects, per entity (archive names; the id column and updatedDate first). */
const LIST_COLUMNS: Readonly<Record<EntityType, readonly string[]>> = {
  Contact: ['contactId', 'updatedDate', 'name', 'department', 'orgNr'],
  Person: ['personId', 'updatedDate', 'firstname', 'lastname', 'contactId'],
  Sale: ['saleId', 'updatedDate', 'heading', 'amount', 'status'],
};

function requireEntity(name: string): EntityType {
  const entity = entityTypeOf(name);
  if (entity === null) {
    throw new InputError(
      'SUPEROFFICE_ENTITY_UNSUPPORTED',
      `The superoffice connector handles Contact, Person and Sale, not "${name}".`,
    );
  }
  return entity;
}

/** The record id of an entity body: `ContactId`, `PersonId` or `SaleId`. */
function entityId(entity: EntityType, body: JsonObject): string | undefined {
  return getId(body, `${entity}Id`);
}

/**
 * The list cursor: the `$skip` of the next page, base64url-encoded so callers treat it as opaque. Not the
 * vendor's nextLink: `$top` caps the whole result in OData, so a page of `limit` rows is `$top=limit` at an
 * offset, and nextLinks are followed inside one page when the vendor's own page is smaller than `limit`.
 */
function encodeCursor(skip: number): string {
  return Buffer.from(JSON.stringify({ skip }), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): number {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    const skip = isObject(parsed) ? parsed['skip'] : undefined;
    if (typeof skip === 'number' && Number.isInteger(skip) && skip >= 0) return skip;
  } catch {
    // fall through to the typed error
  }
  throw new InputError(
    'SUPEROFFICE_CURSOR_INVALID',
    'The list cursor is not one this connector issued; start the list again.',
  );
}

/** Archive datetime literal (no offset, UTC, second precision) for `afterTime`. */
function archiveTime(iso: string): string {
  const ms = parseVendorDate(iso);
  if (ms === null) throw new InputError('SUPEROFFICE_DATE_INVALID', `modifiedSince is not a date: "${iso}"`);
  return new Date(ms).toISOString().slice(0, 19);
}

/** The result of a write whose answer is the entity as stored. */
function written(entity: EntityType, id: string, stored: JsonObject): WriteResult {
  const version = versionOf(stored);
  return { id, version, record: { entityType: entity, id, fields: stored, version } };
}

/** A match value as an archive `$filter` literal: a number as it is, text single-quoted (`''` escapes). */
function archiveLiteral(column: string, value: JsonValue): string {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'string') return `'${value.replaceAll("'", "''")}'`;
  throw new InputError(
    'SUPEROFFICE_MATCH_INVALID',
    `A match compares archive columns with a number or a text; "${column}" is ${JSON.stringify(value)}.`,
  );
}

/** One SuperOffice connection. */
export class SuperOfficeConnector implements Connector {
  readonly kind = KIND;
  readonly connection: string;
  /** The WebAPI endpoints (for tools and flows that need more than read/write/list). */
  readonly api: SuperOfficeApi;
  readonly #options: SuperOfficeOptions;
  readonly #webhookAuth: WebhookAuth | null;

  constructor(context: ConnectorContext<SuperOfficeOptions>) {
    this.connection = context.connection;
    this.#options = context.options;
    this.api = new SuperOfficeApi(new SuperOfficeClient(context));
    const { webhookSecret, webhookToken, webhookTokenHeader } = context.options;
    this.#webhookAuth =
      webhookSecret !== undefined
        ? { mode: 'signature', secret: webhookSecret }
        : webhookToken !== undefined
          ? { mode: 'token', token: webhookToken, header: webhookTokenHeader }
          : null;
  }

  /** Verifies the signature or token; never calls the vendor API. */
  verifyWebhook(request: WebhookRequest): WebhookVerification {
    if (this.#webhookAuth === null) {
      throw new WebhookAuthError(
        `Connection "${this.connection}" has neither webhookSecret nor webhookToken configured; webhooks are refused.`,
        'WEBHOOK_NOT_CONFIGURED',
      );
    }
    try {
      verifySuperOfficeWebhook(request, this.#webhookAuth);
    } catch (error) {
      // The vendor test-posts on save and fails the registration unless it gets a 200. `webhook register`
      // may generate the secret the running server does not know yet; the test event queues nothing, so it
      // is answered 200 unverified. Every other event must verify.
      if (isTestEvent(request)) return { kind: 'handshake', reply: TEST_EVENT_RESULT.reply };
      throw error;
    }
    // Nothing but the body is read again: no header, and never the query, which may hold the token.
    return {
      kind: 'verified',
      webhook: { rawBody: request.rawBody, context: {}, receivedAt: request.receivedAt },
    };
  }

  parseWebhook(webhook: VerifiedWebhook): WebhookResult {
    return parseSuperOfficeWebhook(webhook.rawBody, this.connection);
  }

  async read(entityType: string, id: string): Promise<VendorRecord | null> {
    const entity = requireEntity(entityType);
    const body = await this.api.getEntity(entity, id);
    return body === null ? null : { entityType: entity, id, fields: body, version: versionOf(body) };
  }

  /**
   * Creates (POST) or patches a record and returns it as stored (both answers carry the entity). A create
   * with `match` is an upsert on those archive columns (../shared/create-once.ts).
   */
  async write(request: WriteRequest): Promise<WriteResult> {
    const entity = requireEntity(request.entityType);
    const { fields, match } = request;
    if (request.id !== undefined) {
      return this.#patch(entity, request.id, fields, request.expectedVersion ?? null);
    }
    if (match === undefined) return this.#create(entity, fields);
    return createOnce({
      entityType: entity,
      match,
      fields,
      find: () => this.#findMatching(entity, match),
      create: () => this.#create(entity, fields),
      update: (found) => this.#patch(entity, found.id, fields, null),
    });
  }

  async #create(entity: EntityType, fields: JsonObject): Promise<WriteResult> {
    const created = await this.api.createEntity(entity, fields);
    const id = entityId(entity, created);
    if (id === undefined) {
      throw new CrmsyncError('SUPEROFFICE_API_ERROR', `POST ${entity} answered without ${entity}Id.`, {
        retryable: false,
      });
    }
    return written(entity, id, created);
  }

  async #patch(
    entity: EntityType,
    id: string,
    fields: JsonObject,
    expected: string | null,
  ): Promise<WriteResult> {
    const condition = expected === null ? {} : { ifUnmodifiedSince: expected };
    return written(entity, id, await this.api.patchEntity(entity, id, fields, condition));
  }

  /**
   * The records whose archive columns equal `match` (`eq` terms joined by `and`; two rows are enough to tell
   * it is not unique), the only one read whole, as the create would have answered it.
   */
  async #findMatching(entity: EntityType, match: JsonObject): Promise<VendorRecord[]> {
    const filter = Object.entries(match)
      .map(([column, value]) => `${column} eq ${archiveLiteral(column, value)}`)
      .join(' and ');
    const ids: string[] = [];
    const idColumn = LIST_COLUMNS[entity][0] ?? `${entity.toLowerCase()}Id`;
    for await (const row of this.api.archiveRows(entity, { select: [idColumn], filter, top: 2 })) {
      ids.push(row.primaryKey);
    }
    const [only] = ids;
    if (ids.length !== 1 || only === undefined) {
      return ids.map((id) => ({ entityType: entity, id, fields: {}, version: null }));
    }
    const body = await this.api.getEntity(entity, only);
    return body === null ? [] : [{ entityType: entity, id: only, fields: body, version: versionOf(body) }];
  }

  async list(query: ListQuery): Promise<ListPage> {
    const entity = requireEntity(query.entityType);
    const limit = Math.min(MAX_PAGE, Math.max(1, query.limit ?? DEFAULT_PAGE));
    const skip = query.cursor === undefined ? 0 : decodeCursor(query.cursor);
    const columns = LIST_COLUMNS[entity];
    const records: VendorRecord[] = [];
    const rows = this.api.archiveRows(entity, {
      select: columns,
      // The id column breaks ties, so that pages do not overlap when many records share an UpdatedDate.
      orderBy: `updatedDate,${columns[0]}`,
      top: limit,
      skip,
      ...(query.modifiedSince !== undefined && {
        filter: `updatedDate afterTime '${archiveTime(query.modifiedSince)}'`,
      }),
    });
    for await (const row of rows) {
      records.push({
        entityType: entity,
        id: row.primaryKey,
        fields: row.columns,
        version: versionOf(row.columns),
      });
    }
    return { records, nextCursor: records.length < limit ? null : encodeCursor(skip + records.length) };
  }

  /**
   * The API user, and the state of the webhooks this app registered: one that is not Active (TooManyErrors
   * after repeated failed deliveries) delivers nothing, which fails the check with the way out.
   */
  async check(): Promise<ConnectorCheck> {
    try {
      const principal = await this.api.currentPrincipal();
      const associateId = getField(principal, 'AssociateId');
      const name = getField(principal, 'FullName') ?? getField(principal, 'Associate');
      const webhooks = await this.api.listWebhooks();
      const stopped = webhooks.filter((webhook) => webhook.State !== 'Active');
      const identity = `authenticated as associate ${String(associateId)} (${String(name)}) on ${this.#options.contextIdentifier}`;
      if (stopped.length > 0) {
        const list = stopped.map((webhook) => `${webhook.WebhookId} (${webhook.State})`).join(', ');
        return {
          ok: false,
          message: `${identity}; webhook ${list} delivers nothing: fix the receiver, then run "crmsync superoffice webhook activate ${this.connection} <id>"`,
        };
      }
      return { ok: true, message: `${identity}; ${webhooks.length} active webhook(s)` };
    } catch (error) {
      return { ok: false, message: (error as Error).message };
    }
  }

  /** The API user's associate id: the configured override, else the id_token's `associateid` claim. */
  async apiAssociateId(): Promise<number | null> {
    if (this.#options.apiAssociateId !== undefined) return this.#options.apiAssociateId;
    return (await this.api.client.session()).associateId;
  }

  close(): Promise<void> {
    return this.api.client.close();
  }
}

/** Registers the `superoffice` connector kind. */
export const superofficeConnector: ConnectorFactory<SuperOfficeOptions> = {
  kind: KIND,
  optionsSchema: superOfficeOptionsSchema,
  create: (context: ConnectorContext<SuperOfficeOptions>) => new SuperOfficeConnector(context),
};
