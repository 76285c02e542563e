import type { ChangeEvent, JsonObject, JsonValue } from '../core/types.ts';
import type { ZodType } from 'zod';
import type { ApiBudgets } from './api-budget.ts';
import type { Clock } from './clock.ts';
import type { CallOptions } from './call-options.ts';
import type { EnrichTarget, EnrichTargetSettings } from './enrich-target.ts';
import type { Logger } from './logger.ts';
import type { ConnectorStateRepository } from './store.ts';

// Its own module, so that the enrich target port can take it without importing this one back.
export type { CallOptions } from './call-options.ts';

/**
 * A connector talks to one vendor system for one connection: it verifies and parses the vendor's webhooks
 * into change events, and reads, writes and lists records through the vendor API. One folder per vendor in
 * src/connectors, each with the same file roles (client, auth, webhook, mapping, simulator, tools).
 *
 * This is the first shape of the port; sync and enrich flows add to it without changing these methods.
 */
export interface Connector {
  /** The connector kind (`superoffice`, `espocrm`, `advoware`, `generic`). */
  readonly kind: string;
  /** The connection this instance serves. */
  readonly connection: string;
  /**
   * What the vendor's API can do, as data: flows read these flags instead of guessing per vendor (or checking
   * a connector's class). The connector contract suite (`test/contract/connector.contract.ts`) checks every
   * flag against the vendor's simulator.
   */
  readonly capabilities: ConnectorCapabilities;

  /**
   * Verifies a webhook on its raw bytes (constant-time compare). Throws WebhookAuthError (401) when the
   * signature or token is wrong or missing: nothing is stored then. Returns the delivery as
   * {@link Connector.parseWebhook} needs it, or a handshake answered without verification. Must not call the
   * vendor API: webhooks are answered fast and processed later.
   */
  verifyWebhook(request: WebhookRequest): WebhookVerification | Promise<WebhookVerification>;

  /**
   * Parses a verified webhook into change events. Throws WebhookPayloadError (or another non-retryable
   * error) when the content cannot be taken: the server then stores the delivery as a dead letter, answers
   * 2xx, and replaying the dead letter calls this again with the stored {@link VerifiedWebhook}. So it may
   * read nothing of the request but what `verifyWebhook` put into the VerifiedWebhook. A retryable error
   * (the store is unreachable) is answered 503 instead, so the vendor sends the webhook again.
   */
  parseWebhook(webhook: VerifiedWebhook): WebhookResult | Promise<WebhookResult>;

  /**
   * Reads one record, or null when it does not exist (or is deleted). The version is the one {@link write}
   * returned for the record's last write (read-after-write).
   */
  read(entityType: string, id: string, options?: CallOptions): Promise<VendorRecord | null>;

  /**
   * Writes fields of one record (creates it when `id` is absent; with `match`, a create is an upsert).
   * Connectors whose vendor replaces whole records do read-modify-write inside. Returns the record's new
   * version token (re-read where the write does not return it) and the record as the vendor stored it where
   * the vendor returns or re-reads it. A create that was sent but got no usable answer throws
   * VendorWriteAmbiguousError (`VENDOR_WRITE_AMBIGUOUS`, retryable) unless `match` finds what it created.
   */
  write(request: WriteRequest, options?: CallOptions): Promise<WriteResult>;

  /**
   * Lists records page by page (for the reconciler and backfills), oldest modification first where
   * {@link ListCapabilities.order} says so. How `modifiedSince` filters and what a scan sees of records that
   * change while it pages are declared in {@link ConnectorCapabilities.list}.
   */
  list(query: ListQuery, options?: CallOptions): Promise<ListPage>;

  /**
   * The records whose vendor fields equal every value of `match` (the lookup behind an upsert's
   * {@link WriteRequest.match}), at most two: enough to tell one from several. Where the vendor cannot search
   * (advoware) the list is read and compared, so this can cost a request per page of the entity type.
   */
  find(entityType: string, match: JsonObject, options?: CallOptions): Promise<VendorRecord[]>;

  /** Checks credentials and reachability for `crmsync doctor`; never throws. */
  check(): Promise<ConnectorCheck>;

  /** Frees sockets and timers. */
  close(): Promise<void>;

  /**
   * The vendor side of an `enrich` flow on this connection, for connectors whose vendor can be enriched
   * (SuperOffice); absent otherwise. Flows get it here, never by checking the connector's class.
   */
  enrichTarget?(settings: EnrichTargetSettings): EnrichTarget;

  /**
   * Delivers a notice to the people who work in the vendor's system (a sync conflict, a record that failed for
   * good), for connectors whose vendor has notifications (EspoCRM); absent otherwise. Throws the vendor's
   * error when the notice was not delivered; callers log it and go on (a notice never fails a sync).
   */
  notify?(notice: OperatorNotice, options?: CallOptions): Promise<void>;
}

/** A message for the people who use a connection's system. */
export interface OperatorNotice {
  /** The text; Markdown where the vendor renders it (EspoCRM). */
  readonly message: string;
  /** The recipient in the vendor's terms (EspoCRM: a user id); absent: the connector's default recipient. */
  readonly recipient?: string;
}

