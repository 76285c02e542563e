/**
 * Reading vendor JSON whose keys are spelt differently per surface. SuperOffice's entity endpoints use
 * PascalCase (`ContactId`), archive rows camelCase (`contactId`), webhook payloads DB column names
 * (`contact_id`); advoware's seeds use camelCase where older advo-net endpoints use PascalCase. The system we
 * replace scattered `x.get('ContactId') or x.get('contactId')` special cases (seed 001); this is the one place
 * that reads keys case-insensitively instead.
 */
import type { JsonObject } from '../../core/types.ts';

/** The value under `key` in `object`, matching the key case-insensitively; an exact match wins. */
export function getField(object: Readonly<Record<string, unknown>>, key: string): unknown {
  if (Object.hasOwn(object, key)) return object[key];
  const wanted = key.toLowerCase();
  for (const [name, value] of Object.entries(object)) {
    if (name.toLowerCase() === wanted) return value;
  }
  return undefined;
}

/** A string or integer id under `key` as a string (vendors send ids as either), or undefined. */
export function getId(object: Readonly<Record<string, unknown>>, key: string): string | undefined {
  const value = getField(object, key);
  if (typeof value === 'number' && Number.isInteger(value)) return String(value);
  if (typeof value === 'string' && value !== '') return value;
  return undefined;
}

/** `true` when `object` is a plain JSON object (not null, not an array). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** {@link isObject} for values known to be parsed JSON: narrows to a {@link JsonObject}. */
export function isJsonObject(value: unknown): value is JsonObject {
  return isObject(value);
}
