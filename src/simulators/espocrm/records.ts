/**
 * The record service: every create, update and delete goes through here, whoever makes it (an API request,
 * or a human user played through `/_sim/act/...`). It filters and checks the input, applies the e-mail and
 * phone semantics, runs the duplicate check and optimistic concurrency, stamps the system fields, stores the
 * record and reports the change to its listeners (webhook events, stream notes) with the attributes that
 * really changed. Deletes are soft, as the vendor's are.
 *
 * [UNCONFIRMED] choices: a create leaves `modifiedById` null (the vendor stamps it on updates only); every
 * update is a save, so `modifiedAt` and `versionNumber` move even when no value changed, as the vendor's
 * before-save hooks do.
 */
import type { Clock } from '../../ports/clock.ts';
import type { JsonObject } from '../../core/types.ts';
import { applyCommunicationInput, communicationAttributes, storedEntries } from './communication.ts';
import type { CommField } from './communication.ts';
import { checkVersion } from './concurrency.ts';
import { findDuplicates } from './duplicates.ts';
import { entityDef } from './entity-defs.ts';
import type { EntityDef, EntityType } from './entity-defs.ts';
import { EspoHttpError, badRequest, notFound } from './errors.ts';
import { checkInput, writableInput } from './input.ts';
import type { EspoCrmQuirks } from './quirks.ts';
import { outputReader, renderRecord } from './render.ts';
import type { OutputReader, RecordOutput, RenderContext } from './render.ts';
import type { StoredRecord } from './state.ts';
import type { SimUser } from './users.ts';
import type { IdGenerator } from './values.ts';
import { formatDateTime, isJsonObject, jsonEqual } from './values.ts';

/** One change of a record, as listeners see it. Records are rendered (read output). */
export type RecordChange =
  | { kind: 'create'; entityType: EntityType; id: string; actor: SimUser; after: JsonObject }
  | {
      kind: 'update';
      entityType: EntityType;
      id: string;
      actor: SimUser;
      before: JsonObject;
      after: JsonObject;
      /** The attributes that changed (the vendor's update payload without `id`). */
      changed: JsonObject;
    }
  | { kind: 'delete'; entityType: EntityType; id: string; actor: SimUser };

/** Options of one write. */
export interface WriteOptions {
  /** `X-Skip-Duplicate-Check: true` (the body flag `_skipDuplicateCheck` is read here too). */
  readonly skipDuplicateCheck?: boolean;
  /** `X-Version-Number` of an update. */
  readonly versionNumber?: number | undefined;
  /** No listeners are told (seeded background data). */
  readonly silent?: boolean;
  /** Record time (epoch ms) instead of the clock's now (seeded data). */
  readonly at?: number;
}

/** Attributes a change never reports (SRC `Core/Webhook/Manager.php` skip list; `modifiedBy` is a field there). */
const UNREPORTED = new Set([
  'isFollowed',
  'isStarred',
  'followersIds',
  'followersNames',
  'modifiedAt',
  'streamUpdatedAt',
  'versionNumber',
]);

/** Attributes the vendor counts as changed whenever they are written (they are never fetched). */
const ALWAYS_CHANGED_WHEN_WRITTEN = ['emailAddressData', 'phoneNumberData'];

const COMM_FIELDS: readonly CommField[] = ['emailAddress', 'phoneNumber'];

/** Dependencies of {@link RecordService}. */
export interface RecordServiceOptions extends RenderContext {
  readonly clock: Clock;
  readonly ids: IdGenerator;
  /** Receives every non-silent change. */
  readonly listener: (change: RecordChange) => void;
}

function skipDuplicateFlag(body: JsonObject, options: WriteOptions): boolean {
  const flag = body._skipDuplicateCheck;
  return options.skipDuplicateCheck === true || flag === true || flag === 'true';
}

/** Creates, reads, updates and deletes records. */
export class RecordService {
  readonly #options: RecordServiceOptions;

  constructor(options: RecordServiceOptions) {
    this.#options = options;
  }

