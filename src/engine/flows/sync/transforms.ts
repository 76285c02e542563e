/**
 * Value transforms of a sync flow's field mappings. A transform works both ways: `toCanonical` turns a vendor
 * value into the canonical value the merge compares, `toVendor` turns a canonical value back into what the
 * vendor stores. The contract is round-trip safety on canonical values: for every value `toCanonical` can
 * return, `toCanonical(toVendor(value))` is that value again, so a written value never reads back as a change.
 *
 * The built-ins are named in the config (`transform: ['trim', 'emptyToNull']`); a TS config may pass its own
 * `{ toCanonical, toVendor }` pair. Pure: no I/O, no clock.
 */
import { CrmsyncError } from '../../../core/errors.ts';
import type { JsonValue } from '../../../core/types.ts';

/** A two-way value transform. Both functions must be pure. */
export interface ValueTransform {
  /** Vendor value -> canonical value (what the merge compares and the base snapshot stores). */
  readonly toCanonical: (value: JsonValue) => JsonValue;
  /** Canonical value -> vendor value (what is written). */
  readonly toVendor: (value: JsonValue) => JsonValue;
}

const identity = (value: JsonValue): JsonValue => value;

/** Applies `change` to strings only: every other value (null, numbers, objects) passes unchanged. */
function onText(change: (text: string) => JsonValue): (value: JsonValue) => JsonValue {
  return (value) => (typeof value === 'string' ? change(value) : value);
}

function transformFailed(transform: string, value: JsonValue, expected: string): CrmsyncError {
  return new CrmsyncError(
    'SYNC_TRANSFORM_FAILED',
    `The "${transform}" transform cannot read ${JSON.stringify(value)}: expected ${expected}. Fix the value or the field's transform.`,
    { details: { transform } },
  );
}

/** Vendor texts read as booleans (case-insensitive); German words because Advoware is German. */
const TRUE_TEXTS = new Set(['true', '1', 'yes', 'ja', 'y', 'j']);
const FALSE_TEXTS = new Set(['false', '0', 'no', 'nein', 'n']);

function toBoolean(value: JsonValue): JsonValue {
  if (value === null || typeof value === 'boolean') return value;
  if (value === 1 || value === 0) return value === 1;
  if (typeof value === 'string') {
    const text = value.trim().toLowerCase();
    if (text === '') return null;
    if (TRUE_TEXTS.has(text)) return true;
    if (FALSE_TEXTS.has(text)) return false;
  }
  throw transformFailed('boolean', value, 'true/false, 1/0, yes/no or ja/nein');
}

function toNumber(value: JsonValue): JsonValue {
  if (value === null) return null;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string') {
    const text = value.trim();
    if (text === '') return null;
    // A German decimal comma is read as a point only when the text has no point already.
    const parsed = Number(text.includes('.') ? text : text.replace(',', '.'));
    if (Number.isFinite(parsed)) return parsed;
  }
  throw transformFailed('number', value, 'a number or a numeric text');
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
const GERMAN_DATE = /^(\d{1,2})\.(\d{1,2})\.(\d{4})$/;

/** A calendar date as `YYYY-MM-DD`, or throws: the month and day must exist (no 31 February). */
function isoDate(year: string, month: string, day: string, original: JsonValue): string {
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not move the years 0-99 to 1900-1999.
  date.setUTCFullYear(Number(year), Number(month) - 1, Number(day));
  const text = `${year}-${month.padStart(2, '0')}-${day.padStart(2, '0')}`;
  if (Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== text)
    throw transformFailed('date', original, 'an existing calendar date');
  return text;
}

/**
 * A date, canonically `YYYY-MM-DD` (EspoCRM's date format). Read from that, from an ISO date-time (its date
 * part as written, no time-zone shift: a birth date stored as midnight stays that day) or from `DD.MM.YYYY`.
 */
function toDate(value: JsonValue): JsonValue {
  if (value === null) return null;
  if (typeof value === 'string') {
    const text = value.trim();
    if (text === '') return null;
    const iso = ISO_DATE.exec(text);
    if (iso !== null) return isoDate(iso[1]!, iso[2]!, iso[3]!, value);
    const german = GERMAN_DATE.exec(text);
    if (german !== null) return isoDate(german[3]!, german[2]!, german[1]!, value);
  }
  throw transformFailed('date', value, 'YYYY-MM-DD, an ISO date-time or DD.MM.YYYY');
}

/**
 * The built-in transforms by name.
 * - `trim`: leading and trailing white space is not part of the value (written back as is: already trimmed).
 * - `lowercase`: compares lower-cased (e-mail addresses, codes); written lower-cased.
 * - `emptyToNull`: an empty or blank text is no value; `null` is written as `null`.
 * - `number`: numbers and numeric texts (`"42"`, `"3,5"`) read as numbers; blank is `null`; written as a number.
 * - `boolean`: `true`/`false`, `1`/`0`, `yes`/`no`, `ja`/`nein` read as booleans; blank is `null`.
 * - `date`: see {@link toDate}; written as `YYYY-MM-DD`.
 * - `numberAsText`: for a vendor that stores numbers as text: read like `number`, written as a decimal text.
 * Anything a transform cannot read raises `SYNC_TRANSFORM_FAILED` (not retryable: the data or the config
 * must change).
 */
export const BUILT_IN_TRANSFORMS = {
  trim: { toCanonical: onText((text) => text.trim()), toVendor: identity },
  lowercase: { toCanonical: onText((text) => text.toLowerCase()), toVendor: identity },
  emptyToNull: { toCanonical: onText((text) => (text.trim() === '' ? null : text)), toVendor: identity },
  number: { toCanonical: toNumber, toVendor: identity },
  numberAsText: {
    toCanonical: toNumber,
    toVendor: (value: JsonValue): JsonValue => (typeof value === 'number' ? String(value) : value),
  },
  boolean: { toCanonical: toBoolean, toVendor: identity },
  date: { toCanonical: toDate, toVendor: identity },
} as const satisfies Record<string, ValueTransform>;

/** The name of a built-in transform. */
export type BuiltInTransformName = keyof typeof BUILT_IN_TRANSFORMS;

/** The names of the built-in transforms, for the config schema. */
export const BUILT_IN_TRANSFORM_NAMES = Object.keys(BUILT_IN_TRANSFORMS) as [
  BuiltInTransformName,
  ...BuiltInTransformName[],
];

/**
 * Several transforms as one: towards canonical in the listed order, towards the vendor in reverse, so that a
 * chain of round-trip-safe transforms is round-trip safe.
 */
export function chainTransforms(transforms: readonly ValueTransform[]): ValueTransform {
  return {
    toCanonical: (value) => transforms.reduce((current, step) => step.toCanonical(current), value),
    toVendor: (value) => transforms.reduceRight((current, step) => step.toVendor(current), value),
  };
}

/**
 * The built-in keys of collection items (see `CollectionFieldSpec.normalise`): `email` trims and lower-cases
 * an address; `phone` keeps the digits and a leading `+`, so `+49 30 1234-5` and `+4930 12345` are one item.
 */
export const NORMALISERS = {
  email: (value: string): string => value.trim().toLowerCase(),
  phone: (value: string): string => {
    const text = value.trim();
    return (text.startsWith('+') ? '+' : '') + text.replace(/\D/g, '');
  },
} as const satisfies Record<string, (value: string) => string>;

/** The name of a built-in normaliser. */
export type NormaliserName = keyof typeof NORMALISERS;
