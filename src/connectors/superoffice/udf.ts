/**
 * User-defined fields (UDFs). SuperOffice sends `UserDefinedFields` as a string -> string map keyed by ProgId,
 * or `SuperOffice:<fieldId>` when the field has no ProgId. Every value is a string in one of these encodings
 * (reference §3.6):
 *
 * | type     | wire                  | decoded                                 |
 * |----------|-----------------------|-----------------------------------------|
 * | text     | as is                 | `{type:'text', value}`                  |
 * | number   | `"42"`, `"3.5"`       | `{type:'number', value: 42}`            |
 * | boolean  | `"True"` / `"False"`  | `{type:'boolean', value: true}`         |
 * | date     | `"[D:MM/dd/yyyy]"`    | `{type:'date', value: 'yyyy-MM-dd'}`    |
 * | datetime | `"[DT:MM/dd/yyyy HH:mm:ss.fffffff]"` (extra tables) | `{type:'datetime', value: ISO UTC}` |
 * | list     | `"[I:123]"` + `"<key>:DisplayText"` | `{type:'list', value: 123, displayText}` |
 *
 * Without a type hint the encoding is inferred from the string; pass hints (from the field definitions) where a
 * text field may hold digits or "True". A value of any other shape (an object or array, as the seeds' "unhashable
 * dict" incident suspected, seed 002) is reported as a {@link UdfFormatError} naming the field, never a crash.
 * [INFERRED] Writes use the same encoding (no source confirms the write format).
 */
import { UdfFormatError } from './errors.ts';

/** A decoded UDF value. `null` values mean "empty" (`[I:0]`, `[D:]`, `""` for non-text types). */
export type UdfValue =
  | { readonly type: 'text'; readonly value: string }
  | { readonly type: 'number'; readonly value: number | null }
  | { readonly type: 'boolean'; readonly value: boolean }
  | { readonly type: 'date'; readonly value: string | null }
  | { readonly type: 'datetime'; readonly value: string | null }
  | { readonly type: 'list'; readonly value: number | null; readonly displayText?: string };

/** The UDF types, for hints. */
export type UdfType = UdfValue['type'];

/** Suffixes of companion keys that describe a list value rather than hold one. */
const COMPANION_SUFFIXES = [':DisplayText', ':DisplayTooltip'] as const;

