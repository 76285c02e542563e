/**
 * Every change of a record goes through here, whoever makes it (an API call with a token, or a human user
 * played through `/_sim/act/...`): the record is written with UpdatedDate/UpdatedBy, the change is reported
 * to the webhook hub as the vendor would (`<entity>.created|changed|deleted`, `Changes` as DB column names,
 * `ChangedByAssociateId` of the acting user, FieldValues), and the state is marked dirty for persistence.
 */
import type { Clock } from '../../ports/clock.ts';
import type { SimChangeEvent } from './webhooks.ts';
import { primaryKeyOf, renderEntity } from './entities.ts';
import { PRIMARY_KEY_COLUMNS, changedColumns, createdColumns } from './entity-columns.ts';
import type { SideTableQuirks } from './entity-columns.ts';
import { parseEntity, templateRecord } from './entity-parse.ts';
import { notFound } from './errors.ts';
import { applyMergePatch } from './json-patch.ts';
import type {
  AnyRecord,
  ContactRecord,
  EntityKind,
  PersonRecord,
  RecordOf,
  SaleRecord,
  SimState,
} from './model.ts';

/** Where change events go (the webhook hub's `emit`). */
export type EmitChange = (event: SimChangeEvent) => void;

/** Dependencies of {@link Mutations}. */
export interface MutationsOptions {
  readonly state: SimState;
  readonly clock: Clock;
  readonly emit: EmitChange;
  /** Called after every change (persistence). */
  readonly onChange: () => void;
  /** Current side-table quirks (read on every write, so `/_sim/quirks` applies at once). */
  readonly quirks: () => SideTableQuirks;
}

/** Vendor timestamps have whole seconds (If-Unmodified-Since compares HTTP-dates, which have seconds). */
function wholeSeconds(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

/** Formats `ms` as ISO with an offset, as FieldValues' `updated` is (reference §1.2). */
function isoWithOffset(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

/** Creates, updates and deletes records and reports each change. */
export class Mutations {
  readonly #options: MutationsOptions;

  constructor(options: MutationsOptions) {
    this.#options = options;
  }

  /** The current time as stored in records. */
  now(): number {
    return wholeSeconds(this.#options.clock.now());
  }

  /** The record `kind/id` or a 404. */
  get<K extends EntityKind>(kind: K, id: number): RecordOf[K] {
    const record = this.#options.state.table(kind).get(id);
    if (record === undefined) throw notFound(`${kind} ${id} does not exist.`);
    return record;
  }

  /** The template of `kind` for `actor` (id 0, not stored). */
  template<K extends EntityKind>(kind: K, actor: number): RecordOf[K] {
    return templateRecord(kind, 0, this.now(), actor);
  }

  /** The primary key of `record`. */
  idOf(kind: EntityKind, record: AnyRecord): number {
    return primaryKeyOf(kind, record);
  }

  /** Creates a record from a REST body. */
  create<K extends EntityKind>(kind: K, body: unknown, actor: number): RecordOf[K] {
    const record = this.#insert(kind, body, actor);
    const columns = createdColumns(this.#options.state, kind, record, this.#options.quirks());
    this.#report(kind, 'created', record, columns, actor);
    return record;
  }

  /** Creates a record without any event (seeding through the admin API); returns its id. */
  createSilently(kind: EntityKind, body: unknown, actor: number): number {
    const record = this.#insert(kind, body, actor);
    this.#options.onChange();
    return primaryKeyOf(kind, record);
  }

  #insert<K extends EntityKind>(kind: K, body: unknown, actor: number): RecordOf[K] {
    const { state } = this.#options;
    const draft = parseEntity(state, kind, this.template(kind, actor), body);
    const id = state.allocateId(kind);
    const record = withId(kind, draft, id);
    state.put(kind, id, record);
    return record;
  }

  /** Applies field changes in REST names like a merge patch (what a user does in the UI). */
  mergeChanges(kind: EntityKind, id: number, changes: unknown, actor: number): void {
    const document = renderEntity(this.#options.state, kind, this.get(kind, id), '');
    applyMergePatch(document, changes);
    this.replace(kind, id, document, actor);
  }

  /**
   * Replaces a record's writable fields with `body` (PUT: absent properties take the template's values;
   * PATCH passes the whole patched document). Ids and creation data are kept.
   */
  replace<K extends EntityKind>(kind: K, id: number, body: unknown, actor: number): RecordOf[K] {
    const { state } = this.#options;
    const before = this.get(kind, id);
    const base = {
      ...templateRecord(kind, id, before.createdDate, before.associateId),
      createdBy: before.createdBy,
    } as RecordOf[K];
    const parsed = parseEntity(state, kind, base, body);
    const after = { ...parsed, updatedDate: this.now(), updatedBy: actor } as RecordOf[K];
    const changes = changedColumns(state, kind, before, after, this.#options.quirks());
    state.put(kind, id, after);
    // A write that only touched tables configured as silent (see SideTableQuirks) fires nothing.
    if (!changes.anything || changes.columns.length > 0)
      this.#report(kind, 'changed', after, changes.columns, actor);
    else this.#options.onChange();
    if (kind === 'sale') this.#reportSaleStatus(before as SaleRecord, after as SaleRecord, actor);
    return after;
  }

  /** Deletes a record (and, as the vendor does, detaches what pointed to it [INFERRED]). */
  delete(kind: EntityKind, id: number, actor: number): void {
    const { state } = this.#options;
    const record = this.get(kind, id);
    state.table(kind).delete(id);
    if (kind === 'contact') {
      for (const person of state.persons.values()) if (person.contactId === id) person.contactId = 0;
      for (const sale of state.sales.values()) if (sale.contactId === id) sale.contactId = 0;
    }
    if (kind === 'person')
      for (const sale of state.sales.values()) if (sale.personId === id) sale.personId = 0;
    this.#options.emit({
      event: `${kind}.deleted`,
      entity: kind,
      primaryKey: id,
      changes: [],
      changedByAssociateId: actor,
      values: deletedValues(kind, record),
    });
    this.#options.onChange();
  }

  #report(
    kind: EntityKind,
    verb: 'created' | 'changed',
    record: AnyRecord,
    columns: string[],
    actor: number,
  ): void {
    const always = [PRIMARY_KEY_COLUMNS[kind], 'updated', 'updated_associate_id'];
    this.#options.emit({
      event: `${kind}.${verb}`,
      entity: kind,
      primaryKey: primaryKeyOf(kind, record),
      changes: [...always, ...columns.filter((column) => !always.includes(column))],
      changedByAssociateId: actor,
      fieldValues: fieldValues(kind, record),
    });
    this.#options.onChange();
  }

  /** `sale.sold` / `sale.lost` when the status moves there (reference §1.3; no FieldValues). */
  #reportSaleStatus(before: SaleRecord, after: SaleRecord, actor: number): void {
    if (before.status === after.status || (after.status !== 'Sold' && after.status !== 'Lost')) return;
    this.#options.emit({
      event: after.status === 'Sold' ? 'sale.sold' : 'sale.lost',
      entity: 'sale',
      primaryKey: after.saleId,
      changes: ['sale_id', 'status', 'updated', 'updated_associate_id'],
      changedByAssociateId: actor,
    });
  }
}

