/**
 * The list filter `where` (reference §3; SRC `Core/Select/Where/Item.php`, `ItemGeneralConverter.php`):
 * each item is checked as the vendor checks it (`No 'type' in where item.`, `Unknown parameter 'x'.`,
 * `No 'attribute' in where item.`, `Bad 'value'.` for nested lists without keys 0..n-1, `Bad where item 'in'.`,
 * `Bad where item 'between'.`, `Unknown where item type 'x'.`) and compiled into a predicate over a rendered
 * record with SQL semantics (sql-compare.ts). `emailAddress` and `phoneNumber` match any of a record's
 * addresses, as the vendor's join does. Link, array, sub-query and calendar-period types are real vendor
 * types the simulator does not implement: 400 with a reason saying so.
 */
import type { JsonObject, JsonValue } from '../../core/types.ts';
import { allValues } from './communication.ts';
import type { CommField } from './communication.ts';
import { attributesOf } from './entity-defs.ts';
import type { AttributeKind, EntityDef } from './entity-defs.ts';
import { badRequest } from './errors.ts';
import { sqlCompare, sqlLike } from './sql-compare.ts';
import { RELATIVE_DATE_TYPES, dayRangeCondition, relativeDateCondition } from './where-dates.ts';
import type { DateCondition } from './where-dates.ts';
import { isJsonObject, scalarText } from './values.ts';

/** A compiled filter: whether a rendered record passes. */
export type RecordPredicate = (record: JsonObject) => boolean;

/** What compiling needs. */
export interface WhereContext {
  readonly def: EntityDef;
  /** Epoch ms of "now" (relative date types). */
  readonly now: number;
}

const ALLOWED_KEYS = new Set(['type', 'attribute', 'field', 'value', 'dateTime', 'timeZone']);
const NO_ATTRIBUTE_TYPES = new Set(['and', 'or', 'not', 'subQueryIn', 'subQueryNotIn']);
const NOT_SIMULATED = new Set([
  'subQueryIn',
  'subQueryNotIn',
  'expression',
  'linkedWith',
  'notLinkedWith',
  'linkedWithAll',
  'isLinked',
  'isNotLinked',
  'arrayAnyOf',
  'arrayNoneOf',
  'arrayAllOf',
  'arrayIsEmpty',
  'arrayIsNotEmpty',
  'currentMonth',
  'lastMonth',
  'nextMonth',
  'currentQuarter',
  'lastQuarter',
  'currentYear',
  'lastYear',
  'currentFiscalYear',
  'lastFiscalYear',
  'currentFiscalQuarter',
  'lastFiscalQuarter',
]);
const MULTI_VALUED = new Set<string>(['emailAddress', 'phoneNumber']);
const NEGATIVE_TYPES = new Set(['notEquals', 'notOn', 'notIn', 'notLike', 'notContains']);

/** A parsed item. */
interface Item {
  readonly type: string;
  readonly attribute: string | null;
  readonly value: JsonValue;
  readonly dateTime: boolean;
  readonly timeZone: string | undefined;
}

/** `Item::fromRaw`: the vendor's structural checks. */
function parseItem(raw: JsonValue): Item {
  if (!isJsonObject(raw)) throw badRequest('Bad where item.');
  const type = raw.type;
  if (typeof type !== 'string' || type === '') throw badRequest("No 'type' in where item.");
  for (const key of Object.keys(raw))
    if (!ALLOWED_KEYS.has(key)) throw badRequest(`Unknown parameter '${key}'.`);
  const attribute = raw.attribute ?? raw.field ?? null;
  if ((attribute === null || attribute === '') && !NO_ATTRIBUTE_TYPES.has(type))
    throw badRequest("No 'attribute' in where item.");
  let value = raw.value ?? null;
  if (type === 'and' || type === 'or') {
    value ??= [];
    if (!Array.isArray(value)) throw badRequest("Bad 'value'.");
  }
  const dateTime = raw.dateTime === true || raw.dateTime === 'true' || raw.dateTime === '1';
  const timeZone = typeof raw.timeZone === 'string' && raw.timeZone !== '' ? raw.timeZone : undefined;
  return {
    type,
    attribute: typeof attribute === 'string' ? attribute : scalarText(attribute),
    value,
    dateTime,
    timeZone,
  };
}

/** The values a record has for an attribute: one, or every address for e-mail and phone. */
function valuesOf(record: JsonObject, attribute: string): JsonValue[] {
  if (MULTI_VALUED.has(attribute)) return allValues(attribute as CommField, record);
  return [record[attribute] ?? null];
}

/** PHP arrays (lists or maps) as value lists. */
function listValue(value: JsonValue): JsonValue[] | undefined {
  if (Array.isArray(value)) return value;
  if (isJsonObject(value)) return Object.values(value);
  return undefined;
}

type ValueTest = (stored: JsonValue) => boolean;

function comparison(kind: AttributeKind, value: JsonValue, accept: (order: number) => boolean): ValueTest {
  return (stored) => {
    const order = sqlCompare(kind, stored, value);
    return order !== null && accept(order);
  };
}

function like(pattern: string, expected: boolean): ValueTest {
  return (stored) => sqlLike(stored, pattern) === expected;
}

function conditionTest(kind: AttributeKind, condition: DateCondition): ValueTest {
  const bound = (stored: JsonValue, op: string, value: string) => {
    const order = sqlCompare(kind === 'date' ? 'date' : 'datetime', stored, value);
    if (order === null) return false;
    return op === '<'
      ? order < 0
      : op === '<='
        ? order <= 0
        : op === '>'
          ? order > 0
          : op === '>='
            ? order >= 0
            : order === 0;
  };
  return (stored) => condition.some((all) => all.every(({ op, value }) => bound(stored, op, value)));
}

