/**
 * The simulated entity definitions (the vendor's `entityDefs` metadata, reduced to what the simulator needs):
 * Account and Contact as the CRM module defines them, and the custom `CBeteiligte` entity of seed 004 (a
 * "Base" entity with the sync fields and e-mail/phone fields). A field has one or more attributes (reference
 * §4): a link `assignedUser` has `assignedUserId` (writable) and `assignedUserName` (read-only); an e-mail
 * field has `emailAddress`, `emailAddressData`, `emailAddressIsOptedOut` and `emailAddressIsInvalid`.
 */

/** The entity types with records (`/api/v1/{EntityType}`). */
export const ENTITY_TYPES = ['Account', 'Contact', 'CBeteiligte'] as const;

/** One of {@link ENTITY_TYPES}. */
export type EntityType = (typeof ENTITY_TYPES)[number];

/** Whether `name` is a simulated entity type (case-sensitive, as the vendor's routing is). */
export function isEntityType(name: string): name is EntityType {
  return (ENTITY_TYPES as readonly string[]).includes(name);
}

/** Field types the simulator knows. */
export type FieldType =
  | 'varchar'
  | 'text'
  | 'url'
  | 'int'
  | 'bool'
  | 'enum'
  | 'datetime'
  | 'date'
  | 'email'
  | 'phone'
  | 'link'
  | 'personName'
  | 'address';

/** One field of an entity type. */
export interface FieldDef {
  readonly name: string;
  readonly type: FieldType;
  /** Must not be empty on create, nor set empty on update (validation type `required`). */
  readonly required?: boolean;
  /** Set by the system only; input is dropped silently. */
  readonly readOnly?: boolean;
  /** Longest accepted string (validation type `maxLength`). */
  readonly maxLength?: number;
  /** Allowed values of an enum (validation type `valid`). */
  readonly options?: readonly string[];
  /** Value on create when the input has none. */
  readonly default?: string | number | boolean;
}

/** How an attribute's value is checked and compared. */
export type AttributeKind = 'string' | 'int' | 'bool' | 'datetime' | 'date' | 'emailData' | 'phoneData';

/** One attribute of an entity type. */
export interface AttributeDef {
  readonly name: string;
  /** The field the attribute belongs to. */
  readonly field: FieldDef;
  readonly kind: AttributeKind;
  /** Whether input may set it (false for read-only fields and foreign names such as `assignedUserName`). */
  readonly writable: boolean;
}

/** An entity type's definition. */
export interface EntityDef {
  readonly name: EntityType;
  readonly fields: readonly FieldDef[];
  /** Phone types of the `phoneNumber` field (reference §4: Account has no `Home`). */
  readonly phoneTypes: readonly string[];
  /** Type of a phone number sent without one. */
  readonly defaultPhoneType: string;
  /** Person entities: `name` is computed from first and last name; duplicates match on both. */
  readonly person: boolean;
  /** Fields of the duplicate check (reference §2: Account and Contact `name` and `emailAddress`). */
  readonly duplicateCheckFields: readonly string[];
  /** Whether optimistic concurrency is on by default (reference §2: Account yes, Contact and custom no). */
  readonly optimisticConcurrency: boolean;
  /** Audited fields by default (their changes leave Update notes; a simulator choice, settable by quirk). */
  readonly auditedFields: readonly string[];
}

const SYSTEM_FIELDS: readonly FieldDef[] = [
  { name: 'createdAt', type: 'datetime', readOnly: true },
  { name: 'modifiedAt', type: 'datetime', readOnly: true },
  { name: 'createdBy', type: 'link', readOnly: true },
  { name: 'modifiedBy', type: 'link', readOnly: true },
  { name: 'assignedUser', type: 'link' },
  { name: 'versionNumber', type: 'int', readOnly: true },
];

const COMMUNICATION_FIELDS: readonly FieldDef[] = [
  { name: 'emailAddress', type: 'email' },
  { name: 'phoneNumber', type: 'phone' },
];

const ALL_PHONE_TYPES = ['Mobile', 'Office', 'Home', 'Fax', 'Other'] as const;

const ACCOUNT: EntityDef = {
  name: 'Account',
  fields: [
    { name: 'name', type: 'varchar', required: true, maxLength: 249 },
    { name: 'website', type: 'url', maxLength: 255 },
    { name: 'type', type: 'enum', options: ['', 'Customer', 'Investor', 'Partner', 'Reseller'] },
    { name: 'industry', type: 'varchar', maxLength: 100 },
    { name: 'sicCode', type: 'varchar', maxLength: 40 },
    { name: 'billingAddress', type: 'address' },
    { name: 'description', type: 'text' },
    ...COMMUNICATION_FIELDS,
    ...SYSTEM_FIELDS,
  ],
  phoneTypes: ['Office', 'Mobile', 'Fax', 'Other'],
  defaultPhoneType: 'Office',
  person: false,
  duplicateCheckFields: ['name', 'emailAddress'],
  optimisticConcurrency: true,
  auditedFields: ['name', 'type', 'assignedUser'],
};

const CONTACT: EntityDef = {
  name: 'Contact',
  fields: [
    { name: 'name', type: 'personName', readOnly: true },
    { name: 'salutationName', type: 'enum', options: ['', 'Mr.', 'Ms.', 'Mrs.', 'Dr.'] },
    { name: 'firstName', type: 'varchar', maxLength: 100 },
    { name: 'lastName', type: 'varchar', required: true, maxLength: 100 },
    { name: 'title', type: 'varchar', maxLength: 100 },
    { name: 'account', type: 'link' },
    { name: 'address', type: 'address' },
    { name: 'doNotCall', type: 'bool', default: false },
    { name: 'description', type: 'text' },
    ...COMMUNICATION_FIELDS,
    ...SYSTEM_FIELDS,
  ],
  phoneTypes: ALL_PHONE_TYPES,
  defaultPhoneType: 'Mobile',
  person: true,
  duplicateCheckFields: ['name', 'emailAddress'],
  optimisticConcurrency: false,
  auditedFields: ['assignedUser', 'account'],
};

