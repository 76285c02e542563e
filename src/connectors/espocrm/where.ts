/**
 * List filters (`where`) and their two wire encodings (reference §3):
 *
 * - `searchParams`: one query parameter holding the JSON of every list parameter. Value types survive (a
 *   number stays a number); when present the server ignores every other parameter. The official JS client's form.
 * - `query`: PHP bracket notation with numeric indexes, `where[0][type]=equals&where[0][attribute]=status&...`,
 *   as PHP's `http_build_query` writes it (the official Python client's form). Every value arrives as a
 *   string, `true`/`false` as `1`/`0`, and `null` and empty lists cannot be written at all.
 *
 * {@link Where} builds typed items: `Where.or(Where.equals('status', 'New'), Where.isNull('assignedUserId'))`.
 */
import { InputError } from '../../core/errors.ts';
import type { JsonObject, JsonValue } from '../../core/types.ts';

/** A value a filter compares with. */
export type WhereScalar = string | number | boolean | null;

/** Types comparing an attribute with one value (`after`/`before` are strict `>`/`<`; `on`/`notOn` alias equals). */
export type ComparisonType =
  | 'equals'
  | 'notEquals'
  | 'on'
  | 'notOn'
  | 'greaterThan'
  | 'lessThan'
  | 'greaterThanOrEquals'
  | 'lessThanOrEquals'
  | 'after'
  | 'before'
  | 'like'
  | 'notLike'
  | 'contains'
  | 'notContains'
  | 'startsWith'
  | 'endsWith';

/** Types comparing an attribute with a list of values (links and arrays take ids or items). */
export type ListType =
  | 'in'
  | 'notIn'
  | 'linkedWith'
  | 'notLinkedWith'
  | 'linkedWithAll'
  | 'arrayAnyOf'
  | 'arrayNoneOf'
  | 'arrayAllOf';

/** Types without a value. */
export type NoValueType =
  | 'isNull'
  | 'isNotNull'
  | 'isTrue'
  | 'isFalse'
  | 'isLinked'
  | 'isNotLinked'
  | 'arrayIsEmpty'
  | 'arrayIsNotEmpty'
  | 'today'
  | 'past'
  | 'future'
  | 'lastSevenDays'
  | 'currentMonth'
  | 'lastMonth'
  | 'nextMonth'
  | 'currentQuarter'
  | 'lastQuarter'
  | 'currentYear'
  | 'lastYear'
  | 'currentFiscalYear'
  | 'lastFiscalYear'
  | 'currentFiscalQuarter'
  | 'lastFiscalQuarter'
  | 'ever'
  | 'any'
  | 'none';

/** Date types taking a whole number of days. */
export type DaysType = 'lastXDays' | 'nextXDays' | 'olderThanXDays' | 'afterXDays';

/** Options of date-time comparisons: `dateTime: true` makes the server treat the value as a date-time. */
export interface DateTimeOptions {
  readonly dateTime?: boolean;
  /** Time zone for date-only values of date-time fields, e.g. `Europe/Berlin`. */
  readonly timeZone?: string;
}

/** One filter item. */
export type WhereItem =
  | ({
      readonly type: ComparisonType;
      readonly attribute: string;
      readonly value: WhereScalar;
    } & DateTimeOptions)
  | { readonly type: ListType; readonly attribute: string; readonly value: readonly WhereScalar[] }
  | ({
      readonly type: 'between';
      readonly attribute: string;
      readonly value: readonly [WhereScalar, WhereScalar];
    } & DateTimeOptions)
  | ({ readonly type: NoValueType; readonly attribute: string } & DateTimeOptions)
  | ({ readonly type: DaysType; readonly attribute: string; readonly value: number } & DateTimeOptions)
  | { readonly type: 'and' | 'or' | 'not'; readonly value: readonly WhereItem[] };

function compare(type: ComparisonType) {
  return (attribute: string, value: WhereScalar, options: DateTimeOptions = {}): WhereItem => ({
    type,
    attribute,
    value,
    ...options,
  });
}

function list(type: ListType) {
  return (attribute: string, values: readonly WhereScalar[]): WhereItem => ({
    type,
    attribute,
    value: values,
  });
}

function noValue(type: NoValueType) {
  return (attribute: string, options: DateTimeOptions = {}): WhereItem => ({ type, attribute, ...options });
}

function days(type: DaysType) {
  return (attribute: string, count: number, options: DateTimeOptions = {}): WhereItem => ({
    type,
    attribute,
    value: count,
    ...options,
  });
}

function group(type: 'and' | 'or' | 'not') {
  return (...items: readonly WhereItem[]): WhereItem => ({ type, value: items });
}

