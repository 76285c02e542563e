/**
 * Contact, Person and Sale as the WebAPI shows them: names, primary keys and rendering of stored records to
 * PascalCase REST JSON (reference §3.4, §3.5; the Sale shape is not in the reference and is [UNCONFIRMED]).
 * Parsing written bodies is in entity-parse.ts, the DB column names of a change in entity-columns.ts.
 */
import { COUNTRIES } from './model.ts';
import type {
  AnyRecord,
  CommItem,
  ContactRecord,
  EntityKind,
  PersonRecord,
  SaleRecord,
  SimState,
} from './model.ts';
import { renderUdfs } from './udf.ts';

/** The REST name of each entity (`/api/v1/Contact`). */
export const ENTITY_NAMES: Readonly<Record<EntityKind, string>> = {
  contact: 'Contact',
  person: 'Person',
  sale: 'Sale',
};

/** The entity kind of a REST name, case-insensitively. */
export function entityKindOf(name: string): EntityKind | undefined {
  const lower = name.toLowerCase();
  return (Object.keys(ENTITY_NAMES) as EntityKind[]).find((kind) => kind === lower);
}

/** The primary key of a record. */
export function primaryKeyOf(kind: EntityKind, record: AnyRecord): number {
  if (kind === 'contact') return (record as ContactRecord).contactId;
  if (kind === 'person') return (record as PersonRecord).personId;
  return (record as SaleRecord).saleId;
}

/** Formats epoch ms as the vendor's entity date: ISO, seconds, UTC [the docs say UTC; samples show offsets]. */
export function formatEntityDate(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function associateJson(state: SimState, id: number): unknown {
  const associate = state.associateById(id);
  if (associate === undefined) return null;
  // Associate sub-object fields are [UNCONFIRMED] (reference §3.4); Name is the short name (seed 001).
  return {
    AssociateId: associate.associateId,
    Name: associate.name,
    FullName: associate.fullName,
    PersonId: associate.personId,
    Type: 'Employee',
  };
}

function listJson(state: SimState, listName: string, id: number): unknown {
  const item = state.listItem(listName, id);
  return item === undefined ? null : { Id: item.id, Value: item.name, Tooltip: item.tooltip };
}

function countryJson(id: number): unknown {
  const country = COUNTRIES.find((candidate) => candidate.countryId === id);
  return country === undefined
    ? null
    : { CountryId: country.countryId, Name: country.name, TwoLetterISOCountry: country.isoCode };
}

function commJson(items: readonly CommItem[]): unknown[] {
  return items.map((item) => ({
    Value: item.value,
    StrippedValue: item.value.replace(/[^0-9A-Za-z@.+:/_-]/g, ''),
    Description: item.description,
  }));
}

function personSummary(person: PersonRecord): unknown {
  return {
    PersonId: person.personId,
    Firstname: person.firstname,
    Lastname: person.lastname,
    FullName: fullName(person),
    Email: person.emails[0]?.value ?? '',
    ContactId: person.contactId,
  };
}

/** A person's full name as the vendor builds it. */
export function fullName(person: PersonRecord): string {
  return [person.firstname, person.middleName, person.lastname].filter((part) => part !== '').join(' ');
}

function common(state: SimState, kind: EntityKind, record: AnyRecord, links: string) {
  const udfs = renderUdfs(state, kind, record.udf);
  return {
    UpdatedDate: formatEntityDate(record.updatedDate),
    CreatedDate: formatEntityDate(record.createdDate),
    UpdatedBy: associateJson(state, record.updatedBy),
    CreatedBy: associateJson(state, record.createdBy),
    UserDefinedFields: udfs,
    ExtraFields: {},
    CustomFields: { ...udfs },
    TableRight: null,
    FieldProperties: {},
    _Links: { Self: links },
  };
}

/** Renders a record as the REST entity. `selfUrl` is the entity's own URL (for `_Links`). */
export function renderEntity(
  state: SimState,
  kind: EntityKind,
  record: AnyRecord,
  selfUrl: string,
): Record<string, unknown> {
  if (kind === 'contact') {
    const contact = record as ContactRecord;
    return {
      ContactId: contact.contactId,
      Name: contact.name,
      Department: contact.department,
      OrgNr: contact.orgNr,
      Number1: contact.number1,
      Number2: contact.number2,
      Description: contact.description,
      Associate: associateJson(state, contact.associateId),
      SupportAssociate: null,
      Business: listJson(state, 'Business', contact.businessId),
      Category: listJson(state, 'Category', contact.categoryId),
      Country: countryJson(contact.countryId),
      Emails: commJson(contact.emails),
      Urls: commJson(contact.urls),
      Phones: commJson(contact.phones),
      Faxes: [],
      Persons: [...state.persons.values()]
        .filter((person) => person.contactId === contact.contactId)
        .map(personSummary),
      NoMailing: false,
      Xstop: false,
      Deleted: 0,
      GroupId: 1,
      ActiveInterests: 0,
      Source: 0,
      BounceEmails: [],
      Domains: [],
      ...common(state, kind, record, selfUrl),
    };
  }
  if (kind === 'person') {
    const person = record as PersonRecord;
    const contact = state.contacts.get(person.contactId);
    return {
      PersonId: person.personId,
      Firstname: person.firstname,
      MiddleName: person.middleName,
      Lastname: person.lastname,
      FullName: fullName(person),
      Mrmrs: '',
      Title: person.title,
      Position: listJson(state, 'Position', person.positionId),
      Contact: contact === undefined ? null : { ContactId: contact.contactId, Name: contact.name },
      Associate: associateJson(state, person.associateId),
      Emails: commJson(person.emails),
      MobilePhones: commJson(person.mobilePhones),
      OfficePhones: commJson(person.officePhones),
      PrivatePhones: [],
      OtherPhones: [],
      Faxes: [],
      Urls: [],
      Retired: false,
      NoMailing: false,
      ...common(state, kind, record, selfUrl),
    };
  }
  const sale = record as SaleRecord;
  const contact = state.contacts.get(sale.contactId);
  const person = state.persons.get(sale.personId);
  // SaleEntity is not in the reference [UNCONFIRMED]: names follow the other entities' conventions.
  return {
    SaleId: sale.saleId,
    Heading: sale.heading,
    Amount: sale.amount,
    Status: sale.status,
    Saledate: formatEntityDate(sale.saledate),
    Contact: contact === undefined ? null : { ContactId: contact.contactId, Name: contact.name },
    Person: person === undefined ? null : { PersonId: person.personId, FullName: fullName(person) },
    Associate: associateJson(state, sale.associateId),
    ProductFamily: listJson(state, 'ProductFamily', sale.productFamilyId),
    ...common(state, kind, record, selfUrl),
  };
}
