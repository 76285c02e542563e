/**
 * `emailAddressData` and `phoneNumberData`, the multi-value email and phone fields (reference §4). Saving
 * either array **replaces the whole set**: an address missing from it is unlinked from the record. A caller
 * that sends only the new address, or computes the array from a record read without the attribute, silently
 * deletes the others. So these helpers always start from the current array and apply changes to it:
 *
 * ```ts
 * const record = await api.get('CBeteiligte', id);                 // read with emailAddressData
 * const patch = emailAddressPatch(record, { upsert: ['new@example.com'], remove: ['old@example.com'] });
 * if (Object.keys(patch).length > 0) await api.update('CBeteiligte', id, patch);
 * ```
 *
 * Email addresses are compared case-insensitively (as the server does, by `lower`); phone numbers by their
 * digits and `+` only, so `+49 421 123-45` and `+4942112345` are the same number. Exactly one entry is
 * primary when the set is not empty (the server would make the first one primary otherwise; it is explicit
 * here), and the primary entry comes first, as the server returns it. The read-only `lower` is never sent.
 */
import { InputError } from '../../core/errors.ts';
import type { JsonObject } from '../../core/types.ts';
import { canonicalJson } from '../../core/canonical.ts';
import { isJsonObject } from '../shared/casing.ts';

/** One entry of `emailAddressData` as sent. */
export interface EmailAddressEntry {
  readonly emailAddress: string;
  readonly primary: boolean;
  readonly optOut: boolean;
  readonly invalid: boolean;
}

/** One entry of `phoneNumberData` as sent. `type` is absent when the field's default type applies. */
export interface PhoneNumberEntry {
  readonly phoneNumber: string;
  /** `Mobile`, `Office`, `Home`, `Fax`, `Other` by default; Account has no `Home` (reference §4). */
  readonly type?: string;
  readonly primary: boolean;
  readonly optOut: boolean;
  readonly invalid: boolean;
}

/** An address to add or update: the address alone, or with flags (absent flags keep their current value). */
export type EmailAddressInput =
  | string
  | {
      readonly emailAddress: string;
      readonly primary?: boolean;
      readonly optOut?: boolean;
      readonly invalid?: boolean;
    };

/** A number to add or update: the number alone, or with type and flags (absent ones keep their value). */
export type PhoneNumberInput =
  | string
  | {
      readonly phoneNumber: string;
      readonly type?: string;
      readonly primary?: boolean;
      readonly optOut?: boolean;
      readonly invalid?: boolean;
    };

/** Changes to one set. `remove` applies first, then `upsert`, then `primary`. */
export interface CollectionChanges<Input> {
  /** Entries to add, or to update where the same value (by the comparison key) is present. */
  readonly upsert?: readonly Input[];
  /** Values to remove (by the comparison key); absent values are ignored. */
  readonly remove?: readonly string[];
  /** The value to make primary; added when absent. */
  readonly primary?: string;
}

/** The neutral shape both fields are merged in. */
interface Item {
  value: string;
  primary: boolean;
  optOut: boolean;
  invalid: boolean;
  type?: string | undefined;
}

interface Flags {
  readonly primary?: boolean | undefined;
  readonly optOut?: boolean | undefined;
  readonly invalid?: boolean | undefined;
  readonly type?: string | undefined;
}

/** What differs between the two fields. */
interface CollectionKind {
  /** `emailAddressData` / `phoneNumberData`. */
  readonly attribute: string;
  /** `emailAddress` / `phoneNumber`: the value key inside an entry, and the record's primary attribute. */
  readonly valueKey: string;
  /** The comparison key of a value. */
  readonly key: (value: string) => string;
}

const EMAIL: CollectionKind = {
  attribute: 'emailAddressData',
  valueKey: 'emailAddress',
  key: (value) => value.trim().toLowerCase(),
};

const PHONE: CollectionKind = {
  attribute: 'phoneNumberData',
  valueKey: 'phoneNumber',
  key: (value) => {
    const digits = value.replace(/[^\d+]/g, '');
    return digits === '' ? value.trim().toLowerCase() : digits;
  },
};

function readItems(kind: CollectionKind, record: JsonObject): Item[] {
  const raw = record[kind.attribute];
  if (raw === undefined) {
    throw new InputError(
      'ESPOCRM_COLLECTION_NOT_READ',
      `The record was read without ${kind.attribute}; computing a new ${kind.attribute} from it would unlink every ` +
        `existing ${kind.valueKey}. Read it with ${kind.attribute} (no select, or a select that includes it).`,
    );
  }
  const primaryValue = record[kind.valueKey];
  if (raw === null || (Array.isArray(raw) && raw.length === 0)) {
    if (typeof primaryValue === 'string' && primaryValue !== '') {
      throw new InputError(
        'ESPOCRM_COLLECTION_NOT_READ',
        `The record has ${kind.valueKey} "${primaryValue}" but an empty ${kind.attribute}; read it again with ${kind.attribute}.`,
      );
    }
    return [];
  }
  if (!Array.isArray(raw)) {
    throw new InputError('ESPOCRM_COLLECTION_INVALID', `${kind.attribute} must be an array.`);
  }
  return raw.filter(isJsonObject).flatMap((entry) => {
    const value = entry[kind.valueKey];
    if (typeof value !== 'string' || value.trim() === '') return [];
    return [
      {
        value,
        primary: entry['primary'] === true,
        optOut: entry['optOut'] === true,
        invalid: entry['invalid'] === true,
        ...(typeof entry['type'] === 'string' && entry['type'] !== '' && { type: entry['type'] }),
      },
    ];
  });
}

