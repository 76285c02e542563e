/**
 * Archive/OData lists (reference §4): `GET /api/v1/{Contact|Person|Sale}` and `GET /api/v1/Archive/{provider}`
 * with `$select`, `$filter`, `$orderBy`, `$top`, `$skip`. Rows carry `PrimaryKey` and `EntityName`, then the
 * selected columns under their camelCase archive names (case-insensitive on input; related columns with a
 * slash, e.g. `associate/associateId`). The envelope is exactly `{"odata.metadata", "odata.nextLink", "value"}`.
 * The page size limit and the nextLink format are [UNCONFIRMED]: the limit is configurable (default 200) and
 * the nextLink is the absolute URL of the same query with `$skip` moved on.
 */
import { badRequest } from './errors.ts';
import { fullName } from './entities.ts';
import type {
  ContactRecord,
  EntityKind,
  PersonRecord,
  SaleRecord,
  SimState,
  UdefFieldType,
} from './model.ts';
import { parseFilter } from './odata-filter.ts';
import type { CellValue, ColumnType } from './odata-filter.ts';
import { udefKey } from './udf.ts';

interface Column<R> {
  readonly name: string;
  readonly type: ColumnType;
  readonly read: (record: R, state: SimState) => CellValue;
}

/** Archive datetime: ISO without offset (UTC). */
function archiveDate(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, '');
}

function col<R>(name: string, type: ColumnType, read: (record: R, state: SimState) => CellValue): Column<R> {
  return { name, type, read };
}

function listName(state: SimState, list: string, id: number): string {
  return state.listItem(list, id)?.name ?? '';
}

/** Columns every owned entity shares: owner and dates. */
function ownerColumns<
  R extends { associateId: number; updatedDate: number; createdDate: number },
>(): Column<R>[] {
  return [
    col('associateId', 'int', (r) => r.associateId),
    col('associate/associateId', 'int', (r) => r.associateId),
    col('associate', 'string', (r, s) => s.associateById(r.associateId)?.name ?? ''),
    col('associate/name', 'string', (r, s) => s.associateById(r.associateId)?.name ?? ''),
    col('associate/fullName', 'string', (r, s) => s.associateById(r.associateId)?.fullName ?? ''),
    col('updatedDate', 'datetime', (r) => archiveDate(r.updatedDate)),
    col('registeredDate', 'datetime', (r) => archiveDate(r.createdDate)),
  ];
}

const UDEF_COLUMN_TYPES: Readonly<Record<UdefFieldType, ColumnType>> = {
  ShortText: 'string',
  LongText: 'string',
  Number: 'int',
  Decimal: 'decimal',
  Checkbox: 'bool',
  Date: 'string',
  List: 'string',
};

/** `contactUdef/SuperOffice:83`-style columns; values are the stored encoded strings [UNCONFIRMED]. */
function udefColumns<R extends { udf: Record<string, string> }>(
  state: SimState,
  kind: EntityKind,
): Column<R>[] {
  return state.udefsOf(kind).map((udef) => {
    const key = udefKey(udef);
    const type = UDEF_COLUMN_TYPES[udef.fieldType];
    return col<R>(`${kind}Udef/${key}`, type, (r) => {
      const value = r.udf[key] ?? '';
      if (type === 'int' || type === 'decimal') return value === '' ? 0 : Number(value);
      if (type === 'bool') return value === 'True';
      return value;
    });
  });
}

/** One archive provider: the entity it lists, its columns and its default selection. */
interface Provider {
  readonly kind: EntityKind;
  readonly entityName: string;
  readonly columns: Column<never>[];
  readonly defaultSelect: readonly string[];
}

