/**
 * Pure helpers over Beteiligte bodies as the API sends them (reference §4; the schema is otherwise unknown,
 * so records stay plain JSON objects and keys are read case-insensitively: the seeds use camelCase, older
 * advo-net endpoints PascalCase).
 */
import { InputError } from '../../core/errors.ts';
import type { JsonObject, JsonValue } from '../../core/types.ts';
import { getField, getId, isObject } from '../shared/casing.ts';

/** The change marker of a record or Kommunikation: base64 binary, new after every write (seed 004). */
export const ROW_ID_FIELD = 'rowId';

/**
 * The one record of a GET-by-id answer. The integrator's code accepts an object or a one-element array
 * (seed 004: `result[0] if list`); both are handled. An empty array or null means "not there"; a longer
 * array is ambiguous and returns `undefined` for the caller to report.
 */
export function singleRecord(body: JsonValue | null): JsonObject | null | undefined {
  if (body === null) return null;
  if (isObject(body)) return body;
  if (Array.isArray(body)) {
    if (body.length === 0) return null;
    const [first] = body;
    return body.length === 1 && isObject(first) ? first : undefined;
  }
  return undefined;
}

/** The record's `rowId`, or null when it has none. */
export function rowIdOf(record: Readonly<Record<string, unknown>>): string | null {
  const value = getField(record, ROW_ID_FIELD);
  return typeof value === 'string' && value !== '' ? value : null;
}

/** The Beteiligter's number under `betNrField` (string or integer on the wire), as a string. */
export function betNrOf(record: Readonly<Record<string, unknown>>, betNrField: string): string | undefined {
  return getId(record, betNrField);
}

/**
 * The id a create answered with. [UNCONFIRMED] The seed's POST handling is cut off (reference §4), so a bare
 * number, a numeric string, an object with `betNrField` (or `id`), and a one-element array of such are read.
 */
export function createdIdOf(body: JsonValue | null, idField: string): string | undefined {
  if (typeof body === 'number' && Number.isInteger(body) && body > 0) return String(body);
  if (typeof body === 'string' && /^\d+$/.test(body.trim())) return body.trim();
  const record = singleRecord(body);
  if (record === null || record === undefined) return undefined;
  return getId(record, idField) ?? getId(record, 'id');
}

/**
 * The body of a full-replace PUT (seed 004's `merge_for_advoware_put`: `{**current, **changes}`): the record
 * as read, with the changed fields put in. A change whose key differs only in case from an existing key
 * replaces that key, so `Name` never adds a second `name`. Fields in `readOnly` (the id, `rowId`) keep their
 * current value; a change that tries to alter one is refused, since it cannot be what the caller meant.
 */
export function mergeForPut(
  current: JsonObject,
  changes: JsonObject,
  readOnly: readonly string[] = [],
): JsonObject {
  const merged: JsonObject = { ...current };
  const keyByLower = new Map(Object.keys(current).map((key) => [key.toLowerCase(), key]));
  const protectedKeys = new Set(readOnly.map((key) => key.toLowerCase()));
  for (const [key, value] of Object.entries(changes)) {
    const lower = key.toLowerCase();
    const target = keyByLower.get(lower) ?? key;
    if (protectedKeys.has(lower)) {
      const existing = merged[target];
      if (existing !== undefined && asText(existing) !== asText(value)) {
        throw new InputError(
          'ADVOWARE_FIELD_READ_ONLY',
          `"${key}" cannot be changed through a write (it is ${asText(existing)}); leave it out of the changes.`,
        );
      }
      continue;
    }
    merged[target] = value;
  }
  return merged;
}

/** A value as text for comparison and messages: ids arrive as numbers or strings (5 equals "5"). */
function asText(value: JsonValue): string {
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
}

/** A natural person when `vorname` is non-blank, else a company whose name is `name` (seed 004). */
export function isNaturalPerson(record: Readonly<Record<string, unknown>>): boolean {
  const vorname = getField(record, 'vorname');
  return typeof vorname === 'string' && vorname.trim() !== '';
}
