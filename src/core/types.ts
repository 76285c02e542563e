/**
 * Core vocabulary of crmsync. Every module uses these words in the same sense (see DESIGN.md):
 *
 * - **connection**: one configured account of a connector (a SuperOffice tenant with its credentials, an
 *   EspoCRM instance, ...). Named in the config; the name appears in webhook URLs (`/webhooks/:connection`).
 * - **flow**: a configured job of the engine. A `sync` flow links records of two connections; an `enrich` flow
 *   reads a record, asks an enricher, and writes the result back to the same record.
 * - **record ref**: (connection, entity type, id): the address of one vendor record.
 * - **link**: a pair of record refs in a sync flow, with per side the base snapshot and the version token.
 * - **base snapshot**: the mapped canonical values of one side at the last successful sync.
 * - **version token**: the vendor's marker that changes with every write (Advoware `rowId`, EspoCRM
 *   `versionNumber` or `modifiedAt`, SuperOffice `UpdatedDate`), used to reject stale data.
 * - **change event**: what a webhook or a poll says happened to one record. A hint: the vendor's current
 *   state is the truth.
 * - **job**: one unit of queued work for one record ref in one flow. **run**: one attempt of a job, with its
 *   outcome and the field changes it wrote.
 * - **write ledger**: what the engine itself wrote, per record and field, so that the webhook echo of its own
 *   write is recognised without another API call.
 *
 * This module has no I/O and no dependencies; it is imported by ports, adapters and the engine alike.
 */

/** Any value that survives a JSON round trip unchanged. Queue payloads and snapshots are made of these. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };

/** Address of one vendor record: (connection, entity type, id). */
export interface RecordRef {
  /** Name of the connection as configured (e.g. `superoffice`, `espo-prod`). */
  readonly connection: string;
  /** The vendor's entity type, in the vendor's spelling (`Contact`, `CBeteiligte`, `Beteiligte`). */
  readonly entityType: string;
  /** The vendor's primary key, always as a string. */
  readonly id: string;
}

/** What kind of change a change event reports. `unknown` when the source does not say. */
export type ChangeKind = 'created' | 'updated' | 'deleted' | 'unknown';

/**
 * What a webhook or a poll says happened to one record. It is a hint: handlers re-read the vendor's current
 * state unless the event carries the full state with a newer version token.
 */
export interface ChangeEvent {
  /** The record the event is about. */
  readonly ref: RecordRef;
  /** What happened. */
  readonly kind: ChangeKind;
  /** The vendor's own event id, when it sends one. Used to recognise redeliveries. */
  readonly eventId?: string;
  /** The vendor's event name as sent (`contact.changed`, `CBeteiligte.update`), for display and filters. */
  readonly vendorEvent?: string;
  /** When the vendor says the change happened (ISO 8601), if it says. */
  readonly occurredAt?: string;
  /** Names of the changed fields or columns as the vendor sent them, if it lists them. */
  readonly changedFields?: readonly string[];
  /** Id of the user (associate) who made the change, if the vendor says; used by echo breakers. */
  readonly actorId?: string;
  /** Field values carried by the event (full or partial record state), if any. */
  readonly data?: JsonObject;
  /** The record's version token after the change, if the event carries it. */
  readonly version?: string;
}

/** Final outcome of one run. `FAILED` runs are retried by the queue until the job is DEAD. */
export type RunOutcome = 'COMPLETED' | 'SKIPPED' | 'FAILED' | 'CONFLICT';

/** One field written by a run, as shown to operators and stored in the run history. */
export interface FieldChange {
  /** The record that was written. */
  readonly ref: RecordRef;
  /** The vendor field name. */
  readonly field: string;
  /** Value before the write, as far as the engine knew it. */
  readonly before: JsonValue;
  /** Value written. */
  readonly after: JsonValue;
}

/** Formats a record ref as one stable string key: `connection/entityType/id`. Used for queue record keys. */
export function recordKey(ref: RecordRef): string {
  return `${ref.connection}/${ref.entityType}/${ref.id}`;
}

/** Parses a key made by {@link recordKey}. Ids may contain `/`; connection and entity type may not. */
export function parseRecordKey(key: string): RecordRef | null {
  const first = key.indexOf('/');
  const second = first < 0 ? -1 : key.indexOf('/', first + 1);
  if (first <= 0 || second <= first + 1 || second === key.length - 1) return null;
  return {
    connection: key.slice(0, first),
    entityType: key.slice(first + 1, second),
    id: key.slice(second + 1),
  };
}

/** A job's record key split into its parts. */
export interface JobRecordKey {
  readonly flow: string;
  readonly ref: RecordRef;
}

/**
 * The queue record key of a job: `${flow}|${connection}/${entityType}/${id}`. Keys are per flow, so two flows
 * fed by the same record never block each other.
 */
export function jobRecordKey(flow: string, ref: RecordRef): string {
  return `${flow}|${recordKey(ref)}`;
}

/** Parses a key made by {@link jobRecordKey}, or returns null. Flow names never contain `|`; ids may. */
export function parseJobRecordKey(key: string): JobRecordKey | null {
  const separator = key.indexOf('|');
  if (separator <= 0) return null;
  const ref = parseRecordKey(key.slice(separator + 1));
  return ref === null ? null : { flow: key.slice(0, separator), ref };
}
