/**
 * The `espocrm` connector: EspoCRM through its REST API (see /work/shared/reference/espocrm-api.md and seeds
 * 003-004, where it is the CRM side of the Advoware sync).
 *
 * - Webhooks: `Signature` (or legacy `X-Signature`) verified with the secretKey of the webhook id it names,
 *   the event of that webhook from the connector state or the URL's `?event=` (./webhook-events.ts), the
 *   batched array parsed into one change event per item (./webhook.ts). Never calls the vendor API.
 * - read/write/list of any entity type (`Account`, `Contact`, `CBeteiligte`, ...). The version token is
 *   `versionNumber` where the entity type has optimistic concurrency control, else `modifiedAt`.
 *   Creates are POSTs (duplicate check on unless the entity setting skips it); updates are PATCHes of the
 *   given fields, with `X-Version-Number` when the expected version is a version number (409 `modified` ->
 *   StaleWriteError with the current values).
 * - list(): `modifiedAt` ascending (the server adds `id` as the tie-breaker), `modifiedSince` as
 *   `modifiedAt >= since`, and a keyset cursor (last modifiedAt and id) instead of offsets, so records that
 *   change during a scan are neither skipped nor fatal: they reappear later in the order.
 * - check(): `App/user`, "authenticated as API user NAME".
 */
import { canonicalJson } from '../../core/canonical.ts';
import { InputError, WebhookAuthError, WebhookPayloadError } from '../../core/errors.ts';
import type { JsonObject } from '../../core/types.ts';
import type {
  CallOptions,
  Connector,
  ConnectorCapabilities,
  ConnectorCheck,
  ConnectorContext,
  ConnectorFactory,
  ListPage,
  ListQuery,
  OperatorNotice,
  VendorRecord,
  VerifiedWebhook,
  WebhookRequest,
  WebhookResult,
  WebhookVerification,
  WriteRequest,
  WriteResult,
} from '../../ports/connector.ts';
import { withCallSignal } from '../shared/call-signal.ts';
import { createOnce } from '../shared/create-once.ts';
import { EspoCrmClient } from './client.ts';
import { espoDateTimeToIso, parseEspoDateTime, toEspoDateTime } from './datetime.ts';
import { EspoCrmApi, TOTAL_NO_MORE, isVersionNumber, requireEntityType, versionOf } from './endpoints.ts';
import type { AppUser } from './endpoints.ts';
import { EspoCrmApiError, EspoCrmStaleWriteError } from './errors.ts';
import { ESPOCRM_MAX_PAGE_SIZE, entitySettings, espoCrmOptionsSchema } from './options.ts';
import type { EspoCrmOptions } from './options.ts';
import { EVENT_QUERY_PARAMETER, WebhookEventDirectory } from './webhook-events.ts';
import { parseEspoCrmWebhook, verifyEspoCrmWebhook } from './webhook.ts';
import { Where } from './where.ts';
import type { WhereItem } from './where.ts';

export { espoCrmEnv, espoCrmOptionsSchema } from './options.ts';
export type { EspoCrmOptions } from './options.ts';
export { EspoCrmApi } from './endpoints.ts';
export { EspoCrmClient } from './client.ts';
export { Where } from './where.ts';
export { signEspoCrmWebhook, signEspoCrmWebhookLegacy } from './webhook.ts';

const KIND = 'espocrm';

/** Where list() is in a scan: the last record returned, by (modifiedAt, id). */
interface ListCursor {
  readonly modifiedAt: string;
  readonly id: string;
}

function encodeCursor(cursor: ListCursor): string {
  return Buffer.from(JSON.stringify([cursor.modifiedAt, cursor.id]), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): ListCursor {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === 2) {
      const [modifiedAt, id] = parsed as unknown[];
      if (parseEspoDateTime(modifiedAt) !== null && typeof id === 'string' && id !== '') {
        return { modifiedAt: modifiedAt as string, id };
      }
    }
  } catch {
    // fall through to the typed error
  }
  throw new InputError(
    'ESPOCRM_CURSOR_INVALID',
    'The list cursor is not one this connector issued; start the list again.',
  );
}

/** `modifiedAt >= since`, in the vendor's second precision (a fraction of a second rounds down, so nothing is missed). */
function modifiedSinceFilter(since: string): WhereItem {
  const ms = Date.parse(since);
  if (Number.isNaN(ms)) {
    throw new InputError('ESPOCRM_DATE_INVALID', `modifiedSince is not an ISO 8601 date-time: "${since}"`);
  }
  const at = toEspoDateTime(ms);
  return Where.or(Where.after('modifiedAt', at), Where.equals('modifiedAt', at));
}

