/**
 * Comparisons as the vendor's MySQL does them, for list filters and ordering: NULL compares as unknown (the
 * row is left out), strings compare case- and accent-insensitively (the default `utf8mb4_unicode_ci`
 * collation), numbers compare numerically with strings cast to numbers (`'12abc'` is 12, `'abc'` is 0),
 * booleans are tinyint 1/0, and datetimes compare as their `YYYY-MM-DD HH:mm:ss` text (a date alone counts as
 * midnight). Query-string filter values arrive as strings, which is why the casts matter.
 */
import type { JsonValue } from '../../core/types.ts';
import type { AttributeKind } from './entity-defs.ts';
import { scalarText } from './values.ts';

const collator = new Intl.Collator('en', { sensitivity: 'base' });

/** Code-unit order of two texts (datetimes and dates sort as their text). */
function textOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** MySQL's cast of a value to a number. */
function toNumber(value: JsonValue): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string') {
    const match = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/.exec(value);
    return match === null ? 0 : Number(match[0]);
  }
  return 0;
}

/** A datetime filter value as stored text: a date alone becomes midnight, an ISO `T`/`Z` form is accepted. */
function normaliseDateTimeValue(value: string): string {
  // Already stored text (neither pattern below can match it): the common case, compared for every record.
  if (value.length === 19 && value[10] === ' ') return value;
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return `${value} 00:00:00`;
  const iso = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(\.\d+)?Z?$/.exec(value);
  return iso === null ? value : `${iso[1]} ${iso[2]}`;
}

/**
 * Compares a stored value with a filter value: negative, zero or positive, or null when either is NULL
 * (SQL's unknown, which no condition matches).
 */
export function sqlCompare(
  kind: AttributeKind,
  stored: JsonValue | undefined,
  value: JsonValue,
): number | null {
  if (stored === null || stored === undefined || value === null) return null;
  if (kind === 'int' || kind === 'bool' || typeof stored === 'number' || typeof stored === 'boolean') {
    const difference = toNumber(stored) - toNumber(value);
    return Math.sign(difference);
  }
  const text = typeof value === 'string' ? value : String(toNumber(value));
  if (kind === 'datetime') {
    return textOrder(scalarText(stored), normaliseDateTimeValue(text));
  }
  if (kind === 'date') return textOrder(scalarText(stored), text);
  return collator.compare(scalarText(stored), text);
}

/** SQL LIKE with `%` and `_` (and `\` escaping them), case- and accent-insensitive; null for NULL. */
export function sqlLike(stored: JsonValue | undefined, pattern: JsonValue): boolean | null {
  if (stored === null || stored === undefined || pattern === null) return null;
  let source = '';
  const text = foldAccents(scalarText(pattern));
  for (let i = 0; i < text.length; i++) {
    const char = text[i] ?? '';
    if (char === '\\' && i + 1 < text.length) source += escapeRegExp(text[++i] ?? '');
    else if (char === '%') source += '[\\s\\S]*';
    else if (char === '_') source += '[\\s\\S]';
    else source += escapeRegExp(char);
  }
  return new RegExp(`^${source}$`, 'iu').test(foldAccents(scalarText(stored)));
}

function escapeRegExp(char: string): string {
  return char.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Removes combining accents, so that `Müller` matches `muller` as the collation does. */
function foldAccents(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '');
}

/** Orders two stored values for `orderBy` (NULL first ascending, as MySQL sorts it). */
export function sqlOrder(kind: AttributeKind, a: JsonValue | undefined, b: JsonValue | undefined): number {
  const aNull = a === null || a === undefined;
  const bNull = b === null || b === undefined;
  if (aNull || bNull) return aNull === bNull ? 0 : aNull ? -1 : 1;
  return sqlCompare(kind, a, b) ?? 0;
}
