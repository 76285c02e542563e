/**
 * The simulator's in-memory tenant: records in a normalised internal form (one shape per entity, close to the
 * vendor's database rows), users, lists and user-defined field definitions. Routes render records to the
 * vendor's PascalCase REST JSON or camelCase archive rows; this module knows nothing about HTTP.
 */

/** One element of Emails/Urls/Phones (the vendor's `{Value, StrippedValue, Description}`). */
export interface CommItem {
  value: string;
  description: string;
}

/** A user of the tenant (SuperOffice "associate"). */
export interface Associate {
  readonly associateId: number;
  /** Login / short name, e.g. `RKAB`: what the vendor shows as `Associate.Name`. */
  readonly name: string;
  readonly fullName: string;
  readonly firstname: string;
  readonly lastname: string;
  readonly email: string;
  readonly personId: number;
  readonly contactId: number;
  readonly isAdministrator: boolean;
  readonly roleName: string;
}

/** One item of a list (udlist, Category, Business, ProductFamily, Position, ...). */
export interface ListItem {
  readonly id: number;
  readonly name: string;
  readonly tooltip: string;
  readonly deleted: boolean;
  readonly rank: number;
}

/** A list with its items; user-defined lists have a definition id, built-in ones 0. */
export interface ListDefinition {
  /** Name used in `List/{name}/Items`, matched case-insensitively. */
  readonly name: string;
  readonly udListDefinitionId: number;
  readonly items: ListItem[];
}

/** Field types of user-defined fields (the vendor's UDefFieldType names). */
export type UdefFieldType = 'ShortText' | 'LongText' | 'Number' | 'Decimal' | 'Checkbox' | 'Date' | 'List';

/** The entities the simulator stores. */
export type EntityKind = 'contact' | 'person' | 'sale';

/** Definition of one user-defined field. */
export interface UdefDefinition {
  readonly owner: EntityKind;
  readonly udefFieldId: number;
  /** Key in `UserDefinedFields`; the vendor uses `SuperOffice:<udefFieldId>` when a field has no ProgId. */
  readonly progId: string;
  readonly fieldLabel: string;
  readonly fieldType: UdefFieldType;
  /** For list fields: the name of the list in {@link SimState.lists}. */
  readonly listName?: string;
}

/** Columns every stored record has. */
interface RecordBase {
  createdDate: number;
  updatedDate: number;
  createdBy: number;
  updatedBy: number;
  /** Stored UDF values by key (see {@link UdefDefinition.progId}), already in the vendor's string encoding. */
  udf: Record<string, string>;
}

/** A company. */
export interface ContactRecord extends RecordBase {
  contactId: number;
  name: string;
  department: string;
  orgNr: string;
  number1: string;
  number2: string;
  description: string;
  associateId: number;
  categoryId: number;
  businessId: number;
  countryId: number;
  emails: CommItem[];
  urls: CommItem[];
  phones: CommItem[];
}

/** A person (contact person of a company, or without company). */
export interface PersonRecord extends RecordBase {
  personId: number;
  contactId: number;
  firstname: string;
  middleName: string;
  lastname: string;
  title: string;
  positionId: number;
  associateId: number;
  emails: CommItem[];
  mobilePhones: CommItem[];
  officePhones: CommItem[];
}

/** Status of a sale. */
export type SaleStatus = 'Open' | 'Sold' | 'Lost' | 'Stalled';

/** A sale. `contactId` 0 means no company (seed 000 reports many such sales). */
export interface SaleRecord extends RecordBase {
  saleId: number;
  heading: string;
  amount: number;
  status: SaleStatus;
  saledate: number;
  contactId: number;
  personId: number;
  associateId: number;
  productFamilyId: number;
}

/** Any stored record. */
export type AnyRecord = ContactRecord | PersonRecord | SaleRecord;

/** Record type by entity kind. */
export interface RecordOf {
  contact: ContactRecord;
  person: PersonRecord;
  sale: SaleRecord;
}

/** A country as the simulator knows it. */
export interface Country {
  readonly countryId: number;
  readonly name: string;
  readonly isoCode: string;
}