function withId<K extends EntityKind>(kind: K, record: RecordOf[K], id: number): RecordOf[K] {
  if (kind === 'contact') return { ...(record as ContactRecord), contactId: id } as RecordOf[K];
  if (kind === 'person') return { ...(record as PersonRecord), personId: id } as RecordOf[K];
  return { ...(record as SaleRecord), saleId: id } as RecordOf[K];
}

/**
 * FieldValues of created/changed events: the documented contact subset (reference §1.2); the person and
 * sale subsets are not documented and follow the same idea [INFERRED]. The UDF row ids equal the record id.
 */
function fieldValues(kind: EntityKind, record: AnyRecord): Record<string, unknown> {
  const common = {
    associate_id: record.associateId,
    registered: new Date(record.createdDate).toISOString().replace(/\.\d{3}Z$/, ''),
    registered_associate_id: record.createdBy,
    updated: isoWithOffset(record.updatedDate),
    userdef_id: primaryKeyOf(kind, record),
    userdef2_id: primaryKeyOf(kind, record),
  };
  if (kind === 'contact') {
    const contact = record as ContactRecord;
    return {
      activeInterests: 0,
      business_idx: contact.businessId,
      category_idx: contact.categoryId,
      country_id: contact.countryId,
      deleted: 0,
      DeletedDate: null,
      source: 0,
      ...common,
    };
  }
  if (kind === 'person') {
    const person = record as PersonRecord;
    return { contact_id: person.contactId, position_idx: person.positionId, ...common };
  }
  const sale = record as SaleRecord;
  return { contact_id: sale.contactId, person_id: sale.personId, amount: sale.amount, ...common };
}

/** Values of deleted events: the foreign keys (reference §1.2). */
function deletedValues(kind: EntityKind, record: AnyRecord): Record<string, unknown> {
  if (kind === 'contact')
    return { associate_id: record.associateId, contact_id: (record as ContactRecord).contactId };
  if (kind === 'person')
    return { associate_id: record.associateId, contact_id: (record as PersonRecord).contactId };
  const sale = record as SaleRecord;
  return { associate_id: sale.associateId, contact_id: sale.contactId, person_id: sale.personId };
}