function contactColumns(state: SimState): Column<ContactRecord>[] {
  return [
    col('contactId', 'int', (r) => r.contactId),
    col('name', 'string', (r) => r.name),
    col('department', 'string', (r) => r.department),
    col('orgNr', 'string', (r) => r.orgNr),
    col('number1', 'string', (r) => r.number1),
    col('number2', 'string', (r) => r.number2),
    col('category', 'string', (r, s) => listName(s, 'Category', r.categoryId)),
    col('category/id', 'int', (r) => r.categoryId),
    col('business', 'string', (r, s) => listName(s, 'Business', r.businessId)),
    col('business/id', 'int', (r) => r.businessId),
    col('countryId', 'int', (r) => r.countryId),
    col('url', 'string', (r) => r.urls[0]?.value ?? ''),
    col('email', 'string', (r) => r.emails[0]?.value ?? ''),
    ...ownerColumns<ContactRecord>(),
    ...udefColumns<ContactRecord>(state, 'contact'),
  ];
}

function personColumns(state: SimState): Column<PersonRecord>[] {
  return [
    col('personId', 'int', (r) => r.personId),
    col('firstname', 'string', (r) => r.firstname),
    col('middleName', 'string', (r) => r.middleName),
    col('lastname', 'string', (r) => r.lastname),
    col('fullName', 'string', (r) => fullName(r)),
    col('title', 'string', (r) => r.title),
    col('position', 'string', (r, s) => listName(s, 'Position', r.positionId)),
    col('contactId', 'int', (r) => r.contactId),
    col('contact/contactId', 'int', (r) => r.contactId),
    col('contact/name', 'string', (r, s) => s.contacts.get(r.contactId)?.name ?? ''),
    col('email', 'string', (r) => r.emails[0]?.value ?? ''),
    ...ownerColumns<PersonRecord>(),
    ...udefColumns<PersonRecord>(state, 'person'),
  ];
}

function saleColumns(state: SimState): Column<SaleRecord>[] {
  return [
    col('saleId', 'int', (r) => r.saleId),
    col('heading', 'string', (r) => r.heading),
    col('amount', 'decimal', (r) => r.amount),
    col('status', 'string', (r) => r.status),
    col('saleDate', 'datetime', (r) => archiveDate(r.saledate)),
    // A sale without a company has contactId 0 and contact '' [UNCONFIRMED: the vendor may send null].
    col('contactId', 'int', (r) => r.contactId),
    col('contact', 'string', (r, s) => s.contacts.get(r.contactId)?.name ?? ''),
    col('contact/contactId', 'int', (r) => r.contactId),
    col('contact/name', 'string', (r, s) => s.contacts.get(r.contactId)?.name ?? ''),
    col('personId', 'int', (r) => r.personId),
    col('productFamily', 'string', (r, s) => listName(s, 'ProductFamily', r.productFamilyId)),
    ...ownerColumns<SaleRecord>(),
    ...udefColumns<SaleRecord>(state, 'sale'),
  ];
}

/** Provider names (lower case) and the entity each lists. */
const PROVIDER_KINDS: Readonly<Record<string, EntityKind>> = {
  simplecontact: 'contact',
  findcontact: 'contact',
  contact: 'contact',
  simpleperson: 'person',
  findperson: 'person',
  person: 'person',
  findsale: 'sale',
  simplesale: 'sale',
  sale: 'sale',
};

/** The provider of `kind` (its columns depend on the current UDF definitions). */
function providerOf(state: SimState, kind: EntityKind): Provider {
  if (kind === 'contact')
    return {
      kind,
      entityName: 'contact',
      columns: contactColumns(state),
      defaultSelect: ['contactId', 'name', 'department', 'orgNr', 'associateId', 'associate', 'updatedDate'],
    };
  if (kind === 'person')
    return {
      kind,
      entityName: 'person',
      columns: personColumns(state),
      defaultSelect: ['personId', 'firstname', 'lastname', 'contactId', 'associateId', 'updatedDate'],
    };
  return {
    kind,
    entityName: 'sale',
    columns: saleColumns(state),
    defaultSelect: [
      'saleId',
      'heading',
      'amount',
      'status',
      'saleDate',
      'contactId',
      'contact',
      'associateId',
      'updatedDate',
    ],
  };
}

/** The entity listed by archive provider `name`, or a 400. */
export function providerKind(name: string): EntityKind {
  const kind = PROVIDER_KINDS[name.toLowerCase()];
  if (kind === undefined)
    throw badRequest(
      `Archive provider "${name}" is not simulated; use one of ${Object.keys(PROVIDER_KINDS).join(', ')}.`,
    );
  return kind;
}

