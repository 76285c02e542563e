/**
 * The `superoffice` connector: SuperOffice CRM Online through its REST WebAPI (see
 * /work/shared/reference/superoffice-api.md and seeds 000-002).
 *
 * - Webhooks: verified by signature (webhookSecret) or shared token (webhookToken), parsed into change events
 *   (./webhook.ts). One of the two must be configured for webhooks to be accepted.
 * - read/write/list of `Contact`, `Person` and `Sale`. The version token is `UpdatedDate` (ISO UTC). Writes
 *   are PATCH merge patches, conditional on the expected version (If-Unmodified-Since; 412 -> StaleWriteError).
 *   Lists use the entity's archive with `updatedDate afterTime` for modifiedSince (exclusive, whole seconds),
 *   ordered by (updatedDate, id), with a keyset cursor, and follow `odata.nextLink` within a page.
 * - check(): `User/currentPrincipal`, "authenticated as associate N (name)", and fails while a webhook of this
 *   app is not Active (TooManyErrors).
 */
import { CrmsyncError, InputError, WebhookAuthError } from '../../core/errors.ts';
import type { JsonObject, JsonValue } from '../../core/types.ts';
import type {
  CallOptions,
  Connector,
  ConnectorCapabilities,
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
import type { Clock } from '../../ports/clock.ts';
import type { EnrichTarget, EnrichTargetSettings } from '../../ports/enrich-target.ts';
import { withCallSignal } from '../shared/call-signal.ts';
import { getField, getId, isObject } from '../shared/casing.ts';
import { createOnce } from '../shared/create-once.ts';
import { SuperOfficeClient } from './client.ts';
import { SuperOfficeApi, entityTypeOf, parseVendorDate, versionOf } from './endpoints.ts';
import type { EntityType } from './endpoints.ts';
import { SuperOfficeEnrichTarget } from './enrich-target.ts';
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
 * The list cursor: a keyset, not an offset. `at` is the whole second of the last record returned, `id` its
 * id, `n` how many records of that second the scan returned so far. The next page asks for `updatedDate` at or
 * after `at` (`afterTime` one second earlier; the filter has only `and`, so "(same second and a later id) or
 * a later second" cannot be said) with `n` rows more than the page, and drops the rows of `at` up to `id`. A
 * record that changes during the scan moves behind the cursor instead of shifting the rows after it, so no
 * record is skipped (with `$skip`, each such change made the scan miss one record). Base64url-encoded so
 * callers treat it as opaque.
 */
interface ListCursor {
  readonly at: number;
  readonly id: number;
  readonly n: number;
}

function encodeCursor(cursor: ListCursor): string {
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): ListCursor {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (isObject(parsed)) {
      const { at, id, n } = parsed;
      if (
        [at, id, n].every((value) => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0)
      )
        return { at: at as number, id: id as number, n: n as number };
    }
  } catch {
    // fall through to the typed error
  }
  throw new InputError(
    'SUPEROFFICE_CURSOR_INVALID',
    'The list cursor is not one this connector issued; start the list again.',
  );
}

/** The whole second (epoch ms) of a record's version, or null without one. */
function secondOf(record: VendorRecord): number | null {
  const ms = record.version === null ? null : parseVendorDate(record.version);
  return ms === null ? null : Math.floor(ms / 1000) * 1000;
}

/** Whether `record` is at or before the cursor in the (second, id) order of the scan. */
function atOrBefore(record: VendorRecord, cursor: ListCursor): boolean {
  const second = secondOf(record);
  return second === null || second < cursor.at || (second === cursor.at && Number(record.id) <= cursor.id);
}

/** The cursor after `records` (the page, in scan order), continuing from `previous`. */
function cursorAfter(records: readonly VendorRecord[], previous: ListCursor | null): ListCursor | null {
  const last = records.at(-1);
  const at = last === undefined ? null : secondOf(last);
  if (last === undefined || at === null) return null;
  const sameSecond = records.filter((record) => secondOf(record) === at).length;
  return { at, id: Number(last.id), n: (previous?.at === at ? previous.n : 0) + sameSecond };
}

/** A record of the entity surface or an archive row; the version token is also its modification time. */
function recordOf(entityType: EntityType, id: string, fields: JsonObject): VendorRecord {
  const version = versionOf(fields);
  return { entityType, id, fields, version, ...(version !== null && { modifiedAt: version }) };
}

/** Archive datetime literal (no offset, UTC, second precision) for `afterTime`. */
function archiveTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

/** The result of a write whose answer is the entity as stored. */
function written(entity: EntityType, id: string, stored: JsonObject): WriteResult {
  const record = recordOf(entity, id, stored);
  return { id, version: record.version, record };
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

/** `updatedDate afterTime` for modifiedSince: strictly after its whole second (the vendor's semantics). */
function modifiedSinceFilter(iso: string): string {
  const ms = parseVendorDate(iso);
  if (ms === null) throw new InputError('SUPEROFFICE_DATE_INVALID', `modifiedSince is not a date: "${iso}"`);
  return `updatedDate afterTime '${archiveTime(ms)}'`;
}

/** What the WebAPI can do (reference §3.3, §4). */
const CAPABILITIES: ConnectorCapabilities = {
  records: true,
  // If-Unmodified-Since on PATCH: the vendor answers 412 itself.
  conditionalWrite: 'atomic',
  deletes: false,
  versionPerWrite: false,
  comparesOverwrittenValues: false,
  list: {
    // `updatedDate afterTime` is strictly after, on whole seconds (UpdatedDate has no fraction).
    modifiedSince: 'exclusive',
    modifiedGranularityMs: 1_000,
    order: 'modified',
    paging: 'keyset',
  },
};

/** One SuperOffice connection. */
export class SuperOfficeConnector implements Connector {
  readonly kind = KIND;
  readonly capabilities = CAPABILITIES;
  readonly connection: string;
  /** The WebAPI endpoints (for tools and flows that need more than read/write/list). */
  readonly api: SuperOfficeApi;
  readonly #options: SuperOfficeOptions;
  readonly #clock: Clock;
  readonly #webhookAuth: WebhookAuth | null;

  constructor(context: ConnectorContext<SuperOfficeOptions>) {
    this.connection = context.connection;
    this.#options = context.options;
    this.#clock = context.clock;
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

  read(entityType: string, id: string, options?: CallOptions): Promise<VendorRecord | null> {
    return withCallSignal(options?.signal, async () => {
      const entity = requireEntity(entityType);
      const body = await this.api.getEntity(entity, id);
      return body === null ? null : recordOf(entity, id, body);
    });
  }

  /**
   * Creates (POST) or patches a record and returns it as stored (both answers carry the entity). A create
   * with `match` is an upsert on those archive columns (../shared/create-once.ts).
   */
  write(request: WriteRequest, options?: CallOptions): Promise<WriteResult> {
    return withCallSignal(options?.signal, () => this.#write(request));
  }

  async #write(request: WriteRequest): Promise<WriteResult> {
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

  /** An archive search on the columns of `match`. */
  find(entityType: string, match: JsonObject, options?: CallOptions): Promise<VendorRecord[]> {
    return withCallSignal(options?.signal, () => this.#findMatching(requireEntity(entityType), match));
  }

  list(query: ListQuery, options?: CallOptions): Promise<ListPage> {
    return withCallSignal(options?.signal, () => this.#list(query));
  }

  async #list(query: ListQuery): Promise<ListPage> {
    const entity = requireEntity(query.entityType);
    const limit = Math.min(MAX_PAGE, Math.max(1, query.limit ?? DEFAULT_PAGE));
    const cursor = query.cursor === undefined ? null : decodeCursor(query.cursor);
    const columns = LIST_COLUMNS[entity];
    const filter =
      cursor !== null
        ? `updatedDate afterTime '${archiveTime(cursor.at - 1_000)}'`
        : query.modifiedSince !== undefined
          ? modifiedSinceFilter(query.modifiedSince)
          : undefined;
    const top = limit + (cursor?.n ?? 0);
    const rows = this.api.archiveRows(entity, {
      select: columns,
      // The id column breaks ties, so that the keyset is a total order when many records share a second.
      orderBy: `updatedDate,${columns[0]}`,
      top,
      ...(filter !== undefined && { filter }),
    });
    let fetched = 0;
    let more = false;
    const records: VendorRecord[] = [];
    for await (const row of rows) {
      fetched += 1;
      const record = recordOf(entity, row.primaryKey, row.columns);
      if (cursor !== null && atOrBefore(record, cursor)) continue;
      if (records.length < limit) records.push(record);
      else more = true;
    }
    // A full answer whose rows were all behind the cursor (records moved into its second): widen the next page.
    const next =
      fetched < top && !more
        ? null
        : (cursorAfter(records, cursor) ?? (cursor === null ? null : { ...cursor, n: cursor.n + limit }));
    return { records, nextCursor: next === null ? null : encodeCursor(next) };
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

  /** Enrichment results go into user-defined fields (./enrich-target.ts). */
  enrichTarget(settings: EnrichTargetSettings): EnrichTarget {
    return new SuperOfficeEnrichTarget(this, settings, this.#clock);
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
