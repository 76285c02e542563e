/**
 * Reading request bodies into changes of the database, with 400s that name the offending field. Unknown
 * properties are ignored, as ASP.NET's JSON binding does; [UNCONFIRMED] the messages imitate its model
 * validation ("The tlf field is required.") since the vendor's are unknown.
 */
import { badRequest } from './errors.ts';
import { isKommKz } from './model.ts';
import type { BeteiligteSchema } from './schema.ts';

/** A Kommunikation to create (seed 003: `tlf` and `kommKz` required, `bemerkung` and `online` optional). */
export interface NewKommunikation {
  readonly tlf: string;
  readonly kommKz: number;
  readonly bemerkung: string | null;
  readonly online: boolean;
}

/** Changes of a Kommunikation (seed 003: writable are `tlf`, `bemerkung`, `online`); absent = unchanged. */
export interface KommunikationChanges {
  readonly tlf?: string;
  readonly bemerkung?: string | null;
  readonly online?: boolean;
}

/** The body as an object, or a 400 saying what came instead. */
export function bodyObject(body: unknown, where: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw badRequest(
      `${where}: the body must be a JSON object, got ${Array.isArray(body) ? 'an array' : typeof body}.`,
    );
  return body as Record<string, unknown>;
}

function has(body: Record<string, unknown>, key: string): boolean {
  return Object.hasOwn(body, key) && body[key] !== undefined;
}

function optionalText(body: Record<string, unknown>, key: string, where: string): string | null | undefined {
  if (!has(body, key)) return undefined;
  const value = body[key];
  if (value === null || typeof value === 'string') return value;
  throw badRequest(`${where}: the value of '${key}' must be a string or null, got ${JSON.stringify(value)}.`);
}

function requiredText(body: Record<string, unknown>, key: string, where: string): string {
  const value = optionalText(body, key, where);
  if (value === undefined || value === null) throw badRequest(`${where}: The ${key} field is required.`);
  return value;
}

function optionalBoolean(body: Record<string, unknown>, key: string, where: string): boolean | undefined {
  if (!has(body, key)) return undefined;
  const value = body[key];
  if (typeof value === 'boolean') return value;
  throw badRequest(`${where}: the value of '${key}' must be true or false, got ${JSON.stringify(value)}.`);
}

/**
 * The schema's text fields present in `body` (a present null clears the field). With `requireName`, `name`
 * must be a non-blank string: every Beteiligter has one (a person's surname or a company's name).
 */
export function parseBeteiligterFields(
  input: unknown,
  schema: BeteiligteSchema,
  where: string,
  options: { readonly requireName: boolean },
): Record<string, string | null> {
  const body = bodyObject(input, where);
  const fields: Record<string, string | null> = {};
  for (const field of schema.fieldNames) {
    const value = optionalText(body, field, where);
    if (value !== undefined) fields[field] = value;
  }
  const name = fields.name;
  if ((options.requireName || name !== undefined) && (typeof name !== 'string' || name.trim() === ''))
    throw badRequest(`${where}: The name field is required (a person's surname or a company's name).`);
  return fields;
}

/** A Kommunikation to create. */
export function parseNewKommunikation(input: unknown, where: string): NewKommunikation {
  const body = bodyObject(input, where);
  const tlf = requiredText(body, 'tlf', where);
  const kommKz = body.kommKz;
  if (kommKz === undefined || kommKz === null) throw badRequest(`${where}: The kommKz field is required.`);
  if (!isKommKz(kommKz))
    throw badRequest(
      `${where}: kommKz must be an integer from 1 (TelGesch) to 12 (Bea), got ${JSON.stringify(kommKz)}.`,
    );
  return {
    tlf,
    kommKz,
    bemerkung: optionalText(body, 'bemerkung', where) ?? null,
    online: optionalBoolean(body, 'online', where) ?? false,
  };
}

/**
 * Changes of a Kommunikation from a PUT body. `fullReplace`: `tlf` is required and a missing `bemerkung` /
 * `online` becomes null / false; otherwise only present fields change. A `kommKz` in the body is ignored
 * when `kommKzIgnored`, else answered 400 (it is read-only after creation, seed 003).
 */
export function parseKommunikationUpdate(
  input: unknown,
  where: string,
  options: { readonly fullReplace: boolean; readonly kommKzIgnored: boolean },
): KommunikationChanges {
  const body = bodyObject(input, where);
  if (!options.kommKzIgnored && has(body, 'kommKz'))
    throw badRequest(`${where}: kommKz is read-only after creation; leave it out of the PUT body.`);
  const tlf = options.fullReplace ? requiredText(body, 'tlf', where) : optionalText(body, 'tlf', where);
  if (tlf === null) throw badRequest(`${where}: tlf must be a string, not null.`);
  const bemerkung = optionalText(body, 'bemerkung', where);
  const online = optionalBoolean(body, 'online', where);
  if (options.fullReplace) return { tlf, bemerkung: bemerkung ?? null, online: online ?? false };
  return {
    ...(tlf !== undefined && { tlf }),
    ...(bemerkung !== undefined && { bemerkung }),
    ...(online !== undefined && { online }),
  };
}

/** A non-negative integer query parameter (`skip`, `take`), or undefined when absent. */
export function parseCount(value: unknown, name: string, where: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(number))
    throw badRequest(`${where}: ${name} must be a non-negative integer, got ${JSON.stringify(value)}.`);
  return number;
}