/** Countries offered (ids as in SuperOffice's default list [INFERRED]). */
export const COUNTRIES: readonly Country[] = [
  { countryId: 276, name: 'Germany', isoCode: 'DE' },
  { countryId: 40, name: 'Austria', isoCode: 'AT' },
  { countryId: 756, name: 'Switzerland', isoCode: 'CH' },
  { countryId: 578, name: 'Norway', isoCode: 'NO' },
];

/** The serialisable part of the tenant (what is persisted and dumped at `/_sim/state`). */
export interface TenantData {
  contacts: ContactRecord[];
  persons: PersonRecord[];
  sales: SaleRecord[];
  associates: Associate[];
  lists: ListDefinition[];
  udefs: UdefDefinition[];
  nextIds: Record<EntityKind, number>;
}

/** The tenant's data with lookups. */
export class SimState {
  readonly contacts = new Map<number, ContactRecord>();
  readonly persons = new Map<number, PersonRecord>();
  readonly sales = new Map<number, SaleRecord>();
  associates: Associate[] = [];
  lists: ListDefinition[] = [];
  udefs: UdefDefinition[] = [];
  nextIds: Record<EntityKind, number> = { contact: 1, person: 1, sale: 1 };

  /** The map holding records of `kind`. */
  table<K extends EntityKind>(kind: K): Map<number, RecordOf[K]> {
    const tables = { contact: this.contacts, person: this.persons, sale: this.sales };
    return tables[kind] as unknown as Map<number, RecordOf[K]>;
  }

  /** Allocates the next primary key of `kind`. */
  allocateId(kind: EntityKind): number {
    const id = this.nextIds[kind];
    this.nextIds[kind] = id + 1;
    return id;
  }

  /** Stores `record` under its id and keeps the id counter ahead of it. */
  put<K extends EntityKind>(kind: K, id: number, record: RecordOf[K]): void {
    this.table(kind).set(id, record);
    if (id >= this.nextIds[kind]) this.nextIds[kind] = id + 1;
  }

  associateById(id: number): Associate | undefined {
    return this.associates.find((associate) => associate.associateId === id);
  }

  associateByName(name: string): Associate | undefined {
    const wanted = name.toLowerCase();
    return this.associates.find((associate) => associate.name.toLowerCase() === wanted);
  }

  /** A list by name, case-insensitively (`Vertical`, `ProductFamily`, `udlist331`...). */
  list(name: string): ListDefinition | undefined {
    const wanted = name.toLowerCase();
    return this.lists.find(
      (list) => list.name.toLowerCase() === wanted || `udlist${list.udListDefinitionId}` === wanted,
    );
  }

  /** The item `id` of list `name`, if any. */
  listItem(name: string | undefined, id: number): ListItem | undefined {
    if (name === undefined) return undefined;
    return this.list(name)?.items.find((item) => item.id === id);
  }

  /** UDF definitions of `owner`. */
  udefsOf(owner: EntityKind): UdefDefinition[] {
    return this.udefs.filter((udef) => udef.owner === owner);
  }

  /** Empties everything (no users, lists or definitions either). */
  clear(): void {
    this.contacts.clear();
    this.persons.clear();
    this.sales.clear();
    this.associates = [];
    this.lists = [];
    this.udefs = [];
    this.nextIds = { contact: 1, person: 1, sale: 1 };
  }

  toJSON(): TenantData {
    return {
      contacts: [...this.contacts.values()],
      persons: [...this.persons.values()],
      sales: [...this.sales.values()],
      associates: this.associates,
      lists: this.lists,
      udefs: this.udefs,
      nextIds: this.nextIds,
    };
  }

  /** Replaces the state with `data` (from {@link toJSON}). */
  load(data: TenantData): void {
    this.clear();
    this.associates = data.associates;
    this.lists = data.lists;
    this.udefs = data.udefs;
    for (const record of data.contacts) this.put('contact', record.contactId, record);
    for (const record of data.persons) this.put('person', record.personId, record);
    for (const record of data.sales) this.put('sale', record.saleId, record);
    this.nextIds = {
      contact: Math.max(this.nextIds.contact, data.nextIds.contact),
      person: Math.max(this.nextIds.person, data.nextIds.person),
      sale: Math.max(this.nextIds.sale, data.nextIds.sale),
    };
  }
}
