/**
 * Parsing written Contact, Person and Sale bodies back into records (property names case-insensitive, as
 * the vendor's JSON binding is; read-only fields ignored; references must exist), and the template record
 * that POST, PUT and `GET /{Entity}/default` start from.
 */
import { formatEntityDate, ENTITY_NAMES } from './entities.ts';
import { badRequest } from './errors.ts';
import { COUNTRIES } from './model.ts';
import type {
  CommItem,
  ContactRecord,
  EntityKind,
  PersonRecord,
  RecordOf,
  SaleRecord,
  SaleStatus,
  SimState,
} from './model.ts';
import { parseUdfWrite } from './udf.ts';

/** A body with case-insensitive property lookup (the vendor's JSON binding ignores case). */
class Body {
  readonly #values = new Map<string, unknown>();
  constructor(body: Record<string, unknown>) {
    for (const [key, value] of Object.entries(body)) this.#values.set(key.toLowerCase(), value);
  }
  has(name: string): boolean {
    return this.#values.has(name.toLowerCase());
  }
  get(name: string): unknown {
    return this.#values.get(name.toLowerCase());
  }
  string(name: string, fallback: string): string {
    if (!this.has(name)) return fallback;
    const value = this.get(name);
    if (value === null) return '';
    if (typeof value !== 'string')
      throw badRequest(`${name} must be a string, got ${JSON.stringify(value)}.`);
    return value;
  }
  /** The id inside a reference object (`{"AssociateId": 485}`), 0 for null. */
  reference(name: string, idProperty: string, fallback: number): number {
    if (!this.has(name)) return fallback;
    const value = this.get(name);
    if (value === null) return 0;
    if (typeof value !== 'object' || Array.isArray(value))
      throw badRequest(`${name} must be an object with ${idProperty}, or null.`);
    const id = new Body(value as Record<string, unknown>).get(idProperty);
    if (typeof id !== 'number' || !Number.isInteger(id))
      throw badRequest(`${name}.${idProperty} must be an integer.`);
    return id;
  }
  comm(name: string, fallback: CommItem[]): CommItem[] {
    if (!this.has(name)) return fallback;
    const value = this.get(name);
    if (value === null) return [];
    if (!Array.isArray(value)) throw badRequest(`${name} must be an array of {Value, Description}.`);
    return value.map((element, index) => {
      if (typeof element !== 'object' || element === null)
        throw badRequest(`${name}[${index}] must be an object with Value.`);
      const item = new Body(element as Record<string, unknown>);
      return { value: item.string('Value', ''), description: item.string('Description', '') };
    });
  }
}

function checkExists(ok: boolean, what: string): void {
  if (!ok) throw badRequest(`${what} does not exist.`);
}

const SALE_STATUSES: readonly SaleStatus[] = ['Open', 'Sold', 'Lost', 'Stalled'];

/**
 * Builds the record a write produces: properties present in `input` replace those of `base`; read-only
 * fields (ids, CreatedDate, UpdatedDate, UpdatedBy, derived names) are ignored. References must exist.
 */
