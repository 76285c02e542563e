/**
 * A record as the API returns it: every attribute of the entity type in definition order, link names
 * (`assignedUserName`, `createdByName`, `accountName`) resolved at read time, Contact's `name` computed from
 * first and last name, and `versionNumber` only where optimistic concurrency is on (the vendor adds the
 * attribute only then). `deleted: false` is included ([UNCONFIRMED], reference gap 2).
 */
import type { JsonObject, JsonValue } from '../../core/types.ts';
import { fieldAttributes } from './entity-defs.ts';
import type { EntityDef } from './entity-defs.ts';
import type { EspoCrmQuirks } from './quirks.ts';
import type { SimState, StoredRecord } from './state.ts';
import type { UserDirectory } from './users.ts';

/** A record's read output; every stored record has a string id. */
export type RecordOutput = JsonObject & { readonly id: string };

/** What rendering needs besides the record. */
export interface RenderContext {
  readonly state: SimState;
  readonly users: UserDirectory;
  readonly quirks: () => EspoCrmQuirks;
}

/** Attributes never in the output of a type (`versionNumber` without concurrency control). */
function hiddenAttributes(def: EntityDef, quirks: EspoCrmQuirks): ReadonlySet<string> {
  return new Set(quirks.optimisticConcurrency[def.name] ? [] : ['versionNumber']);
}

/** The output attribute names of `def`, in order. */
export function outputAttributes(def: EntityDef, quirks: EspoCrmQuirks): string[] {
  const hidden = hiddenAttributes(def, quirks);
  const names = new Set<string>(['id']);
  for (const field of def.fields)
    for (const attribute of fieldAttributes(field)) if (!hidden.has(attribute)) names.add(attribute);
  names.add('deleted');
  return [...names];
}

function personName(record: StoredRecord): JsonValue {
  const parts = [record.firstName, record.lastName].filter(
    (part): part is string => typeof part === 'string' && part !== '',
  );
  return parts.length === 0 ? null : parts.join(' ');
}

function linkName(attribute: string, record: StoredRecord, context: RenderContext): JsonValue {
  const link = attribute.slice(0, -'Name'.length);
  const id = record[`${link}Id`];
  if (typeof id !== 'string') return null;
  if (link === 'account') {
    const account = context.state.table('Account').get(id);
    return account === undefined || account.deleted === true ? null : (account.name ?? null);
  }
  return context.users.nameOf(id);
}

/** The value of one output attribute. */
function attributeValue(
  def: EntityDef,
  attribute: string,
  record: StoredRecord,
  context: RenderContext,
): JsonValue {
  if (def.person && attribute === 'name') return personName(record);
  const field = def.fields.find(
    (candidate) => candidate.type === 'link' && `${candidate.name}Name` === attribute,
  );
  if (field !== undefined) return linkName(attribute, record, context);
  return record[attribute] ?? null;
}

/** The full read output of `record`. */
export function renderRecord(def: EntityDef, record: StoredRecord, context: RenderContext): RecordOutput {
  const output: JsonObject = {};
  for (const attribute of outputAttributes(def, context.quirks()))
    output[attribute] = attributeValue(def, attribute, record, context);
  return output as RecordOutput;
}