/**
 * The custom entity of seed 004. Its exact definition is [UNCONFIRMED] (the seed lists the sync fields and
 * maps `firstName`/`lastName`/`firmenname`/`name`); custom "Base" entities have no duplicate check and no
 * optimistic concurrency by default (reference §2), and the seed detects changes with `modifiedAt` against
 * `advowareLastSync`, not with `versionNumber`, so both stay off unless switched on by quirk.
 */
const BETEILIGTE: EntityDef = {
  name: 'CBeteiligte',
  fields: [
    { name: 'name', type: 'varchar', required: true, maxLength: 255 },
    { name: 'firstName', type: 'varchar', maxLength: 100 },
    { name: 'lastName', type: 'varchar', maxLength: 100 },
    { name: 'firmenname', type: 'varchar', maxLength: 255 },
    { name: 'advowareId', type: 'int' },
    { name: 'advowareRowId', type: 'varchar', maxLength: 50 },
    {
      name: 'syncStatus',
      type: 'enum',
      options: ['pending_sync', 'clean', 'dirty', 'syncing', 'failed', 'permanently_failed'],
      default: 'pending_sync',
    },
    { name: 'advowareLastSync', type: 'datetime' },
    { name: 'syncErrorMessage', type: 'text', maxLength: 2000 },
    { name: 'syncRetryCount', type: 'int', default: 0 },
    { name: 'description', type: 'text' },
    ...COMMUNICATION_FIELDS,
    ...SYSTEM_FIELDS,
  ],
  phoneTypes: ALL_PHONE_TYPES,
  defaultPhoneType: 'Mobile',
  person: false,
  duplicateCheckFields: [],
  optimisticConcurrency: false,
  auditedFields: ['name', 'syncStatus', 'advowareId', 'emailAddress', 'phoneNumber'],
};

const DEFS: Readonly<Record<EntityType, EntityDef>> = {
  Account: ACCOUNT,
  Contact: CONTACT,
  CBeteiligte: BETEILIGTE,
};

/** The definition of `entityType`. */
export function entityDef(entityType: EntityType): EntityDef {
  return DEFS[entityType];
}

const ADDRESS_PARTS = ['Street', 'City', 'State', 'Country', 'PostalCode'] as const;

/** The attributes a client writes for `field` (the vendor's "actual" attributes). */
export function actualAttributes(field: FieldDef): readonly string[] {
  switch (field.type) {
    case 'link':
      return [`${field.name}Id`];
    case 'email':
      return ['emailAddress', 'emailAddressIsOptedOut', 'emailAddressIsInvalid', 'emailAddressData'];
    case 'phone':
      return ['phoneNumber', 'phoneNumberIsOptedOut', 'phoneNumberIsInvalid', 'phoneNumberData'];
    case 'personName':
      return ['salutationName', 'firstName', 'lastName'];
    case 'address':
      return ADDRESS_PARTS.map((part) => `${field.name}${part}`);
    default:
      return [field.name];
  }
}

/** Every attribute of `field`, read-only ones (names) included. */
export function fieldAttributes(field: FieldDef): readonly string[] {
  if (field.type === 'link') return [`${field.name}Id`, `${field.name}Name`];
  if (field.type === 'personName') return [field.name, ...actualAttributes(field)];
  return actualAttributes(field);
}

function attributeKind(field: FieldDef, attribute: string): AttributeKind {
  if (attribute === 'emailAddressData') return 'emailData';
  if (attribute === 'phoneNumberData') return 'phoneData';
  if (attribute.endsWith('IsOptedOut') || attribute.endsWith('IsInvalid')) return 'bool';
  switch (field.type) {
    case 'int':
      return 'int';
    case 'bool':
      return 'bool';
    case 'datetime':
      return 'datetime';
    case 'date':
      return 'date';
    default:
      return 'string';
  }
}

const attributeCache = new Map<EntityType, ReadonlyMap<string, AttributeDef>>();

/**
 * Every attribute of the entity type, `id` and `deleted` included. Where two fields name the same attribute
 * (Contact's `name` and `firstName` both cover `firstName`), the field that is only that attribute wins.
 */
export function attributesOf(def: EntityDef): ReadonlyMap<string, AttributeDef> {
  const cached = attributeCache.get(def.name);
  if (cached !== undefined) return cached;
  const map = new Map<string, AttributeDef>();
  const idField: FieldDef = { name: 'id', type: 'varchar', readOnly: true };
  map.set('id', { name: 'id', field: idField, kind: 'string', writable: false });
  const deletedField: FieldDef = { name: 'deleted', type: 'bool', readOnly: true };
  map.set('deleted', { name: 'deleted', field: deletedField, kind: 'bool', writable: false });
  for (const field of def.fields) {
    const actual = actualAttributes(field);
    for (const attribute of fieldAttributes(field)) {
      const own = map.get(attribute);
      if (own !== undefined && own.field.name === attribute) continue;
      if (own !== undefined && field.name !== attribute) continue;
      map.set(attribute, {
        name: attribute,
        field,
        kind: attributeKind(field, attribute),
        writable: field.readOnly !== true && actual.includes(attribute),
      });
    }
  }
  attributeCache.set(def.name, map);
  return map;
}
