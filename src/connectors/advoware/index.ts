/**
 * The `advoware` connector: the advoware law-firm software through its REST API (see
 * /work/shared/reference/advoware-api.md and seeds 003/004).
 *
 * - Access: base URL from the vendor's configurator (connectorUrl over relayUrl), HMAC-SHA512 signed token
 *   request, Bearer token cached until `expiration_utc` (./auth.ts).
 * - read/write/list of `Beteiligte`. The version token is `rowId`, which changes with every write and is the
 *   only change marker advoware has (no timestamps, seed 004). Writes are read-modify-write PUTs with the
 *   rowId read back; `expectedVersion` is compared with the current rowId before the PUT (StaleWriteError).
 * - Kommunikationen are written through `.api` (the sync flow needs their own semantics), never deleted.
 * - Webhooks: advoware is polled; the simulator's optional signed change webhooks are accepted when
 *   `webhookSecret` is set (./webhook.ts).
 * - check(): a token and one cheap collection call.
 */
import { InputError, WebhookAuthError } from '../../core/errors.ts';
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
  VendorRecord,
  VerifiedWebhook,
  WebhookRequest,
  WebhookResult,
  WebhookVerification,
  WriteRequest,
  WriteResult,
} from '../../ports/connector.ts';
import type { Logger } from '../../ports/logger.ts';
import { withCallSignal } from '../shared/call-signal.ts';
import { getField } from '../shared/casing.ts';
import { createOnce, fieldsMatch } from '../shared/create-once.ts';
import { AdvowareClient } from './client.ts';
import { AdvowareApi } from './endpoints.ts';
import type { BeteiligterWrite } from './endpoints.ts';
import { advowareOptionsSchema } from './options.ts';
import type { AdvowareOptions } from './options.ts';
import { betNrOf, rowIdOf } from './records.ts';
import { BETEILIGTE_ENTITY, parseAdvowareWebhook, verifyAdvowareWebhook } from './webhook.ts';

export { advowareEnv, advowareOptionsSchema } from './options.ts';
export type { AdvowareOptions } from './options.ts';
export { AdvowareApi } from './endpoints.ts';
export { AdvowareClient } from './client.ts';
export { KOMM_KZ, guessKommKz } from './kommunikation.ts';
export type { Kommunikation, KommKz } from './kommunikation.ts';
export { signAdvowareWebhook } from './webhook.ts';
export { isNaturalPerson } from './records.ts';

const KIND = 'advoware';
/** Largest page list() asks for, whatever the caller's limit. [INF] No documented maximum (reference §6). */
const MAX_PAGE = 1_000;

function requireEntity(name: string): typeof BETEILIGTE_ENTITY {
  if (name.toLowerCase() !== BETEILIGTE_ENTITY.toLowerCase()) {
    throw new InputError(
      'ADVOWARE_ENTITY_UNSUPPORTED',
      `The advoware connector handles Beteiligte, not "${name}".`,
    );
  }
  return BETEILIGTE_ENTITY;
}

/** The list cursor: the `skip` of the next page, base64url-encoded so that callers treat it as opaque. */
function encodeSkip(skip: number): string {
  return Buffer.from(`skip:${skip}`, 'utf8').toString('base64url');
}

function decodeSkip(cursor: string): number {
  const match = /^skip:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (match === null) {
    throw new InputError(
      'ADVOWARE_CURSOR_INVALID',
      'The list cursor is not one this connector issued; start the list again.',
    );
  }
  return Number(match[1]);
}

/** The result of a write that was read back. */
function written(write: BeteiligterWrite): WriteResult {
  const record = {
    entityType: BETEILIGTE_ENTITY,
    id: write.betNr,
    fields: write.record,
    version: write.rowId,
  };
  return {
    id: write.betNr,
    version: write.rowId,
    record,
    ...(write.foreignChanges === true && { foreignChanges: true }),
  };
}

/** What the REST API can do (reference §4, §6; seed 004). */
const CAPABILITIES: ConnectorCapabilities = {
  records: true,
  // No conditional write at the vendor: the connector compares the rowId right before the PUT.
  conditionalWrite: 'pre-check',
  deletes: false,
  // rowId changes with every write (seed 004).
  versionPerWrite: true,
  // The whole record is PUT; a rowId check, not a value compare, proves it unchanged.
  comparesOverwrittenValues: false,
  // No change times at all: every scan lists everything and compares rowIds; paging is skip/take.
  list: { modifiedSince: 'unsupported', modifiedGranularityMs: 0, order: 'none', paging: 'offset' },
};