/** Records after the cursor in the (modifiedAt, id) order. `after` is a plain `>`, for strings too. */
function afterCursorFilter(cursor: ListCursor): WhereItem {
  return Where.or(
    Where.after('modifiedAt', cursor.modifiedAt),
    Where.and(Where.equals('modifiedAt', cursor.modifiedAt), Where.after('id', cursor.id)),
  );
}

/** What the REST API can do (reference §2, §3). */
const CAPABILITIES: ConnectorCapabilities = {
  records: true,
  // Atomic (409 `modified`) for entity types with optimistic concurrency control, whose version token is the
  // versionNumber; elsewhere the connector compares modifiedAt before the PATCH. The flag is the guarantee
  // that holds for every entity type.
  conditionalWrite: 'pre-check',
  deletes: false,
  versionPerWrite: false,
  // The compare before a PATCH checks the attributes it overwrites (versionNumber types: the server does).
  comparesOverwrittenValues: true,
  list: { modifiedSince: 'inclusive', modifiedGranularityMs: 1_000, order: 'modified', paging: 'keyset' },
};

/** A record as read or listed; its modification time is `modifiedAt` (UTC, whole seconds). */
function recordOf(entityType: string, id: string, fields: JsonObject): VendorRecord {
  const modifiedAt = espoDateTimeToIso(fields['modifiedAt']);
  return { entityType, id, fields, version: versionOf(fields), ...(modifiedAt !== null && { modifiedAt }) };
}

/**
 * Whether an attribute a partial update sends changed between the caller's read and now: only those are
 * overwritten by the PATCH, so only their change would be lost.
 */
function sentAttributeChanged(sent: JsonObject, read: JsonObject, now: JsonObject): boolean {
  // Attributes the caller's record does not hold (a sync's own status fields) it does not claim to know.
  return Object.keys(sent).some(
    (name) =>
      Object.hasOwn(read, name) && canonicalJson(read[name] ?? null) !== canonicalJson(now[name] ?? null),
  );
}

/** One EspoCRM connection. */
export class EspoCrmConnector implements Connector {
  readonly kind = KIND;
  readonly capabilities = CAPABILITIES;
  readonly connection: string;
  /** The API endpoints (for tools and flows that need more than read/write/list). */
  readonly api: EspoCrmApi;
  /** Which event each webhook delivers. */
  readonly webhookEvents: WebhookEventDirectory;
  readonly #options: EspoCrmOptions;
  #apiUser: Promise<AppUser> | null = null;

  constructor(context: ConnectorContext<EspoCrmOptions>) {
    this.connection = context.connection;
    this.#options = context.options;
    this.api = new EspoCrmApi(new EspoCrmClient(context), context.options);
    this.webhookEvents = new WebhookEventDirectory(context.state, context.connection, context.logger);
  }

  /** Verifies the signature; the webhook id it names and the URL's `?event=` are kept for parsing. */
  verifyWebhook(request: WebhookRequest): WebhookVerification {
    const secrets = this.#options.webhookSecrets;
    if (secrets === undefined) {
      throw new WebhookAuthError(
        `Connection "${this.connection}" has no webhookSecrets configured (ESPOCRM_WEBHOOK_SECRET); webhooks are refused.`,
        'WEBHOOK_NOT_CONFIGURED',
      );
    }
    const { webhookId } = verifyEspoCrmWebhook(request, secrets, {
      acceptLegacy: this.#options.acceptLegacySignature,
    });
    const queryEvent = request.query[EVENT_QUERY_PARAMETER];
    return {
      kind: 'verified',
      webhook: {
        rawBody: request.rawBody,
        context: { webhookId, ...(queryEvent !== undefined && { queryEvent }) },
        receivedAt: request.receivedAt,
      },
    };
  }

  /** Finds the webhook's event (see webhook-events.ts) and parses the batch; never calls the vendor API. */
  async parseWebhook(webhook: VerifiedWebhook): Promise<WebhookResult> {
    const { webhookId, queryEvent } = webhook.context;
    if (typeof webhookId !== 'string') throw new WebhookPayloadError('The delivery names no webhook id.');
    const event = await this.webhookEvents.resolve(
      webhookId,
      typeof queryEvent === 'string' ? queryEvent : undefined,
    );
    return { events: parseEspoCrmWebhook(webhook.rawBody, { connection: this.connection, event }) };
  }

  read(entityType: string, id: string, options?: CallOptions): Promise<VendorRecord | null> {
    return withCallSignal(options?.signal, async () => {
      const record = await this.api.get(entityType, id);
      return record === null ? null : recordOf(entityType, id, record);
    });
  }