function normaliseInput(kind: CollectionKind, input: string | object): { value: string } & Flags {
  if (typeof input === 'string') return { value: input.trim() };
  const value = (input as Record<string, unknown>)[kind.valueKey];
  if (typeof value !== 'string' || value.trim() === '') {
    throw new InputError(
      'ESPOCRM_COLLECTION_INVALID',
      `Every ${kind.valueKey} to add must be a non-empty string.`,
    );
  }
  const flags = input as Flags;
  return {
    value: value.trim(),
    primary: flags.primary,
    optOut: flags.optOut,
    invalid: flags.invalid,
    type: flags.type,
  };
}

/** The pure merge behind both fields (rules in the module comment). */
function mergeItems(
  kind: CollectionKind,
  current: readonly Item[],
  changes: CollectionChanges<string | object>,
): Item[] {
  const removed = new Set((changes.remove ?? []).map(kind.key));
  const items: Item[] = [];
  const byKey = new Map<string, Item>();
  for (const item of current) {
    const key = kind.key(item.value);
    if (removed.has(key) || byKey.has(key)) continue;
    const copy = { ...item };
    byKey.set(key, copy);
    items.push(copy);
  }
  const currentPrimary = items.find((item) => item.primary);
  let primaryKey = currentPrimary === undefined ? null : kind.key(currentPrimary.value);
  const upserts = (changes.upsert ?? []).map((input) => normaliseInput(kind, input));
  if (changes.primary !== undefined) upserts.push({ value: changes.primary.trim(), primary: true });
  for (const input of upserts) {
    const key = kind.key(input.value);
    let item = byKey.get(key);
    if (item === undefined) {
      item = { value: input.value, primary: false, optOut: false, invalid: false };
      byKey.set(key, item);
      items.push(item);
    } else {
      item.value = input.value;
    }
    if (input.optOut !== undefined) item.optOut = input.optOut;
    if (input.invalid !== undefined) item.invalid = input.invalid;
    if (input.type !== undefined) item.type = input.type;
    if (input.primary === true) primaryKey = key;
  }
  if (items.length === 0) return [];
  const primary = (primaryKey === null ? undefined : byKey.get(primaryKey)) ?? items[0]!;
  for (const item of items) item.primary = item === primary;
  return [primary, ...items.filter((item) => item !== primary)];
}

function toEmailEntry(item: Item): EmailAddressEntry {
  return { emailAddress: item.value, primary: item.primary, optOut: item.optOut, invalid: item.invalid };
}

function toPhoneEntry(item: Item): PhoneNumberEntry {
  return {
    phoneNumber: item.value,
    ...(item.type !== undefined && { type: item.type }),
    primary: item.primary,
    optOut: item.optOut,
    invalid: item.invalid,
  };
}

/** The read, merge and patch functions of one field, typed by its entries. */
interface CollectionFunctions<Entry, Input> {
  readonly read: (record: JsonObject) => Entry[];
  readonly merge: (current: readonly Entry[], changes: CollectionChanges<Input>) => Entry[];
  readonly patch: (record: JsonObject, changes: CollectionChanges<Input>) => JsonObject;
}

function collection<Entry extends object, Input>(
  kind: CollectionKind,
  toEntry: (item: Item) => Entry,
): CollectionFunctions<Entry, Input> {
  const fromEntry = (entry: Entry): Item => {
    const fields = entry as unknown as Item & Record<string, string>;
    return { ...fields, value: fields[kind.valueKey]! };
  };
  const merge = (current: readonly Entry[], changes: CollectionChanges<Input>): Entry[] =>
    mergeItems(kind, current.map(fromEntry), changes as CollectionChanges<string | object>).map(toEntry);
  const read = (record: JsonObject): Entry[] => mergeItems(kind, readItems(kind, record), {}).map(toEntry);
  const patch = (record: JsonObject, changes: CollectionChanges<Input>): JsonObject => {
    const current = read(record);
    const next = merge(current, changes);
    const same =
      canonicalJson(current as unknown as JsonObject[]) === canonicalJson(next as unknown as JsonObject[]);
    return same ? {} : { [kind.attribute]: next as unknown as JsonObject[] };
  };
  return { read, merge, patch };
}

const emails = collection<EmailAddressEntry, EmailAddressInput>(EMAIL, toEmailEntry);
const phones = collection<PhoneNumberEntry, PhoneNumberInput>(PHONE, toPhoneEntry);

/**
 * The current `emailAddressData` of a record as entries to send (primary first, `lower` dropped). Throws
 * ESPOCRM_COLLECTION_NOT_READ when the record was read without the attribute.
 */
export const readEmailAddressData: (record: JsonObject) => EmailAddressEntry[] = emails.read;

/** The current `phoneNumberData` of a record as entries to send (primary first). */
export const readPhoneNumberData: (record: JsonObject) => PhoneNumberEntry[] = phones.read;

/** The full new `emailAddressData`: `current` with `changes` applied (pass `[]` to build a set from scratch). */
export const mergeEmailAddressData: CollectionFunctions<EmailAddressEntry, EmailAddressInput>['merge'] =
  emails.merge;

/** The full new `phoneNumberData`: `current` with `changes` applied. */
export const mergePhoneNumberData: CollectionFunctions<PhoneNumberEntry, PhoneNumberInput>['merge'] =
  phones.merge;

/**
 * The update body for `changes` to the record's email addresses: `{ emailAddressData: [...full set] }`, or `{}`
 * when nothing changes. The record must have been read with `emailAddressData`.
 */
export const emailAddressPatch: CollectionFunctions<EmailAddressEntry, EmailAddressInput>['patch'] =
  emails.patch;

/** The update body for `changes` to the record's phone numbers: `{ phoneNumberData: [...] }`, or `{}`. */
export const phoneNumberPatch: CollectionFunctions<PhoneNumberEntry, PhoneNumberInput>['patch'] =
  phones.patch;
