/**
 * The search parameters of `GET /{EntityType}` as the vendor reads them (reference §3, SRC
 * `Core/Record/SearchParamsFetcher.php`, `Core/Select/SearchParams.php`): either the `searchParams` JSON
 * (then every other parameter is ignored) or the separate parameters (`where`/`whereGroup` in PHP bracket
 * form, `maxSize`, `offset`, `orderBy`/`sortBy`, `order`/`asc`, `select`/`attributeSelect`, `q`,
 * `textFilter`, `primaryFilter`, `boolFilterList`), with the vendor's 400 and 403 reasons.
 */
import type { JsonObject, JsonValue } from '../../core/types.ts';
import { badRequest, forbidden } from './errors.ts';
import { isJsonObject } from './values.ts';

/** Validated search parameters. */
export interface SearchParams {
  readonly select: readonly string[] | null;
  readonly orderBy: string | null;
  readonly order: 'ASC' | 'DESC' | null;
  readonly offset: number;
  readonly maxSize: number;
  /** The top-level where items (an implicit `and`), not yet validated item by item. */
  readonly where: JsonValue | null;
  readonly textFilter: string | null;
  readonly primaryFilter: string | null;
  readonly boolFilterList: readonly string[];
  /** A `q` parameter was given (the count is skipped, reference §3). */
  readonly hasQ: boolean;
}

/** PHP's intval() of a query-string value. */
function intval(text: string): number {
  const match = /^\s*[-+]?\d+/.exec(text);
  return match === null ? 0 : Number.parseInt(match[0], 10);
}

const stringParam = (query: JsonObject, name: string): string | undefined =>
  typeof query[name] === 'string' ? query[name] : undefined;

function fromQueryParameters(query: JsonObject): JsonObject {
  const raw: JsonObject = {};
  const where = query.whereGroup ?? query.where ?? null;
  raw.where = typeof where === 'object' ? where : null;
  for (const name of ['maxSize', 'offset'] as const) {
    const value = stringParam(query, name);
    if (value !== undefined && value !== '') raw[name] = intval(value);
  }
  const orderBy = stringParam(query, 'orderBy') || stringParam(query, 'sortBy');
  if (orderBy) raw.orderBy = orderBy;
  const order = stringParam(query, 'order');
  const asc = stringParam(query, 'asc');
  if (order) raw.order = order.toUpperCase();
  else if (asc) raw.order = asc === 'true' ? 'ASC' : 'DESC';
  const q = stringParam(query, 'q');
  if (q) raw.q = q.trim();
  const textFilter = stringParam(query, 'textFilter');
  if (textFilter) raw.textFilter = textFilter;
  const primaryFilter = stringParam(query, 'primaryFilter');
  if (primaryFilter) raw.primaryFilter = primaryFilter;
  const boolFilterList = query.boolFilterList;
  if (boolFilterList) raw.boolFilterList = Array.isArray(boolFilterList) ? boolFilterList : [boolFilterList];
  const select = stringParam(query, 'attributeSelect') ?? stringParam(query, 'select');
  if (select) raw.select = select.split(',');
  return raw;
}

function fromJson(text: string): JsonObject {
  try {
    const parsed = JSON.parse(text) as unknown;
    if (isJsonObject(parsed)) return parsed;
  } catch {
    // Same answer as for a value that is valid JSON but no object.
  }
  throw badRequest('Invalid search params JSON.');
}

/** `offset`/`maxSize` of the JSON form: numeric strings count as integers (the vendor's "for bc"). */
function integerOrNull(value: JsonValue | undefined, reason: string): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' && /^-?\d+$/.test(value.trim())) return Number(value.trim());
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  throw badRequest(reason);
}

function optionalString(raw: JsonObject, name: string, reason: string): string | null {
  const value = raw[name];
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string') throw badRequest(reason);
  return value;
}

function stringList(value: JsonValue | undefined, notArray: string, notString: string): string[] | null {
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value)) throw badRequest(notArray);
  if (!value.every((item) => typeof item === 'string')) throw badRequest(notString);
  return value;
}

/** Reads and checks the search parameters of one list request. */
export function fetchSearchParams(query: JsonObject, maxSizeLimit: number): SearchParams {
  const json = stringParam(query, 'searchParams');
  const raw = json !== undefined ? fromJson(json) : fromQueryParameters(query);
  if (raw.maxSize !== undefined && raw.maxSize !== null && !Number.isInteger(raw.maxSize))
    throw badRequest('maxSize must be integer.');
  const maxSize = integerOrNull(raw.maxSize, 'maxSize should be int.') ?? maxSizeLimit;
  if (maxSize > maxSizeLimit)
    throw forbidden(`Max size should not exceed ${maxSizeLimit}. Use offset and limit.`);
  const offset = integerOrNull(raw.offset, 'offset should be int.') ?? 0;
  // The vendor passes negative numbers on to SQL, which fails; the simulator answers 400 instead.
  if (maxSize < 0) throw badRequest('maxSize should be int.');
  if (offset < 0) throw badRequest('offset should be int.');
  const order = optionalString(raw, 'order', 'order should be string.')?.toUpperCase() ?? null;
  if (order !== null && order !== 'ASC' && order !== 'DESC') throw badRequest('order value is bad.');
  const where = raw.where ?? null;
  if (where !== null && typeof where !== 'object') throw badRequest('where should be array.');
  const textFilter = optionalString(raw, 'textFilter', 'textFilter should be string.');
  const q = optionalString(raw, 'q', 'q must be string.');
  return {
    select: stringList(raw.select, 'select should be array.', 'select has non-string item.'),
    orderBy: optionalString(raw, 'orderBy', 'orderBy should be string.'),
    order,
    offset,
    maxSize,
    where,
    textFilter: textFilter ?? q,
    primaryFilter: optionalString(raw, 'primaryFilter', 'primaryFilter should be string.'),
    boolFilterList:
      stringList(
        raw.boolFilterList,
        'boolFilterList should be array.',
        'boolFilterList has non-string item.',
      ) ?? [],
    hasQ: q !== null,
  };
}