/**
 * What a connector's vendor API can do (in the spirit of a database dialect's adapter flags). Flows decide by
 * these values; `test/contract/connector.contract.ts` proves each one against the vendor's simulator.
 */
export interface ConnectorCapabilities {
  /** False for a webhook-only source (`generic`): read, write and list reject with UnsupportedOperationError. */
  readonly records: boolean;
  /**
   * How `write` honours `expectedVersion`: `atomic` (the vendor refuses a stale write itself: SuperOffice
   * If-Unmodified-Since, EspoCRM versionNumber), `pre-check` (the connector reads and compares right before
   * writing; a change in between is lost), `none` (ignored).
   */
  readonly conditionalWrite: 'atomic' | 'pre-check' | 'none';
  /** Whether the connector can delete records through the vendor API (no connector deletes yet). */
  readonly deletes: boolean;
  /**
   * Whether every write gives the record a new version token, whatever the time (advoware's `rowId`), so that
   * an unchanged token proves an unchanged record. Not so for tokens that are modification times with whole
   * seconds (EspoCRM's `modifiedAt`, SuperOffice's `Updated`): two saves in one second share one. A sync run
   * may skip reading such a side when only the other side changed: its guarded write proves it unchanged.
   */
  readonly versionPerWrite: boolean;
  /**
   * Whether a guarded update that is handed the record it is based on (`WriteRequest.current`) is refused when
   * an attribute it overwrites no longer has that record's value, also within one unit of a coarse version
   * token (EspoCRM's partial PATCH after its compare). A sync run may then skip reading that side when only the
   * other side changed, handing over the link's last state as `current`.
   */
  readonly comparesOverwrittenValues: boolean;
  readonly list: ListCapabilities;
}

/** How {@link Connector.list} behaves. */
export interface ListCapabilities {
  /**
   * What `modifiedSince` does at the vendor: `inclusive` (records modified at or after it), `exclusive`
   * (strictly after it, at the vendor's granularity: a record saved in the same unit as `modifiedSince` is
   * left out), `unsupported` (ignored: every record is listed). Scans add an overlap window where it is not
   * inclusive (`src/engine/scan-window.ts`).
   */
  readonly modifiedSince: 'inclusive' | 'exclusive' | 'unsupported';
  /** The unit modification times are kept in, in ms (1000: whole seconds); 0 where there are none. */
  readonly modifiedGranularityMs: number;
  /** `modified`: oldest modification first (ties by id), so a checkpoint can follow a scan; `none`: unspecified. */
  readonly order: 'modified' | 'none';
  /**
   * `keyset`: the cursor names the last record returned, so a record that changes during a scan moves behind
   * the cursor (it is listed again later, at its new place) and none is skipped. `offset`: the cursor is a
   * position; a record that moves during the scan can make the rows after it shift, so one may be skipped or
   * listed twice by that scan.
   */
  readonly paging: 'keyset' | 'offset';
}

/** An incoming webhook as received: raw bytes, never re-serialised JSON. */
export interface WebhookRequest {
  /** Request headers, lower-cased names. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The body exactly as received; signatures are computed over these bytes. */
  readonly rawBody: Buffer;
  /** Query string parameters (some vendors put a shared token there). */
  readonly query: Readonly<Record<string, string>>;
  /** When the server received it (epoch ms). */
  readonly receivedAt: number;
}

/** What {@link Connector.verifyWebhook} found. */
export type WebhookVerification =
  | { readonly kind: 'verified'; readonly webhook: VerifiedWebhook }
  /**
   * A vendor handshake that is answered as is, without verification and without storing anything (the
   * SuperOffice test event sent on save, before the server may know the new secret).
   */
  | { readonly kind: 'handshake'; readonly reply: WebhookReply };

/**
 * A webhook whose signature or token verified: what {@link Connector.parseWebhook} reads. A dead letter stores
 * it as JSON, so `context` holds no secret (no token, no signature) and only JSON values.
 */
export interface VerifiedWebhook {
  /** The body exactly as received. */
  readonly rawBody: Buffer;
  /**
   * What parsing needs besides the body, chosen by the connector: header values such as the content type,
   * query parameters such as EspoCRM's `event`, what the signature named (EspoCRM's webhook id).
   */
  readonly context: JsonObject;
  /** When the server received it (epoch ms). */
  readonly receivedAt: number;
}

/** A status (and body) a vendor insists on. */
export interface WebhookReply {
  readonly status: number;
  readonly body?: JsonValue;
}

/** What a connector makes of a webhook. */
export interface WebhookResult {
  /** Change events to queue; may be empty (e.g. a vendor's test ping). */
  readonly events: readonly ChangeEvent[];
  /**
   * A vendor-specific answer, sent once the events are stored: a handshake body, or a status the vendor
   * insists on (SuperOffice counts anything but 200 as a failed delivery). Without a body the usual summary
   * is sent. Default: 202 with the summary.
   */
  readonly reply?: WebhookReply;
}

