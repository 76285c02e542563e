/**
 * The DB column names a change touches, for the webhook `Changes` (reference §1.2): the entity's own table
 * columns, the UDF row pointers, and (configurable, [UNCONFIRMED]) what edits of side tables report.
 */
import { templateRecord } from './entity-parse.ts';
import { primaryKeyOf } from './entities.ts';
import type { EntityKind, RecordOf, SimState } from './model.ts';
import { changedUdfColumns } from './udf.ts';

/** How the simulator treats edits of rows outside the entity's own table (URLs, e-mails, phones). */
export interface SideTableQuirks {
  /**
   * Columns reported in `Changes` when a contact's or person's URLs change. Whether URL edits fire
   * `contact.changed` at all is [UNCONFIRMED] (reference §1.2: URLs live in the `url` table); the seeds'
   * relevance filter looks for `urladdress`, so that is the default. `[]` makes URL-only edits silent.
   */
  urlChangeColumns: string[];
  /** Same for e-mail and phone edits; default `[]` (silent) [UNCONFIRMED]. */
  communicationChangeColumns: string[];
}

/** Default side-table behaviour (see {@link SideTableQuirks}). */
export const DEFAULT_SIDE_TABLE_QUIRKS: SideTableQuirks = {
  urlChangeColumns: ['urladdress'],
  communicationChangeColumns: [],
};

/** Record property -> DB column of the entity's own table (webhook `Changes` names, reference §1.2). */
const COLUMNS: Readonly<Record<EntityKind, Readonly<Record<string, string>>>> = {
  contact: {
    name: 'name',
    department: 'department',
    orgNr: 'orgNr',
    number1: 'number1',
    number2: 'number2',
    associateId: 'associate_id',
    categoryId: 'category_idx',
    businessId: 'business_idx',
    countryId: 'country_id',
  },
  person: {
    firstname: 'firstname',
    middleName: 'middleName',
    lastname: 'lastname',
    title: 'title',
    positionId: 'position_idx',
    contactId: 'contact_id',
    associateId: 'associate_id',
  },
  sale: {
    heading: 'heading',
    amount: 'amount',
    status: 'status',
    saledate: 'saledate',
    contactId: 'contact_id',
    personId: 'person_id',
    associateId: 'associate_id',
    // [INFERRED] column name of the product family reference.
    productFamilyId: 'productfamily_idx',
  },
};

/** Properties stored in other tables (url, email, phone), with the quirk deciding what they report. */
const SIDE_TABLES: Readonly<Record<EntityKind, Readonly<Record<string, keyof SideTableQuirks>>>> = {
  contact: {
    urls: 'urlChangeColumns',
    emails: 'communicationChangeColumns',
    phones: 'communicationChangeColumns',
  },
  person: {
    emails: 'communicationChangeColumns',
    mobilePhones: 'communicationChangeColumns',
    officePhones: 'communicationChangeColumns',
  },
  sale: {},
};

/** The primary key column of each entity table. */
export const PRIMARY_KEY_COLUMNS: Readonly<Record<EntityKind, string>> = {
  contact: 'contact_id',
  person: 'person_id',
  sale: 'sale_id',
};

/** What a write changed, in DB column names. */
export interface ColumnChanges {
  /** Columns of the entity's own table and the UDF pointers. */
  readonly columns: string[];
  /** True when the write changed anything at all (including silent side tables). */
  readonly anything: boolean;
}

/** Compares two versions of a record and names the changed DB columns. */
export function changedColumns<K extends EntityKind>(
  state: SimState,
  kind: K,
  before: RecordOf[K],
  after: RecordOf[K],
  quirks: SideTableQuirks,
): ColumnChanges {
  const columns = new Set<string>();
  let anything = false;
  const old = before as unknown as Record<string, unknown>;
  const now = after as unknown as Record<string, unknown>;
  for (const [property, column] of Object.entries(COLUMNS[kind])) {
    if (JSON.stringify(old[property]) !== JSON.stringify(now[property])) {
      columns.add(column);
      anything = true;
    }
  }
  for (const [property, quirk] of Object.entries(SIDE_TABLES[kind])) {
    if (JSON.stringify(old[property]) !== JSON.stringify(now[property])) {
      anything = true;
      for (const column of quirks[quirk]) columns.add(column);
    }
  }
  const udfColumns = changedUdfColumns(state, kind, before.udf, after.udf);
  for (const column of udfColumns) columns.add(column);
  if (udfColumns.length > 0) anything = true;
  if (kind === 'contact' && old.description !== now.description) anything = true;
  return { columns: [...columns], anything };
}

/** Columns of a freshly created record: every own column that holds a value. */
export function createdColumns<K extends EntityKind>(
  state: SimState,
  kind: K,
  record: RecordOf[K],
  quirks: SideTableQuirks,
): string[] {
  const empty = templateRecord(kind, primaryKeyOf(kind, record), record.createdDate, 0);
  return changedColumns(state, kind, empty, record, quirks).columns;
}
