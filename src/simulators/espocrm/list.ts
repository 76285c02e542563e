/**
 * `GET /{EntityType}` (reference §3): filter (`where`, `textFilter`/`q`, the `onlyMy` bool filter), order
 * (default `createdAt DESC`; `id` breaks ties so pages never overlap), page (`offset`, `maxSize`), project
 * (`select`, `id` always included) and count. With `X-No-Total: true`, a `q` parameter or a type whose count
 * is disabled, `total` is -1 when more records follow the page and -2 when none do (the vendor fetches
 * `maxSize + 1` rows to tell). List rows leave out `emailAddressData`/`phoneNumberData` unless selected
 * ([UNCONFIRMED], quirk `listIncludesCommunicationData`).
 *
 * Filters and ordering read the records through `view` (attributes computed as read) and only the page's
 * records are rendered in full: rendering every record of the type for every page made paging quadratic.
 * Only the records up to the page's end are put in order (sorted-prefix.ts).
 */
import type { JsonObject } from '../../core/types.ts';
import { attributesOf } from './entity-defs.ts';
import type { EntityDef } from './entity-defs.ts';
import { badRequest } from './errors.ts';
import type { EspoCrmQuirks } from './quirks.ts';
import { outputAttributes } from './render.ts';
import type { SearchParams } from './search-params.ts';
import { sortedPrefix } from './sorted-prefix.ts';
import type { StoredRecord } from './state.ts';
import { sqlLike, sqlOrder } from './sql-compare.ts';
import { compileWhere } from './where.ts';
import type { RecordPredicate } from './where.ts';

/** The answer of a list request. */
export interface ListResult {
  readonly total: number;
  readonly list: JsonObject[];
}

/** One list request. */
export interface ListRequest {
  readonly def: EntityDef;
  /** Every record not deleted, as stored. */
  readonly records: readonly StoredRecord[];
  /**
   * What filters and ordering see of a record: something that reads as its read output does (attribute by
   * attribute, see `lazyOutputs`); never enumerated.
   */
  readonly view: (record: StoredRecord) => JsonObject;
  /** The full read output of a record; called for the page's records only. */
  readonly render: (record: StoredRecord) => JsonObject;
  readonly params: SearchParams;
  /** `X-No-Total: true` was sent. */
  readonly noTotal: boolean;
  readonly quirks: EspoCrmQuirks;
  readonly userId: string;
  readonly now: number;
}

const COMMUNICATION_DATA = ['emailAddressData', 'phoneNumberData'];

/** The text filter: `name` (or first/last name) or an e-mail address starting with the text; `*` is a wildcard. */
function textFilter(def: EntityDef, text: string): RecordPredicate {
  const pattern = text.includes('*') ? text.replace(/\*/g, '%') : `${text}%`;
  const fields = def.person ? ['name', 'firstName', 'lastName'] : ['name'];
  return (record) =>
    fields.some((field) => sqlLike(record[field] ?? null, pattern) === true) ||
    (Array.isArray(record.emailAddressData) ? record.emailAddressData : []).some(
      (entry) =>
        typeof entry === 'object' &&
        entry !== null &&
        !Array.isArray(entry) &&
        sqlLike(entry.emailAddress ?? null, pattern) === true,
    );
}

function boolFilters(names: readonly string[], userId: string): RecordPredicate[] {
  return names.map((name) => {
    if (name === 'onlyMy') return (record: JsonObject) => record.assignedUserId === userId;
    throw badRequest(`Bool filter '${name}' is not simulated (EspoCRM simulator).`);
  });
}

function comparator(def: EntityDef, params: SearchParams, available: ReadonlySet<string>) {
  const orderBy = params.orderBy ?? 'createdAt';
  // [UNCONFIRMED] the vendor's answer to ordering by an unknown attribute.
  if (!available.has(orderBy)) throw badRequest(`Not existing attribute '${orderBy}' in order.`);
  const direction = (params.order ?? (params.orderBy === null ? 'DESC' : 'ASC')) === 'DESC' ? -1 : 1;
  const kind = attributesOf(def).get(orderBy)?.kind ?? 'string';
  return (a: JsonObject, b: JsonObject) =>
    direction * (sqlOrder(kind, a[orderBy], b[orderBy]) || sqlOrder('string', a.id, b.id));
}

function project(record: JsonObject, attributes: readonly string[]): JsonObject {
  const row: JsonObject = {};
  for (const attribute of attributes)
    if (Object.hasOwn(record, attribute)) row[attribute] = record[attribute] ?? null;
  return row;
}

/** Runs one list request. */
export function runList(request: ListRequest): ListResult {
  const { def, params, quirks } = request;
  const available = new Set(outputAttributes(def, quirks));
  const filters: RecordPredicate[] = [compileWhere(params.where, { def, now: request.now })];
  if (params.textFilter !== null) filters.push(textFilter(def, params.textFilter));
  if (params.primaryFilter !== null)
    throw badRequest(`Primary filter '${params.primaryFilter}' is not simulated (EspoCRM simulator).`);
  filters.push(...boolFilters(params.boolFilterList, request.userId));
  const matching: { stored: StoredRecord; view: JsonObject }[] = [];
  for (const stored of request.records) {
    const view = request.view(stored);
    if (filters.every((filter) => filter(view))) matching.push({ stored, view });
  }
  const compare = comparator(def, params, available);
  const end = params.offset + params.maxSize;
  const page = sortedPrefix(matching, end, (a, b) => compare(a.view, b.view))
    .slice(params.offset)
    .map(({ stored }) => request.render(stored));
  const columns =
    params.select !== null
      ? ['id', ...params.select.filter((name) => available.has(name) && name !== 'id')]
      : [...available].filter(
          (name) => quirks.listIncludesCommunicationData || !COMMUNICATION_DATA.includes(name),
        );
  const countSkipped = request.noTotal || params.hasQ || quirks.countDisabled[def.name];
  const total = countSkipped ? (matching.length > end ? -1 : -2) : matching.length;
  return { total, list: page.map((record) => project(record, columns)) };
}