/** One advoware connection. */
export class AdvowareConnector implements Connector {
  readonly kind = KIND;
  readonly capabilities: ConnectorCapabilities;
  readonly connection: string;
  /** The API endpoints (for tools and flows: Kommunikationen, the person/company rule, raw lists). */
  readonly api: AdvowareApi;
  readonly #options: AdvowareOptions;
  readonly #logger: Logger;

  constructor(context: ConnectorContext<AdvowareOptions>) {
    this.connection = context.connection;
    this.#options = context.options;
    this.#logger = context.logger;
    this.api = new AdvowareApi(new AdvowareClient(context), {
      betNrField: context.options.betNrField,
      putChecksRowId: context.options.putChecksRowId,
      writeAnswersRowId: context.options.writeAnswersRowId,
    });
    // Where advoware checks the rowId itself (option putChecksRowId), a stale write is refused atomically.
    this.capabilities = context.options.putChecksRowId
      ? { ...CAPABILITIES, conditionalWrite: 'atomic' }
      : CAPABILITIES;
  }

  /** Verifies the optional change webhooks; refused unless webhookSecret is configured. */
  verifyWebhook(request: WebhookRequest): WebhookVerification {
    const secret = this.#options.webhookSecret;
    if (secret === undefined) {
      throw new WebhookAuthError(
        `Connection "${this.connection}" has no webhookSecret: advoware sends no webhooks and is normally polled. Set webhookSecret only for a sender that signs its change notices (such as the simulator).`,
        'WEBHOOK_NOT_CONFIGURED',
      );
    }
    verifyAdvowareWebhook(request, secret);
    return {
      kind: 'verified',
      webhook: { rawBody: request.rawBody, context: {}, receivedAt: request.receivedAt },
    };
  }

  parseWebhook(webhook: VerifiedWebhook): WebhookResult {
    return parseAdvowareWebhook(webhook.rawBody, this.connection);
  }

  /** Reads a Beteiligter; `fields` is the body as sent (with `kommunikation[]`), version its rowId. */
  read(entityType: string, id: string, options?: CallOptions): Promise<VendorRecord | null> {
    return withCallSignal(options?.signal, async () => {
      const entity = requireEntity(entityType);
      const body = await this.api.getBeteiligter(id);
      return body === null ? null : { entityType: entity, id, fields: body, version: rowIdOf(body) };
    });
  }

  /**
   * Creates (POST) or updates (read-modify-write PUT) a Beteiligter and returns it as read back.
   * `expectedVersion` is compared with the current rowId right before the PUT: advoware has no conditional
   * write, so this narrows but cannot close the window for a lost update. A create with `match` is an upsert
   * on those fields (../shared/create-once.ts); advoware cannot search, so the Beteiligte are scanned. When
   * the read-back after a create fails, the create still succeeded: its number is returned without a version.
   * Kommunikationen are not written here (their kind is read-only and they cannot be deleted): use
   * `api.createKommunikation` and `api.updateKommunikation`.
   */
  write(request: WriteRequest, options?: CallOptions): Promise<WriteResult> {
    return withCallSignal(options?.signal, () => this.#write(request));
  }

  async #write(request: WriteRequest): Promise<WriteResult> {
    requireEntity(request.entityType);
    if (getField(request.fields, 'kommunikation') !== undefined) {
      throw new InputError(
        'ADVOWARE_FIELD_UNSUPPORTED',
        'Kommunikationen cannot be written with the Beteiligter; use api.createKommunikation / api.updateKommunikation.',
      );
    }
    const { fields, match } = request;
    if (request.id !== undefined) {
      return written(
        await this.api.updateBeteiligter(request.id, fields, {
          ...(request.expectedVersion !== undefined && { expectedRowId: request.expectedVersion }),
          ...(request.current !== undefined && { current: request.current.fields }),
        }),
      );
    }
    if (match === undefined) return this.#create(fields);
    return createOnce({
      entityType: BETEILIGTE_ENTITY,
      match,
      fields,
      find: () => this.#findMatching(match),
      create: () => this.#create(fields),
      update: async (found) => written(await this.api.updateBeteiligter(found.id, fields)),
    });
  }