  /**
   * Creates (POST) or updates (PATCH) a record and returns it as stored (both answers carry every
   * attribute). A create with `match` is an upsert on those attributes (../shared/create-once.ts).
   */
  write(request: WriteRequest, options?: CallOptions): Promise<WriteResult> {
    return withCallSignal(options?.signal, () => this.#write(request));
  }

  async #write(request: WriteRequest): Promise<WriteResult> {
    const { entityType, fields, match } = request;
    if (request.id !== undefined) {
      return this.#update(entityType, request.id, fields, request.expectedVersion ?? null, request.current);
    }
    if (match === undefined) return this.#create(entityType, fields);
    return createOnce({
      entityType,
      match,
      fields,
      find: () => this.#findMatching(entityType, match),
      create: () => this.#create(entityType, fields),
      update: (found) => this.#update(entityType, found.id, fields, null),
    });
  }

  async #create(entityType: string, fields: JsonObject): Promise<WriteResult> {
    const created = await this.api.create(entityType, fields, {
      skipDuplicateCheck: entitySettings(this.#options, entityType).skipDuplicateCheck,
    });
    const id = created['id'];
    if (typeof id !== 'string' || id === '') {
      throw new EspoCrmApiError(`POST ${entityType} answered without an id.`, {
        route: `POST ${entityType}`,
        status: 200,
        retryable: false,
      });
    }
    return this.#written(entityType, created);
  }