/** One record as read from a vendor. */
export interface VendorRecord {
  readonly entityType: string;
  readonly id: string;
  /** Field values in the vendor's own names and encodings. */
  readonly fields: JsonObject;
  /** The version token: changes with every write of the record (rowId, versionNumber, UpdatedDate). */
  readonly version: string | null;
  /**
   * When the vendor last changed the record (ISO 8601 UTC), where the vendor keeps it; scans place their
   * checkpoint on it. Absent for vendors without change times (Advoware).
   */
  readonly modifiedAt?: string;
}

/** Arguments of {@link Connector.write}. */
export interface WriteRequest {
  readonly entityType: string;
  /** Absent to create. */
  readonly id?: string;
  /** Only the fields to change, in vendor names. */
  readonly fields: JsonObject;
  /** When given, the write fails with StaleWriteError if the record's version differs (where supported). */
  readonly expectedVersion?: string | null;
  /**
   * Makes a create (no `id`) an upsert, so that it is never doubled: vendor field values that identify the
   * record, such as an external id field (`{ cExternalId: 'advo-4711' }`), all compared for equality. The
   * connector looks for the record first and writes `fields` to it when it exists (an update, skipped when it
   * holds those values already); it creates only when none matches. When the create gets no usable answer (VENDOR_WRITE_AMBIGUOUS), it looks again instead
   * of repeating it, and returns the record it finds. More than one match is an error (WRITE_MATCH_NOT_UNIQUE).
   * Field names are what the vendor can search by: EspoCRM attributes, SuperOffice archive columns (`orgNr`,
   * `contactUdef/SuperOffice:1`), advoware Beteiligte fields (no search: the list is read and compared).
   * Ignored when `id` is given.
   */
  readonly match?: JsonObject;
  /**
   * The record as the caller read it (with `id` and `expectedVersion`): a connector that compares before
   * writing (EspoCRM without `versionNumber`, whose `modifiedAt` token has whole seconds) reads the record
   * again and refuses the write (StaleWriteError) when its data differs from `current`, not only when the
   * version token does: a save in the same second as the caller's read is not overwritten.
   */
  readonly current?: VendorRecord;
}

/** Outcome of {@link Connector.write}. */
export interface WriteResult {
  readonly id: string;
  readonly version: string | null;
  /**
   * The record as the vendor stored it, where the write answer carries it or the connector read it back;
   * absent when neither happened (e.g. advoware's read-back after a create failed: the id is known, the
   * record is not).
   */
  readonly record?: VendorRecord;
  /**
   * True when the connector read the record back after the write and found more changed than it wrote
   * (someone saved between the write and the read-back): `version` and `record` are then that later state,
   * not the one this write produced, so they must not stand for it (a sync keeps no version, and the next
   * change check reads the record).
   */
  readonly foreignChanges?: boolean;
}

/** Arguments of {@link Connector.list}. */
export interface ListQuery {
  readonly entityType: string;
  /** Opaque cursor from the previous page; absent for the first. */
  readonly cursor?: string;
  /**
   * Only records modified after this time (ISO 8601), as {@link ListCapabilities.modifiedSince} declares:
   * at or after it (`inclusive`), strictly after it at the vendor's granularity (`exclusive`), or ignored.
   */
  readonly modifiedSince?: string;
  /** Page size; the connector caps it to the vendor's limit. */
  readonly limit?: number;
}

/** One page of {@link Connector.list}. */
export interface ListPage {
  readonly records: readonly VendorRecord[];
  /** Cursor of the next page, or null after the last. */
  readonly nextCursor: string | null;
}

/** Result of {@link Connector.check}. */
export interface ConnectorCheck {
  readonly ok: boolean;
  /** One line for the operator, e.g. "authenticated as API user 528" or why it failed. */
  readonly message: string;
}

/** Counts vendor API calls (exported as Prometheus metrics by the server). */
export interface ApiCallRecorder {
  /** Records one call: the route template (not the concrete URL, to bound cardinality) and the status. */
  record(call: {
    connection: string;
    route: string;
    method: string;
    status: number | 'error';
    durationMs: number;
  }): void;
}

/** What a connector factory gets. */
export interface ConnectorContext<Options> {
  /** The connection name. */
  readonly connection: string;
  /** The connection's options, validated by the factory's schema, secrets resolved. */
  readonly options: Options;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly apiCalls: ApiCallRecorder;
  /** Where to cache tokens and discovered values. */
  readonly state: ConnectorStateRepository;
  /**
   * The vendor API budgets (token bucket and 429 pause per connection), shared by every connector and caller
   * of the process, or across instances with a shared implementation. Absent: the connector keeps one of its
   * own, in process.
   */
  readonly apiBudgets?: ApiBudgets;
}

/** Registers a connector kind: its option schema and how to build an instance. */
export interface ConnectorFactory<Options = unknown> {
  readonly kind: string;
  /** Validates the connection's `options` in the config (zod); problems are reported with their path. */
  readonly optionsSchema: ZodType<Options>;
  create(context: ConnectorContext<Options>): Connector;
}
