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

/**
 * Output attribute lists by type and whether `versionNumber` shows, the only quirk they depend on (entity
 * definitions never change). Every render and every list request asks for one.
 */
const outputAttributeCache = new Map<string, readonly string[]>();

/** The output attribute names of `def`, in order. */
export function outputAttributes(def: EntityDef, quirks: EspoCrmQuirks): readonly string[] {
  const hidden = hiddenAttributes(def, quirks);
  const key = `${def.name}|${hidden.has('versionNumber') ? 'no-version' : 'version'}`;
  const cached = outputAttributeCache.get(key);
  if (cached !== undefined) return cached;
  const names = new Set<string>(['id']);
  for (const field of def.fields)
    for (const attribute of fieldAttributes(field)) if (!hidden.has(attribute)) names.add(attribute);
  names.add('deleted');
  const list = Object.freeze([...names]);
  outputAttributeCache.set(key, list);
  return list;
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

/** The value of one output attribute; `linkNames` are the type's `...Name` attributes of link fields. */
function attributeValue(
  def: EntityDef,
  attribute: string,
  record: StoredRecord,
  context: RenderContext,
  linkNames: ReadonlySet<string>,
): JsonValue {
  if (def.person && attribute === 'name') return personName(record);
  if (linkNames.has(attribute)) return linkName(attribute, record, context);
  return record[attribute] ?? null;
}

/**
 * Reads one output attribute of a stored record of `def`, as its full read output would hold it (undefined
 * for attributes not in the output). Built once per request: the attribute list depends on the quirks.
 */
export type OutputReader = (record: StoredRecord, attribute: string) => JsonValue | undefined;

/** The {@link OutputReader} of `def` under the current quirks. */
export function outputReader(def: EntityDef, context: RenderContext): OutputReader {
  const attributes = new Set(outputAttributes(def, context.quirks()));
  const linkNames = new Set(
    def.fields.filter((field) => field.type === 'link').map((field) => `${field.name}Name`),
  );
  return (record, attribute) =>
    attributes.has(attribute) ? attributeValue(def, attribute, record, context, linkNames) : undefined;
}

/** The full read output of `record`. */
export function renderRecord(def: EntityDef, record: StoredRecord, context: RenderContext): RecordOutput {
  const read = outputReader(def, context);
  const output: JsonObject = {};
  // Every attribute listed is in the output, so the reader answers a value for each.
  for (const attribute of outputAttributes(def, context.quirks()))
    output[attribute] = read(record, attribute) ?? null;
  return output as RecordOutput;
}

/**
 * Stand-ins for records' read outputs that compute an attribute whenever it is read. List filters and
 * ordering read a few attributes of every record of the type; rendering each in full for every page made
 * paging through a type quadratic. Only property reads (and `in`) are answered, which is all a compiled
 * `where` predicate or a comparator does; anything that enumerates keys needs {@link renderRecord}. One
 * handler serves every record of a request and nothing is cached: a page scans every record, so what each
 * stand-in costs to make matters more than an attribute read twice while ordering.
 */
export function lazyOutputs(read: OutputReader): (record: StoredRecord) => JsonObject {
  // The stored record is the proxy's target; simulator state is never frozen, so no proxy invariant binds.
  const handler: ProxyHandler<StoredRecord> = {
    get: (record, key) => (typeof key === 'string' ? read(record, key) : undefined),
    has: (record, key) => typeof key === 'string' && read(record, key) !== undefined,
  };
  return (record) => new Proxy(record, handler);
}