  async #update(
    entityType: string,
    id: string,
    fields: JsonObject,
    expected: string | null,
    current?: VendorRecord,
  ): Promise<WriteResult> {
    const compared = expected !== null && !isVersionNumber(expected);
    if (compared) await this.#checkModifiedAt(entityType, id, fields, expected, current);
    const updated = await this.api.update(entityType, id, fields, {
      ...(expected !== null && isVersionNumber(expected) && { versionNumber: Number(expected) }),
      // A write guarded by our own compare is not resent after a wait: the compare would be stale.
      ...(compared && { singleAttempt: true }),
    });
    return this.#written(entityType, { ...updated, id });
  }

  /** The result of a write whose answer is the record as stored. */
  #written(entityType: string, stored: JsonObject): WriteResult {
    const record = this.#record(entityType, stored);
    return { id: record.id, version: record.version, record };
  }

  /**
   * The records whose attributes equal `match` (`equals` filters; two are enough to tell it is not unique),
   * the only one read whole, as the create would have answered it.
   */
  async #findMatching(entityType: string, match: JsonObject): Promise<VendorRecord[]> {
    const where = Object.entries(match).map(([attribute, value]) => {
      if (typeof value === 'object' && value !== null) {
        throw new InputError(
          'ESPOCRM_MATCH_INVALID',
          `A match compares attributes with single values; "${attribute}" is ${JSON.stringify(value)}.`,
        );
      }
      return Where.equals(attribute, value);
    });
    const page = await this.api.list(
      requireEntityType(entityType),
      { where, select: ['id'], maxSize: 2 },
      { noTotal: true },
    );
    const found = page.list.map((fields) => this.#record(entityType, fields));
    const [only] = found;
    if (found.length !== 1 || only === undefined) return found;
    const whole = await this.api.get(entityType, only.id);
    return whole === null ? [] : [this.#record(entityType, { ...whole, id: only.id })];
  }

  /**
   * The expected version of an entity type without concurrency control is a `modifiedAt`. EspoCRM has no
   * conditional update for it, so the record is read and compared first. This narrows the lost-update window
   * to the time between the two calls; it does not close it (only `versionNumber` does, server-side), and a
   * change within the same second as the expected version is not seen (`modifiedAt` has second precision).
   */
  async #checkModifiedAt(
    entityType: string,
    id: string,
    fields: JsonObject,
    expected: string,
    read?: VendorRecord,
  ): Promise<void> {
    const current = await this.api.get(entityType, id);
    if (current === null) {
      throw new EspoCrmApiError(`${entityType} ${id} does not exist in EspoCRM.`, {
        route: `GET ${entityType}/:id`,
        status: 404,
      });
    }
    const version = versionOf(current);
    // `modifiedAt` has whole seconds: a save in the same second as the caller's read keeps the version, so
    // where the caller hands over its read, the attributes this update overwrites must be unchanged too.
    if (version === expected && (read === undefined || !sentAttributeChanged(fields, read.fields, current)))
      return;
    const currentValues: JsonObject = {};
    for (const name of Object.keys(fields)) currentValues[name] = current[name] ?? null;
    const versionNumber = current['versionNumber'];
    throw new EspoCrmStaleWriteError(
      { route: `PATCH ${entityType}/:id`, subject: `${entityType} ${id}` },
      currentValues,
      typeof versionNumber === 'number' ? versionNumber : null,
    );
  }

  /** `equals` filters on the attributes of `match`, the one match read whole. */
  find(entityType: string, match: JsonObject, options?: CallOptions): Promise<VendorRecord[]> {
    return withCallSignal(options?.signal, () => this.#findMatching(entityType, match));
  }

  list(query: ListQuery, options?: CallOptions): Promise<ListPage> {
    return withCallSignal(options?.signal, () => this.#list(query));
  }

  async #list(query: ListQuery): Promise<ListPage> {
    const entityType = requireEntityType(query.entityType);
    const limit = Math.min(
      ESPOCRM_MAX_PAGE_SIZE,
      Math.max(1, Math.floor(query.limit ?? this.#options.pageSize)),
    );
    const cursor = query.cursor === undefined ? null : decodeCursor(query.cursor);
    const where =
      cursor !== null
        ? [afterCursorFilter(cursor)]
        : query.modifiedSince !== undefined
          ? [modifiedSinceFilter(query.modifiedSince)]
          : [];
    const select = entitySettings(this.#options, entityType).select;
    const page = await this.api.list(
      entityType,
      {
        where,
        orderBy: 'modifiedAt',
        order: 'asc',
        maxSize: limit,
        ...(select !== undefined && { select: [...new Set(['id', 'modifiedAt', ...select])] }),
      },
      { noTotal: true },
    );
    const records = page.list.map((fields) => this.#record(entityType, fields));
    const last = page.list.at(-1);
    const done =
      last === undefined ||
      page.list.length < limit ||
      page.total === TOTAL_NO_MORE ||
      (page.total >= 0 && page.list.length >= page.total);
    return { records, nextCursor: done ? null : encodeCursor(this.#cursorAt(entityType, last)) };
  }

  async check(): Promise<ConnectorCheck> {
    try {
      const user = await this.apiUser();
      const type = user.type === null || user.type === 'api' ? '' : ` (type ${user.type}, not an API user)`;
      return {
        ok: true,
        message: `authenticated as API user ${user.userName} (id ${user.id})${type} at ${this.#options.baseUrl}`,
      };
    } catch (error) {
      this.#apiUser = null;
      return { ok: false, message: (error as Error).message };
    }
  }

  /** Who the API user is (`App/user`), asked once per connector; its id is the actor of the engine's own writes. */
  apiUser(): Promise<AppUser> {
    this.#apiUser ??= this.api.appUser().catch((error: unknown) => {
      this.#apiUser = null;
      throw error;
    });
    return this.#apiUser;
  }

  /**
   * An in-app Notification (`type: "Message"`) to the recipient, by default the API user itself. EspoCRM lets
   * only admins create notifications (reference §6): with an API user's credentials this throws
   * EspoCrmNotificationForbiddenError, which says what to change.
   */
  notify(notice: OperatorNotice, options?: CallOptions): Promise<void> {
    return withCallSignal(options?.signal, async () => {
      const userId = notice.recipient ?? (await this.apiUser()).id;
      await this.api.createNotification({ userId, message: notice.message });
    });
  }

  close(): Promise<void> {
    return this.api.client.close();
  }

  #record(entityType: string, fields: JsonObject): VendorRecord {
    const id = fields['id'];
    if (typeof id !== 'string' || id === '') {
      throw new EspoCrmApiError(`GET ${entityType} listed a record without an id.`, {
        route: `GET ${entityType}`,
        status: 200,
        retryable: false,
      });
    }
    return recordOf(entityType, id, fields);
  }

  #cursorAt(entityType: string, record: JsonObject): ListCursor {
    const modifiedAt = record['modifiedAt'];
    if (parseEspoDateTime(modifiedAt) === null) {
      throw new EspoCrmApiError(`GET ${entityType} listed a record without a readable modifiedAt.`, {
        route: `GET ${entityType}`,
        status: 200,
        retryable: false,
      });
    }
    return { modifiedAt: modifiedAt as string, id: record['id'] as string };
  }
}

/** Registers the `espocrm` connector kind. */
export const espocrmConnector: ConnectorFactory<EspoCrmOptions> = {
  kind: KIND,
  optionsSchema: espoCrmOptionsSchema,
  create: (context: ConnectorContext<EspoCrmOptions>) => new EspoCrmConnector(context),
};