/** Builders of {@link WhereItem}s, one per type. */
export const Where = {
  equals: compare('equals'),
  notEquals: compare('notEquals'),
  greaterThan: compare('greaterThan'),
  lessThan: compare('lessThan'),
  greaterThanOrEquals: compare('greaterThanOrEquals'),
  lessThanOrEquals: compare('lessThanOrEquals'),
  /** Strictly greater (`>`), for dates and any other attribute. */
  after: compare('after'),
  /** Strictly less (`<`). */
  before: compare('before'),
  /** SQL LIKE; the caller writes the `%`. */
  like: compare('like'),
  notLike: compare('notLike'),
  contains: compare('contains'),
  notContains: compare('notContains'),
  startsWith: compare('startsWith'),
  endsWith: compare('endsWith'),
  in: list('in'),
  notIn: list('notIn'),
  linkedWith: list('linkedWith'),
  notLinkedWith: list('notLinkedWith'),
  linkedWithAll: list('linkedWithAll'),
  arrayAnyOf: list('arrayAnyOf'),
  arrayNoneOf: list('arrayNoneOf'),
  arrayAllOf: list('arrayAllOf'),
  /** Inclusive range `[from, to]`. */
  between: (
    attribute: string,
    from: WhereScalar,
    to: WhereScalar,
    options: DateTimeOptions = {},
  ): WhereItem => ({
    type: 'between',
    attribute,
    value: [from, to],
    ...options,
  }),
  isNull: noValue('isNull'),
  isNotNull: noValue('isNotNull'),
  isTrue: noValue('isTrue'),
  isFalse: noValue('isFalse'),
  isLinked: noValue('isLinked'),
  isNotLinked: noValue('isNotLinked'),
  arrayIsEmpty: noValue('arrayIsEmpty'),
  arrayIsNotEmpty: noValue('arrayIsNotEmpty'),
  /** A date type without value (`today`, `lastSevenDays`, `currentYear`, ...). */
  dateRange: (type: NoValueType, attribute: string, options: DateTimeOptions = {}): WhereItem =>
    noValue(type)(attribute, options),
  lastXDays: days('lastXDays'),
  nextXDays: days('nextXDays'),
  olderThanXDays: days('olderThanXDays'),
  afterXDays: days('afterXDays'),
  and: group('and'),
  or: group('or'),
  not: group('not'),
} as const;

/** Parameters of a list request (`GET /{EntityType}`). */
export interface ListParams {
  readonly where?: readonly WhereItem[];
  /** Attributes to return; `id` is always returned. */
  readonly select?: readonly string[];
  readonly orderBy?: string;
  readonly order?: 'asc' | 'desc';
  /** Page size, at most 200. */
  readonly maxSize?: number;
  readonly offset?: number;
  readonly primaryFilter?: string;
  /** Bool filters such as `onlyMy`, `followed`. */
  readonly boolFilterList?: readonly string[];
  /** Full-text filter; note that it makes the server skip the count (`total` -1/-2). */
  readonly textFilter?: string;
}

/** How list parameters travel. */
export type WhereEncoding = 'searchParams' | 'query';

/** The `searchParams` JSON object of a list request (`select` as an array, as the server demands). */
export function searchParamsObject(params: ListParams): JsonObject {
  const object: JsonObject = {};
  if (params.where !== undefined) object['where'] = params.where as unknown as JsonValue;
  if (params.select !== undefined) object['select'] = [...params.select];
  if (params.orderBy !== undefined) object['orderBy'] = params.orderBy;
  if (params.order !== undefined) object['order'] = params.order;
  if (params.maxSize !== undefined) object['maxSize'] = params.maxSize;
  if (params.offset !== undefined) object['offset'] = params.offset;
  if (params.primaryFilter !== undefined) object['primaryFilter'] = params.primaryFilter;
  if (params.boolFilterList !== undefined) object['boolFilterList'] = [...params.boolFilterList];
  if (params.textFilter !== undefined) object['textFilter'] = params.textFilter;
  return object;
}

/** The query parameters of a list request in `encoding`. */
export function listQuery(params: ListParams, encoding: WhereEncoding): URLSearchParams {
  if (encoding === 'searchParams') {
    return new URLSearchParams({ searchParams: JSON.stringify(searchParamsObject(params)) });
  }
  const query = new URLSearchParams();
  if (params.select !== undefined) query.set('select', params.select.join(','));
  if (params.orderBy !== undefined) query.set('orderBy', params.orderBy);
  if (params.order !== undefined) query.set('order', params.order);
  if (params.maxSize !== undefined) query.set('maxSize', String(params.maxSize));
  if (params.offset !== undefined) query.set('offset', String(params.offset));
  if (params.primaryFilter !== undefined) query.set('primaryFilter', params.primaryFilter);
  if (params.textFilter !== undefined) query.set('textFilter', params.textFilter);
  params.boolFilterList?.forEach((filter, index) => query.append(`boolFilterList[${index}]`, filter));
  params.where?.forEach((item, index) =>
    appendBrackets(query, `where[${index}]`, item as unknown as JsonValue),
  );
  return query;
}

/**
 * Appends `value` under `key` in PHP bracket notation, as `http_build_query` does: objects and arrays nest
 * with `[name]` / `[index]`, booleans become `1`/`0`. `null` and empty lists have no representation; they are
 * refused rather than silently dropped, because a dropped value changes the meaning of the filter.
 */
function appendBrackets(query: URLSearchParams, key: string, value: JsonValue): void {
  if (value === null) {
    throw new InputError(
      'ESPOCRM_WHERE_UNENCODABLE',
      `${key}: null cannot be written in the query-string encoding; use isNull/isNotNull, or whereEncoding 'searchParams'.`,
    );
  }
  if (Array.isArray(value)) {
    if (value.length === 0) {
      throw new InputError(
        'ESPOCRM_WHERE_UNENCODABLE',
        `${key}: an empty list cannot be written in the query-string encoding; use whereEncoding 'searchParams' or drop the item.`,
      );
    }
    value.forEach((item, index) => appendBrackets(query, `${key}[${index}]`, item));
    return;
  }
  if (typeof value === 'object') {
    for (const [name, item] of Object.entries(value)) appendBrackets(query, `${key}[${name}]`, item);
    return;
  }
  query.append(key, typeof value === 'boolean' ? (value ? '1' : '0') : String(value));
}