  async #create(fields: JsonObject): Promise<WriteResult> {
    const created = await this.api.createBeteiligter(fields);
    if (created.readBackError === undefined) return written(created);
    this.#logger.warn(
      { connection: this.connection, betNr: created.betNr, error: created.readBackError.message },
      'advoware created the Beteiligter but reading it back failed; its rowId is unknown until it is read again',
    );
    return { id: created.betNr, version: null };
  }

  /**
   * The Beteiligte whose fields equal `match`, from a scan of every page (advoware has no search, reference
   * §6); two are enough to tell it is not unique.
   */
  async #findMatching(match: JsonObject): Promise<VendorRecord[]> {
    const take = Math.min(MAX_PAGE, this.#options.listPageSize);
    const found: VendorRecord[] = [];
    for (let skip = 0; found.length < 2; skip += take) {
      const rows = await this.api.listBeteiligte({ skip, take });
      for (const fields of rows) {
        const id = betNrOf(fields, this.#options.betNrField);
        if (id !== undefined && fieldsMatch(fields, match)) {
          found.push({ entityType: BETEILIGTE_ENTITY, id, fields, version: rowIdOf(fields) });
        }
      }
      // A short page is the last; a page longer than asked for means the API ignored the paging.
      if (rows.length !== take) break;
    }
    return found;
  }

  /**
   * Lists Beteiligte page by page through `skip`/`take` ([UNCONFIRMED] paging). advoware has no change
   * timestamps (seed 004), so `modifiedSince` cannot filter: every record is listed and callers compare
   * rowIds with what they stored. An answer with more rows than asked for means the API ignored the paging;
   * it is returned whole as the last page.
   */
  /** advoware cannot search: the Beteiligte are listed page by page and compared, until two match. */
  find(entityType: string, match: JsonObject, options?: CallOptions): Promise<VendorRecord[]> {
    requireEntity(entityType);
    return withCallSignal(options?.signal, () => this.#findMatching(match));
  }

  list(query: ListQuery, options?: CallOptions): Promise<ListPage> {
    return withCallSignal(options?.signal, () => this.#list(query));
  }

  async #list(query: ListQuery): Promise<ListPage> {
    const entityType = requireEntity(query.entityType);
    const take = Math.min(MAX_PAGE, Math.max(1, query.limit ?? this.#options.listPageSize));
    const skip = query.cursor === undefined ? 0 : decodeSkip(query.cursor);
    const rows = await this.api.listBeteiligte({ skip, take });
    const records: VendorRecord[] = [];
    for (const fields of rows) {
      const id = betNrOf(fields, this.#options.betNrField);
      if (id === undefined) {
        this.#logger.warn(
          { connection: this.connection, field: this.#options.betNrField },
          'advoware listed a Beteiligter without an id field; skipped (check the option betNrField)',
        );
        continue;
      }
      records.push({ entityType, id, fields, version: rowIdOf(fields) });
    }
    if (rows.length > take) {
      this.#logger.warn(
        { connection: this.connection, asked: take, got: rows.length },
        'advoware ignored skip/take paging; the whole list is one page',
      );
      return { records, nextCursor: null };
    }
    return { records, nextCursor: rows.length < take ? null : encodeSkip(skip + rows.length) };
  }

  /** A token, then one cheap call (one row of the collection). Never throws. */
  async check(): Promise<ConnectorCheck> {
    const { user, kanzlei, database } = this.#options;
    try {
      const discovery = await this.api.client.auth.discovery();
      await this.api.client.session();
      const rows = await this.api.listBeteiligte({ skip: 0, take: 1 });
      const sample = rows.length === 0 ? 'no Beteiligte yet' : 'Beteiligte readable';
      return {
        ok: true,
        message: `authenticated as ${user} on Kanzlei ${kanzlei} (database ${database}) via ${discovery.source} ${discovery.apiBaseUrl}; ${sample}`,
      };
    } catch (error) {
      return { ok: false, message: (error as Error).message };
    }
  }

  close(): Promise<void> {
    return this.api.client.close();
  }
}

/** Registers the `advoware` connector kind. */
export const advowareConnector: ConnectorFactory<AdvowareOptions> = {
  kind: KIND,
  optionsSchema: advowareOptionsSchema,
  create: (context: ConnectorContext<AdvowareOptions>) => new AdvowareConnector(context),
};