/** An archive query as received. */
export interface ArchiveQuery {
  readonly kind: EntityKind;
  /** The query string's parameters. */
  readonly params: Readonly<Record<string, string | undefined>>;
  /** Absolute URL of this request (for nextLink). */
  readonly requestUrl: URL;
  /** `odata.metadata` value. */
  readonly metadataUrl: string;
  /** Largest page. */
  readonly pageSize: number;
}

/** The archive envelope. */
export interface ArchivePage {
  readonly 'odata.metadata': string;
  readonly 'odata.nextLink': string | null;
  readonly value: Record<string, unknown>[];
}

function parseCount(params: ArchiveQuery['params'], name: string): number | undefined {
  const text = params[name];
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0)
    throw badRequest(`${name} must be a non-negative integer, got "${text}".`);
  return value;
}

/** Runs an archive query against the state. */
export function runArchiveQuery(state: SimState, query: ArchiveQuery): ArchivePage {
  const provider = providerOf(state, query.kind);
  const byName = new Map(provider.columns.map((column) => [column.name.toLowerCase(), column]));
  const resolve = (name: string) => byName.get(name.toLowerCase());
  const required = (name: string) => {
    const column = resolve(name.trim());
    if (column === undefined)
      throw badRequest(
        `Unknown archive column "${name.trim()}" for ${provider.entityName}; known: ${provider.columns.map((c) => c.name).join(', ')}.`,
      );
    return column;
  };
  const selectText = query.params.$select;
  const selected =
    selectText === undefined || selectText.trim() === ''
      ? provider.defaultSelect.map(required)
      : selectText.split(',').map(required);
  const filterText = query.params.$filter;
  const records = [...state.table(provider.kind).values()] as never[];
  const predicate =
    filterText === undefined || filterText.trim() === ''
      ? () => true
      : parseFilter(filterText, (name) => resolve(name));
  let rows = records.filter((record) =>
    predicate((name) => {
      const column = resolve(name);
      return column === undefined ? null : column.read(record, state);
    }),
  );
  const orderText = query.params.$orderBy ?? query.params.$orderby;
  if (orderText !== undefined && orderText.trim() !== '') {
    const keys = orderText.split(',').map((part) => {
      const [name = '', direction = 'asc'] = part.trim().split(/\s+/);
      if (!['asc', 'desc'].includes(direction.toLowerCase()))
        throw badRequest(`$orderBy: direction must be asc or desc, got "${direction}".`);
      return { column: required(name), sign: direction.toLowerCase() === 'desc' ? -1 : 1 };
    });
    rows = rows.sort((a, b) => {
      for (const key of keys) {
        const left = key.column.read(a, state);
        const right = key.column.read(b, state);
        const order =
          typeof left === 'number' && typeof right === 'number'
            ? left - right
            : String(left ?? '').localeCompare(String(right ?? ''));
        if (order !== 0) return order * key.sign;
      }
      return 0;
    });
  }
  const skip = parseCount(query.params, '$skip') ?? 0;
  const top = parseCount(query.params, '$top');
  const end = Math.min(rows.length, top === undefined ? rows.length : skip + top);
  const pageEnd = Math.min(end, skip + query.pageSize);
  const page = rows.slice(skip, pageEnd);
  const primary = provider.columns[0];
  let nextLink: string | null = null;
  if (pageEnd < end) {
    const next = new URL(query.requestUrl);
    next.searchParams.set('$skip', String(pageEnd));
    if (top !== undefined) next.searchParams.set('$top', String(top - (pageEnd - skip)));
    // `$` needs no escaping in a query; the readable form is what the vendor's docs show.
    nextLink = next.toString().replaceAll('%24', '$');
  }
  return {
    'odata.metadata': query.metadataUrl,
    'odata.nextLink': nextLink,
    value: page.map((record) => {
      const row: Record<string, unknown> = {
        PrimaryKey: primary?.read(record, state) ?? null,
        EntityName: provider.entityName,
      };
      for (const column of selected) row[column.name] = column.read(record, state);
      return row;
    }),
  };
}