export function parseEntity<K extends EntityKind>(
  state: SimState,
  kind: K,
  base: RecordOf[K],
  input: unknown,
): RecordOf[K] {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw badRequest(`The ${ENTITY_NAMES[kind]} body must be a JSON object.`);
  const body = new Body(input as Record<string, unknown>);
  const udf = body.has('UserDefinedFields')
    ? parseUdfWrite(state, kind, body.get('UserDefinedFields'))
    : base.udf;
  const associateId = body.reference('Associate', 'AssociateId', base.associateId);
  checkExists(
    associateId === 0 || state.associateById(associateId) !== undefined,
    `Associate ${associateId}`,
  );
  const listRef = (name: string, listName: string, fallback: number) => {
    const id = body.reference(name, 'Id', fallback);
    checkExists(id === 0 || state.listItem(listName, id) !== undefined, `${name} ${id}`);
    return id;
  };
  const contactRef = (fallback: number) => {
    const id = body.reference('Contact', 'ContactId', fallback);
    checkExists(id === 0 || state.contacts.has(id), `Contact ${id}`);
    return id;
  };
  if (kind === 'contact') {
    const old = base as ContactRecord;
    const countryId = body.reference('Country', 'CountryId', old.countryId);
    checkExists(
      COUNTRIES.some((country) => country.countryId === countryId),
      `Country ${countryId}`,
    );
    const contact: ContactRecord = {
      ...old,
      name: body.string('Name', old.name),
      department: body.string('Department', old.department),
      orgNr: body.string('OrgNr', old.orgNr),
      number1: body.string('Number1', old.number1),
      number2: body.string('Number2', old.number2),
      description: body.string('Description', old.description),
      associateId,
      categoryId: listRef('Category', 'Category', old.categoryId),
      businessId: listRef('Business', 'Business', old.businessId),
      countryId,
      emails: body.comm('Emails', old.emails),
      urls: body.comm('Urls', old.urls),
      phones: body.comm('Phones', old.phones),
      udf,
    };
    return contact as RecordOf[K];
  }
  if (kind === 'person') {
    const old = base as PersonRecord;
    const person: PersonRecord = {
      ...old,
      firstname: body.string('Firstname', old.firstname),
      middleName: body.string('MiddleName', old.middleName),
      lastname: body.string('Lastname', old.lastname),
      title: body.string('Title', old.title),
      positionId: listRef('Position', 'Position', old.positionId),
      contactId: contactRef(old.contactId),
      associateId,
      emails: body.comm('Emails', old.emails),
      mobilePhones: body.comm('MobilePhones', old.mobilePhones),
      officePhones: body.comm('OfficePhones', old.officePhones),
      udf,
    };
    return person as RecordOf[K];
  }
  const old = base as SaleRecord;
  const status = body.string('Status', old.status);
  if (!SALE_STATUSES.includes(status as SaleStatus))
    throw badRequest(`Status must be one of ${SALE_STATUSES.join(', ')}, got "${status}".`);
  const amount = body.has('Amount') ? body.get('Amount') : old.amount;
  if (typeof amount !== 'number') throw badRequest('Amount must be a number.');
  const saledateText = body.string('Saledate', formatEntityDate(old.saledate));
  const saledate = Date.parse(saledateText);
  if (Number.isNaN(saledate)) throw badRequest(`Saledate must be an ISO date, got "${saledateText}".`);
  const personId = body.reference('Person', 'PersonId', old.personId);
  checkExists(personId === 0 || state.persons.has(personId), `Person ${personId}`);
  const sale: SaleRecord = {
    ...old,
    heading: body.string('Heading', old.heading),
    amount,
    status: status as SaleStatus,
    saledate,
    contactId: contactRef(old.contactId),
    personId,
    associateId,
    productFamilyId: listRef('ProductFamily', 'ProductFamily', old.productFamilyId),
    udf,
  };
  return sale as RecordOf[K];
}

/** The template record of `kind` (what `GET /{Entity}/default` shows and PUT/POST start from). */
export function templateRecord<K extends EntityKind>(
  kind: K,
  id: number,
  now: number,
  actor: number,
): RecordOf[K] {
  const base = { createdDate: now, updatedDate: now, createdBy: actor, updatedBy: actor, udf: {} };
  if (kind === 'contact') {
    const contact: ContactRecord = {
      ...base,
      contactId: id,
      name: '',
      department: '',
      orgNr: '',
      number1: '',
      number2: '',
      description: '',
      associateId: actor,
      categoryId: 0,
      businessId: 0,
      countryId: 276,
      emails: [],
      urls: [],
      phones: [],
    };
    return contact as RecordOf[K];
  }
  if (kind === 'person') {
    const person: PersonRecord = {
      ...base,
      personId: id,
      contactId: 0,
      firstname: '',
      middleName: '',
      lastname: '',
      title: '',
      positionId: 0,
      associateId: actor,
      emails: [],
      mobilePhones: [],
      officePhones: [],
    };
    return person as RecordOf[K];
  }
  const sale: SaleRecord = {
    ...base,
    saleId: id,
    heading: '',
    amount: 0,
    status: 'Open',
    saledate: now,
    contactId: 0,
    personId: 0,
    associateId: actor,
    productFamilyId: 0,
  };
  return sale as RecordOf[K];
}
