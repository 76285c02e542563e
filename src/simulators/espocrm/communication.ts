/**
 * The e-mail and phone fields (reference §4, SRC `Core/FieldProcessing/EmailAddress/Saver.php`, `PhoneNumber/Saver.php`).
 * Each is a list without ids: `emailAddressData` of `{emailAddress, lower, primary, optOut, invalid}` and
 * `phoneNumberData` of `{phoneNumber, type, primary, optOut, invalid}`, primary first, with the primary's
 * value mirrored in `emailAddress`/`phoneNumber` and its flags in `...IsOptedOut`/`...IsInvalid`.
 *
 * Writing the data list replaces the whole set (missing values are unlinked; if none is primary the first
 * becomes primary; values are compared lowercased for e-mail). Writing only `emailAddress`/`phoneNumber`
 * sets or replaces the primary and leaves the others. Simplifications: the vendor stores addresses as shared
 * rows, so opt-out and invalid flags (and a phone's type, reference §4) are shared between records holding the
 * same value; the simulator keeps them per record.
 */
import type { JsonObject, JsonValue } from '../../core/types.ts';
import type { EntityDef } from './entity-defs.ts';
import { validationFailure } from './errors.ts';
import { isJsonObject, scalarText } from './values.ts';

/** The two communication fields. */
export type CommField = 'emailAddress' | 'phoneNumber';

/** Where a field's attributes are and how its values are checked. */
interface CommSpec {
  readonly field: CommField;
  readonly data: 'emailAddressData' | 'phoneNumberData';
  /** The key two entries are the same by. */
  key(value: string): string;
  /** Whether `value` is acceptable. */
  valid(value: string): boolean;
  /** Builds one stored entry; `type` is only used by phones. */
  entry(
    value: string,
    flags: { primary: boolean; optOut: boolean; invalid: boolean },
    type: string,
  ): JsonObject;
}

const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
// Digits with the usual separators, optionally a leading +; at least one digit.
const PHONE_PATTERN = /^\+?[0-9 ()\-./]*[0-9][0-9 ()\-./]*$/;

const SPECS: Readonly<Record<CommField, CommSpec>> = {
  emailAddress: {
    field: 'emailAddress',
    data: 'emailAddressData',
    key: (value) => value.toLowerCase(),
    valid: (value) => EMAIL_PATTERN.test(value),
    entry: (value, flags) => ({ emailAddress: value, lower: value.toLowerCase(), ...flags }),
  },
  phoneNumber: {
    field: 'phoneNumber',
    data: 'phoneNumberData',
    key: (value) => value,
    valid: (value) => PHONE_PATTERN.test(value) && value.length <= 36,
    entry: (value, flags, type) => ({ phoneNumber: value, type, ...flags }),
  },
};

function valueOf(spec: CommSpec, entry: JsonObject): string {
  return scalarText(entry[spec.field]);
}

/** Primary first; exactly one primary when the list is not empty (the first one marked, else the first). */
function normalise(spec: CommSpec, entries: JsonObject[]): JsonObject[] {
  const seen = new Set<string>();
  const unique = entries.filter((entry) => {
    const key = spec.key(valueOf(spec, entry));
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const primaryIndex = Math.max(
    0,
    unique.findIndex((entry) => entry.primary === true),
  );
  const ordered = unique.map((entry, index) => ({ ...entry, primary: index === primaryIndex }));
  const primary = ordered.splice(primaryIndex, 1);
  return [...primary, ...ordered];
}

function parseEntries(spec: CommSpec, def: EntityDef, raw: JsonValue): JsonObject[] {
  if (raw === null) return [];
  if (!Array.isArray(raw)) throw validationFailure(def.name, spec.field, 'valid');
  return raw.map((item) => {
    if (!isJsonObject(item)) throw validationFailure(def.name, spec.field, 'valid');
    const value = typeof item[spec.field] === 'string' ? (item[spec.field] as string).trim() : '';
    if (!spec.valid(value)) throw validationFailure(def.name, spec.field, 'valid');
    const type = item.type === undefined || item.type === null ? def.defaultPhoneType : item.type;
    if (spec.field === 'phoneNumber' && (typeof type !== 'string' || !def.phoneTypes.includes(type)))
      throw validationFailure(def.name, spec.field, 'valid');
    const flags = {
      primary: item.primary === true,
      optOut: item.optOut === true,
      invalid: item.invalid === true,
    };
    return spec.entry(value, flags, scalarText(type));
  });
}

/** Sets or replaces the primary value, leaving the others (input of only `emailAddress`/`phoneNumber`). */
function replacePrimary(spec: CommSpec, def: EntityDef, current: JsonObject[], raw: JsonValue): JsonObject[] {
  const value = typeof raw === 'string' ? raw.trim() : '';
  if (raw !== null && typeof raw !== 'string') throw validationFailure(def.name, spec.field, 'valid');
  const others = current.filter((entry) => entry.primary !== true);
  if (value === '') return others;
  if (!spec.valid(value)) throw validationFailure(def.name, spec.field, 'valid');
  const existing = others.find((entry) => spec.key(valueOf(spec, entry)) === spec.key(value));
  if (existing !== undefined)
    return [{ ...existing, primary: true }, ...others.filter((entry) => entry !== existing)];
  const oldPrimary = current.find((entry) => entry.primary === true);
  const type = typeof oldPrimary?.type === 'string' ? oldPrimary.type : def.defaultPhoneType;
  return [spec.entry(value, { primary: true, optOut: false, invalid: false }, type), ...others];
}

/**
 * The new entry list of `field` after `input` (attribute -> value, already stripped of read-only ones), or
 * undefined when the input does not touch the field. Throws a validation failure for bad values or types.
 */
export function applyCommunicationInput(
  field: CommField,
  def: EntityDef,
  current: JsonObject[],
  input: JsonObject,
): JsonObject[] | undefined {
  const spec = SPECS[field];
  const optedOut = input[`${field}IsOptedOut`];
  const invalid = input[`${field}IsInvalid`];
  let entries: JsonObject[] | undefined;
  if (Object.hasOwn(input, spec.data)) entries = parseEntries(spec, def, input[spec.data] ?? null);
  else if (Object.hasOwn(input, field)) entries = replacePrimary(spec, def, current, input[field] ?? null);
  if (entries === undefined && optedOut === undefined && invalid === undefined) return undefined;
  const result = normalise(spec, entries ?? current.map((entry) => ({ ...entry })));
  const primary = result[0];
  if (primary !== undefined && typeof optedOut === 'boolean') primary.optOut = optedOut;
  if (primary !== undefined && typeof invalid === 'boolean') primary.invalid = invalid;
  return result;
}

/** The attributes derived from the entry list: primary value, its flags, and the list itself. */
export function communicationAttributes(field: CommField, entries: JsonObject[]): JsonObject {
  const spec = SPECS[field];
  const primary = entries[0];
  return {
    [field]: primary === undefined ? null : valueOf(spec, primary),
    [`${field}IsOptedOut`]: primary === undefined ? null : primary.optOut === true,
    [`${field}IsInvalid`]: primary === undefined ? null : primary.invalid === true,
    [spec.data]: entries,
  };
}

/** The entry list stored in `record` for `field`. */
export function storedEntries(field: CommField, record: JsonObject): JsonObject[] {
  const list = record[SPECS[field].data];
  return Array.isArray(list) ? list.filter(isJsonObject) : [];
}

/** Every value of `field` in `record` (all addresses, not only the primary), for filters and duplicates. */
export function allValues(field: CommField, record: JsonObject): string[] {
  return storedEntries(field, record).map((entry) => valueOf(SPECS[field], entry));
}