const LIST = /^\[I:(-?\d*)\]$/;
const DATE = /^\[D:(?:(\d{1,2})\/(\d{1,2})\/(\d{4}))?\]$/;
const DATETIME = /^\[DT:(?:(\d{1,2})\/(\d{1,2})\/(\d{4}) (\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?)?\]$/;
const NUMBER = /^-?\d+(?:\.\d+)?$/;

/** The UDF key of a field: its ProgId, or `SuperOffice:<id>` for a numeric field id. */
export function udfKey(progIdOrFieldId: string | number): string {
  return typeof progIdOrFieldId === 'number' ? `SuperOffice:${progIdOrFieldId}` : progIdOrFieldId;
}

function isCompanionKey(key: string): boolean {
  return COMPANION_SUFFIXES.some((suffix) => key.endsWith(suffix));
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

function isoDate(field: string, month: string, day: string, year: string): string {
  const m = Number(month);
  const d = Number(day);
  const y = Number(year);
  const probe = new Date(Date.UTC(y, m - 1, d));
  if (probe.getUTCMonth() !== m - 1 || probe.getUTCDate() !== d) {
    throw new UdfFormatError(field, `"${month}/${day}/${year}" is not a calendar date (expected MM/dd/yyyy)`);
  }
  return `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`;
}

function decodeList(field: string, raw: string): UdfValue {
  const match = LIST.exec(raw);
  if (match === null) throw new UdfFormatError(field, `expected a list item "[I:<id>]", got "${raw}"`);
  const id = match[1] === '' || match[1] === undefined ? 0 : Number(match[1]);
  return { type: 'list', value: id === 0 ? null : id };
}

function decodeDate(field: string, raw: string): UdfValue {
  const match = DATE.exec(raw);
  if (match === null) throw new UdfFormatError(field, `expected a date "[D:MM/dd/yyyy]", got "${raw}"`);
  const [, month, day, year] = match;
  if (month === undefined || day === undefined || year === undefined) return { type: 'date', value: null };
  return { type: 'date', value: isoDate(field, month, day, year) };
}

function decodeDateTime(field: string, raw: string): UdfValue {
  const match = DATETIME.exec(raw);
  if (match === null) {
    throw new UdfFormatError(field, `expected a date-time "[DT:MM/dd/yyyy HH:mm:ss.fffffff]", got "${raw}"`);
  }
  const [, month, day, year, hour, minute, second, fraction] = match;
  if (month === undefined || day === undefined || year === undefined)
    return { type: 'datetime', value: null };
  const date = isoDate(field, month, day, year);
  const millis = (fraction ?? '').padEnd(3, '0').slice(0, 3);
  return { type: 'datetime', value: `${date}T${pad(Number(hour), 2)}:${minute}:${second}.${millis}Z` };
}

function decodeBoolean(field: string, raw: string): UdfValue {
  // The vendor writes "True"/"False"; "1"/"0" is accepted as well because checkbox archive columns use it.
  const lower = raw.toLowerCase();
  if (lower === 'true' || lower === '1') return { type: 'boolean', value: true };
  if (lower === 'false' || lower === '0' || lower === '') return { type: 'boolean', value: false };
  throw new UdfFormatError(field, `expected "True" or "False", got "${raw}"`);
}

function decodeNumber(field: string, raw: string): UdfValue {
  if (raw === '') return { type: 'number', value: null };
  if (!NUMBER.test(raw)) throw new UdfFormatError(field, `expected a number, got "${raw}"`);
  return { type: 'number', value: Number(raw) };
}

function inferType(raw: string): UdfType {
  if (raw.startsWith('[I:')) return 'list';
  if (raw.startsWith('[D:')) return 'date';
  if (raw.startsWith('[DT:')) return 'datetime';
  if (raw === 'True' || raw === 'False') return 'boolean';
  if (NUMBER.test(raw)) return 'number';
  return 'text';
}

/**
 * Decodes one UDF value. `raw` is typed `unknown` on purpose: it comes straight from vendor JSON, and a
 * non-string there must become a typed error naming `field`, not a crash further on.
 */
export function decodeUdfValue(field: string, raw: unknown, type?: UdfType): UdfValue {
  if (typeof raw === 'number' && Number.isFinite(raw)) return decodeUdfValue(field, String(raw), type);
  if (typeof raw === 'boolean') return decodeUdfValue(field, raw ? 'True' : 'False', type);
  if (raw === null || raw === undefined) return decodeUdfValue(field, '', type ?? 'text');
  if (typeof raw !== 'string') {
    const shape = Array.isArray(raw) ? 'an array' : typeof raw === 'object' ? 'an object' : typeof raw;
    throw new UdfFormatError(field, `expected a string value, got ${shape}; check the raw API response`);
  }
  switch (type ?? inferType(raw)) {
    case 'text':
      return { type: 'text', value: raw };
    case 'number':
      return decodeNumber(field, raw);
    case 'boolean':
      return decodeBoolean(field, raw);
    case 'date':
      return decodeDate(field, raw);
    case 'datetime':
      return decodeDateTime(field, raw);
    case 'list':
      return decodeList(field, raw);
  }
}

/**
 * Decodes a whole `UserDefinedFields` map. Companion keys (`<key>:DisplayText`, `<key>:DisplayTooltip`) are
 * folded into their list values instead of appearing as fields. `types` gives hints by key.
 * Throws {@link UdfFormatError} when the map itself or one of its values has an unexpected shape.
 */
export function decodeUserDefinedFields(
  raw: unknown,
  types: Readonly<Record<string, UdfType>> = {},
): Record<string, UdfValue> {
  if (raw === null || raw === undefined) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new UdfFormatError(
      'UserDefinedFields',
      `expected an object of strings, got ${Array.isArray(raw) ? 'an array' : typeof raw}`,
    );
  }
  const map = raw as Record<string, unknown>;
  const decoded: Record<string, UdfValue> = {};
  for (const [key, value] of Object.entries(map)) {
    if (isCompanionKey(key)) continue;
    const field = decodeUdfValue(key, value, types[key]);
    const displayText = map[`${key}:DisplayText`];
    decoded[key] =
      field.type === 'list' && typeof displayText === 'string' && displayText !== ''
        ? { ...field, displayText }
        : field;
  }
  return decoded;
}

function usDate(field: string, iso: string, withTime: boolean): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?Z?)?$/.exec(iso);
  if (match === null) throw new UdfFormatError(field, `expected an ISO date "yyyy-MM-dd", got "${iso}"`);
  const [, year, month, day, hour = '00', minute = '00', second = '00', millis = '0'] = match;
  const date = `${month}/${day}/${year}`;
  isoDate(field, month!, day!, year!);
  return withTime ? `${date} ${hour}:${minute}:${second}.${millis.padEnd(7, '0')}` : date;
}

/** Encodes one value in the vendor's string form (the inverse of {@link decodeUdfValue}). */
export function encodeUdfValue(field: string, value: UdfValue): string {
  switch (value.type) {
    case 'text':
      return value.value;
    case 'number':
      if (value.value !== null && !Number.isFinite(value.value)) {
        throw new UdfFormatError(field, `cannot encode the number ${value.value}`);
      }
      return value.value === null ? '' : String(value.value);
    case 'boolean':
      return value.value ? 'True' : 'False';
    case 'date':
      return value.value === null ? '[D:]' : `[D:${usDate(field, value.value, false)}]`;
    case 'datetime':
      return value.value === null ? '[DT:]' : `[DT:${usDate(field, value.value, true)}]`;
    case 'list':
      if (value.value !== null && !Number.isInteger(value.value)) {
        throw new UdfFormatError(field, `a list item id must be an integer, got ${value.value}`);
      }
      return `[I:${value.value ?? 0}]`;
  }
}

/** Encodes a map of decoded values for a write (companion keys are read-only and never sent). */
export function encodeUserDefinedFields(values: Readonly<Record<string, UdfValue>>): Record<string, string> {
  const encoded: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) encoded[key] = encodeUdfValue(key, value);
  return encoded;
}