  get #quirks(): EspoCrmQuirks {
    return this.#options.quirks();
  }

  /** The stored record, unless missing or deleted. */
  find(entityType: EntityType, id: string): StoredRecord | undefined {
    const record = this.#options.state.table(entityType).get(id);
    return record === undefined || record.deleted === true ? undefined : record;
  }

  /** The read output of a stored record. */
  render(entityType: EntityType, record: StoredRecord): RecordOutput {
    return renderRecord(entityDef(entityType), record, this.#options);
  }

  /** Reads single output attributes of records of `entityType` (list filters and ordering). */
  outputReader(entityType: EntityType): OutputReader {
    return outputReader(entityDef(entityType), this.#options);
  }

  /** `GET /{T}/{id}`: 404 `Record {id} does not exist.` when missing or deleted. */
  read(entityType: EntityType, id: string): RecordOutput {
    const record = this.find(entityType, id);
    if (record === undefined) throw notFound(`Record ${id} does not exist.`);
    return this.render(entityType, record);
  }

  #stored(entityType: EntityType, id: string): StoredRecord {
    const record = this.find(entityType, id);
    if (record === undefined) throw notFound(`Record ${id} not found.`);
    return record;
  }

  #duplicateCheck(def: EntityDef, candidate: StoredRecord, excludeId?: string): void {
    const matches = findDuplicates(this.#options.state, def, candidate, excludeId);
    if (matches.length > 0)
      throw new EspoHttpError(409, 'duplicate', {
        body: matches.map((match) => this.render(def.name, match)),
      });
  }

  /** Input checked and cast, with the communication attributes worked out against `current`. */
  #prepare(def: EntityDef, body: unknown, current: StoredRecord, isCreate: boolean) {
    if (!isJsonObject(body)) throw badRequest('Bad request data.');
    const input = writableInput(def, body);
    const coerced = checkInput(def, input, (values) => ({ ...current, ...values }), isCreate);
    const candidate: StoredRecord = { ...current, ...coerced };
    for (const field of COMM_FIELDS) {
      const entries = applyCommunicationInput(field, def, storedEntries(field, current), input);
      if (entries !== undefined) Object.assign(candidate, communicationAttributes(field, entries));
    }
    return { input, candidate };
  }

  /** `POST /{T}`: the created record's read output. */
  create(entityType: EntityType, body: unknown, actor: SimUser, options: WriteOptions = {}): RecordOutput {
    const def = entityDef(entityType);
    const defaults: StoredRecord = { deleted: false };
    for (const field of def.fields) if (field.default !== undefined) defaults[field.name] = field.default;
    for (const field of COMM_FIELDS) Object.assign(defaults, communicationAttributes(field, []));
    const { candidate } = this.#prepare(def, body, defaults, true);
    if (this.#quirks.duplicateCheck[entityType] && !skipDuplicateFlag(body as JsonObject, options))
      this.#duplicateCheck(def, candidate);
    const ms = options.at ?? this.#options.clock.now();
    const now = formatDateTime(ms);
    const table = this.#options.state.table(entityType);
    let id = this.#options.ids.next(ms);
    // Seeded ids repeat when the demo data is added twice; a live generator practically never collides.
    while (table.has(id)) id = this.#options.ids.next(ms);
    const record: StoredRecord = {
      id,
      ...candidate,
      createdAt: now,
      modifiedAt: now,
      createdById: actor.id,
      modifiedById: null,
      assignedUserId: candidate.assignedUserId ?? null,
      versionNumber: 1,
    };
    table.set(id, record);
    const after = this.render(entityType, record);
    if (options.silent !== true) this.#options.listener({ kind: 'create', entityType, id, actor, after });
    return after;
  }

  /** `PUT`/`PATCH /{T}/{id}` (both partial): the updated record's read output. */
  update(
    entityType: EntityType,
    id: string,
    body: unknown,
    actor: SimUser,
    options: WriteOptions = {},
  ): RecordOutput {
    const def = entityDef(entityType);
    const stored = this.#stored(entityType, id);
    const { input, candidate } = this.#prepare(def, body, stored, false);
    const before = this.render(entityType, stored);
    if (this.#quirks.optimisticConcurrency[entityType] && options.versionNumber !== undefined)
      checkVersion({
        def,
        versionNumber: options.versionNumber,
        stored,
        current: before,
        candidate,
        written: new Set(Object.keys(input)),
      });
    if (this.#quirks.updateDuplicateCheck[entityType] && !skipDuplicateFlag(body as JsonObject, options))
      this.#duplicateCheck(def, candidate, id);
    const version = typeof stored.versionNumber === 'number' ? stored.versionNumber : 0;
    const record: StoredRecord = {
      ...candidate,
      modifiedAt: formatDateTime(options.at ?? this.#options.clock.now()),
      modifiedById: actor.id,
      versionNumber: version + 1,
    };
    this.#options.state.table(entityType).set(id, record);
    const after = this.render(entityType, record);
    const changed: JsonObject = {};
    for (const [attribute, value] of Object.entries(after)) {
      if (UNREPORTED.has(attribute)) continue;
      const written = ALWAYS_CHANGED_WHEN_WRITTEN.includes(attribute) && Object.hasOwn(input, attribute);
      if (written || !jsonEqual(before[attribute], value)) changed[attribute] = value;
    }
    if (options.silent !== true)
      this.#options.listener({ kind: 'update', entityType, id, actor, before, after, changed });
    return after;
  }

  /** `DELETE /{T}/{id}`: marks the record deleted. */
  delete(entityType: EntityType, id: string, actor: SimUser, options: WriteOptions = {}): void {
    const stored = this.#stored(entityType, id);
    this.#options.state.table(entityType).set(id, { ...stored, deleted: true });
    if (options.silent !== true) this.#options.listener({ kind: 'delete', entityType, id, actor });
  }
}
