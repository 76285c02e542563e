/**
 * Input of create and update (reference §2, SRC `Core/Record/Service.php`): read-only attributes (`id`,
 * `deleted`, `createdAt`, `modifiedAt`, `createdById`, `versionNumber`, ...), foreign names (`xxxName`),
 * unknown attributes and the legacy `_skipDuplicateCheck` flag are dropped silently; the rest is checked
 * per field type (`valid`, `maxLength`, `required`) and brought to the stored type, as the vendor's ORM casts
 * numeric strings to integers. Communication lists are checked in communication.ts.
 */
import type { JsonObject, JsonValue } from '../../core/types.ts';
import { attributesOf } from './entity-defs.ts';
import type { AttributeDef, EntityDef } from './entity-defs.ts';
import { validationFailure } from './errors.ts';
import { parseDateTime } from './values.ts';

/** The writable attributes of `body` (anything else dropped); a body that is not an object gives 400. */
export function writableInput(def: EntityDef, body: JsonObject): JsonObject {
  const attributes = attributesOf(def);
  const input: JsonObject = {};
  for (const [name, value] of Object.entries(body)) {
    if (attributes.get(name)?.writable === true) input[name] = value;
  }
  return input;
}

const failure = (def: EntityDef, attribute: AttributeDef, type: string) =>
  validationFailure(def.name, attribute.field.name, type);

function coerceString(def: EntityDef, attribute: AttributeDef, value: JsonValue): JsonValue {
  if (value === null) return null;
  if (typeof value === 'object') throw failure(def, attribute, 'valid');
  const text = String(value);
  const { maxLength, options } = attribute.field;
  if (maxLength !== undefined && text.length > maxLength) throw failure(def, attribute, 'maxLength');
  if (options !== undefined && !options.includes(text)) throw failure(def, attribute, 'valid');
  return text;
}

function coerceInt(def: EntityDef, attribute: AttributeDef, value: JsonValue): JsonValue {
  if (value === null) return null;
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^-?\d+$/.test(value.trim())) return Number(value.trim());
  throw failure(def, attribute, 'valid');
}

function coerceBool(def: EntityDef, attribute: AttributeDef, value: JsonValue): JsonValue {
  if (value === null) return false;
  if (typeof value === 'boolean') return value;
  throw failure(def, attribute, 'valid');
}

function coerceDateTime(def: EntityDef, attribute: AttributeDef, value: JsonValue): JsonValue {
  if (value === null || value === '') return null;
  if (typeof value !== 'string') throw failure(def, attribute, 'valid');
  // The vendor also takes minutes without seconds (its UI sends them); nothing else.
  const text = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/.test(value) ? `${value}:00` : value;
  if (Number.isNaN(parseDateTime(text))) throw failure(def, attribute, 'valid');
  return text;
}

function coerceDate(def: EntityDef, attribute: AttributeDef, value: JsonValue): JsonValue {
  if (value === null || value === '') return null;
  if (typeof value !== 'string' || Number.isNaN(parseDateTime(`${value} 00:00:00`)))
    throw failure(def, attribute, 'valid');
  return value;
}

/** Brings one attribute value to its stored type or throws the vendor's validation failure. */
function coerce(def: EntityDef, attribute: AttributeDef, value: JsonValue): JsonValue {
  switch (attribute.kind) {
    case 'int':
      return coerceInt(def, attribute, value);
    case 'bool':
      return coerceBool(def, attribute, value);
    case 'datetime':
      return coerceDateTime(def, attribute, value);
    case 'date':
      return coerceDate(def, attribute, value);
    case 'emailData':
    case 'phoneData':
      return value;
    default:
      return coerceString(def, attribute, value);
  }
}

const isEmpty = (value: JsonValue | undefined) => value === undefined || value === null || value === '';

/**
 * Checks and casts `input` (from {@link writableInput}); `merged` is the record as it would be saved, for the
 * `required` check (on update only required fields present in the input are checked, as the vendor does).
 * Fields are checked in definition order; the first failure is thrown.
 */
export function checkInput(
  def: EntityDef,
  input: JsonObject,
  merged: (coerced: JsonObject) => JsonObject,
  isCreate: boolean,
): JsonObject {
  const attributes = attributesOf(def);
  const coerced: JsonObject = {};
  for (const [name, value] of Object.entries(input)) {
    const attribute = attributes.get(name);
    if (attribute !== undefined) coerced[name] = coerce(def, attribute, value);
  }
  const record = merged(coerced);
  for (const field of def.fields) {
    if (field.required !== true) continue;
    const attribute = attributes.get(field.name);
    if (attribute === undefined) continue;
    const touched = Object.hasOwn(coerced, field.name);
    if ((isCreate || touched) && isEmpty(record[field.name]))
      throw validationFailure(def.name, field.name, 'required');
  }
  return coerced;
}