/** The test one value must pass for a plain (non-logical) item. */
function valueTest(item: Item, kind: AttributeKind, now: number): ValueTest {
  const { type, value } = item;
  const text = scalarText;
  if (item.dateTime && kind === 'datetime') {
    const options = item.timeZone === undefined ? { now } : { now, timeZone: item.timeZone };
    const range = dayRangeCondition(type, value, options);
    if (range !== undefined) return conditionTest(kind, range);
  }
  if (RELATIVE_DATE_TYPES.has(type)) {
    const options = { now, asDateTime: item.dateTime && kind === 'datetime' };
    const condition = relativeDateCondition(
      type,
      value,
      item.timeZone === undefined ? options : { ...options, timeZone: item.timeZone },
    );
    return conditionTest(kind, condition);
  }
  switch (type) {
    case 'equals':
    case 'on':
      return value === null ? (stored) => stored === null : comparison(kind, value, (order) => order === 0);
    case 'notEquals':
    case 'notOn':
      return value === null ? (stored) => stored !== null : comparison(kind, value, (order) => order !== 0);
    case 'in':
    case 'notIn': {
      const list = listValue(value);
      if (list === undefined) throw badRequest(`Bad where item '${type}'.`);
      const contains = (stored: JsonValue) =>
        list.some((candidate) => sqlCompare(kind, stored, candidate) === 0);
      return type === 'in'
        ? contains
        : (stored) => stored !== null && (list.length === 0 || !contains(stored));
    }
    case 'isNull':
      return (stored) => stored === null;
    case 'isNotNull':
    case 'ever':
      return (stored) => stored !== null;
    case 'isTrue':
      return (stored) => stored === true;
    case 'isFalse':
      return (stored) => stored === false;
    case 'greaterThan':
    case 'after':
      return comparison(kind, value, (order) => order > 0);
    case 'lessThan':
    case 'before':
      return comparison(kind, value, (order) => order < 0);
    case 'greaterThanOrEquals':
      return comparison(kind, value, (order) => order >= 0);
    case 'lessThanOrEquals':
      return comparison(kind, value, (order) => order <= 0);
    case 'between': {
      const list = listValue(value);
      if (list === undefined || list.length < 2) throw badRequest("Bad where item 'between'.");
      const [from = null, to = null] = list;
      return (stored) =>
        (sqlCompare(kind, stored, from) ?? -1) >= 0 && (sqlCompare(kind, stored, to) ?? 1) <= 0;
    }
    case 'like':
      return like(text(value), true);
    case 'notLike':
      return like(text(value), false);
    case 'contains':
      return like(`%${text(value)}%`, true);
    case 'notContains':
      return like(`%${text(value)}%`, false);
    case 'startsWith':
      return like(`${text(value)}%`, true);
    case 'endsWith':
      return like(`%${text(value)}`, true);
    default:
      if (NOT_SIMULATED.has(type))
        throw badRequest(`Where item type '${type}' is not simulated (EspoCRM simulator).`);
      throw badRequest(`Unknown where item type '${type}'.`);
  }
}

/** The kind of an attribute of the rendered record; names such as `assignedUserName` are strings. */
function kindOf(def: EntityDef, attribute: string): AttributeKind {
  const known = attributesOf(def).get(attribute);
  // [UNCONFIRMED] the vendor's answer to an unknown attribute; an SQL error or a checker's 400.
  if (known === undefined) throw badRequest(`Not existing attribute '${attribute}' in where.`);
  return known.kind;
}

function compileItem(raw: JsonValue, context: WhereContext): RecordPredicate {
  const item = parseItem(raw);
  const { type } = item;
  if (type === 'and' || type === 'or' || type === 'not') {
    const list = type === 'not' ? listValue(item.value) : (item.value as JsonValue[]);
    if (list === undefined) throw badRequest('Bad where item.');
    const group = compileGroup(list, context);
    if (type === 'not') return (record) => !group.every((predicate) => predicate(record));
    if (type === 'and') return (record) => group.every((predicate) => predicate(record));
    return (record) => group.some((predicate) => predicate(record));
  }
  if (type === 'any') return () => true;
  if (type === 'none') return () => false;
  const attribute = item.attribute ?? '';
  const kind = kindOf(context.def, attribute);
  const test = valueTest(item, kind, context.now);
  if (!MULTI_VALUED.has(attribute)) return (record) => test(record[attribute] ?? null);
  // Several addresses: a positive test needs one match; a negative one (notIn, notLike...) needs all to pass.
  if (NEGATIVE_TYPES.has(type)) return (record) => valuesOf(record, attribute).every((value) => test(value));
  if (type === 'isNull') return (record) => valuesOf(record, attribute).length === 0;
  return (record) => valuesOf(record, attribute).some((value) => test(value));
}

function compileGroup(items: readonly JsonValue[], context: WhereContext): RecordPredicate[] {
  return items.map((item) => compileItem(item, context));
}

/** Compiles the top-level `where` (an implicit `and` of its items); null means no filter. */
export function compileWhere(where: JsonValue | null, context: WhereContext): RecordPredicate {
  if (where === null) return () => true;
  // The vendor wraps the list in an `and` item, so the same key check applies: keys 0..n-1 or "Bad 'value'".
  return compileItem({ type: 'and', value: where }, context);
}
