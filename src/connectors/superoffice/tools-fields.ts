/**
 * Reading values off SuperOffice entities for the operator tools: plain text properties, and user-defined
 * fields decoded for display (`Healthcare [I:1616]`) and for comparison with what a run recorded, whatever
 * spelling the run used (the wire string `[I:1616]`, the decoded id, the list item's name).
 */
import type { JsonValue } from '../../core/types.ts';
import { getField, isObject } from '../shared/casing.ts';
import { decodeUdfValue } from './udf.ts';
import type { UdfValue } from './udf.ts';

/** A string property of an entity or row (case-insensitive key), or '' when absent or not a string. */
export function textField(record: Readonly<Record<string, unknown>>, key: string): string {
  const value = getField(record, key);
  return typeof value === 'string' ? value : '';
}

/** An integer property (number or numeric string), or null. */
export function integerField(record: Readonly<Record<string, unknown>>, key: string): number | null {
  const value = getField(record, key);
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof number === 'number' && Number.isInteger(number) ? number : null;
}

/** Text as compared: CRLF as LF, no trailing whitespace (the vendor may store long text either way). */
function normaliseText(text: string): string {
  return text.replaceAll('\r\n', '\n').trimEnd();
}

/** The display form of a decoded value: list items as `Name [I:id]`, empty values as ''. */
function displayUdf(value: UdfValue): string {
  if (value.type === 'list') {
    if (value.value === null) return '';
    return value.displayText === undefined ? `[I:${value.value}]` : `${value.displayText} [I:${value.value}]`;
  }
  return value.value === null ? '' : String(value.value);
}

/** Every spelling a value may have been recorded in: the wire string, the decoded value, a list item's name. */
export function valueSpellings(value: JsonValue | UdfValue | undefined, field: string): Set<string> {
  const result = new Set<string>();
  const add = (text: string) => result.add(normaliseText(text));
  if (value === null || value === undefined) return result;
  if (isObject(value)) {
    // A decoded value ({type, value, displayText?}) as the codec produces it.
    const inner = getField(value, 'value');
    const displayText = getField(value, 'displayText');
    if (typeof inner === 'string' || typeof inner === 'number' || typeof inner === 'boolean')
      add(String(inner));
    if (typeof displayText === 'string') add(displayText);
    return result;
  }
  if (Array.isArray(value)) return result;
  add(String(value));
  if (typeof value === 'string') {
    try {
      const decoded = decodeUdfValue(field, value);
      if (decoded.value !== null) add(String(decoded.value));
    } catch {
      // Not in an encoding the codec knows: the string itself is the only spelling.
    }
  }
  return result;
}

/** A written value for display: decoded values as `Name [I:id]` or their value, strings as they are. */
export function displayWritten(value: JsonValue): string {
  if (isObject(value)) {
    const inner = getField(value, 'value');
    const displayText = getField(value, 'displayText');
    const plain =
      typeof inner === 'string' || typeof inner === 'number' ? String(inner) : JSON.stringify(inner);
    return typeof displayText === 'string' ? `${displayText} [I:${plain}]` : plain;
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The current value of a field on a record, in every spelling and for display. */
export interface CurrentValue {
  readonly spellings: Set<string>;
  readonly display: string;
}

/**
 * The current value of `field` on a record: a user-defined field (decoded, list items with their name) when
 * the record has one by that key, else the property itself. Throws UdfFormatError for a malformed UDF.
 */
export function currentFieldValue(record: Readonly<Record<string, unknown>>, field: string): CurrentValue {
  const udfs = getField(record, 'UserDefinedFields');
  const raw = isObject(udfs) ? getField(udfs, field) : undefined;
  if (isObject(udfs) && raw !== undefined) {
    const decoded = decodeUdfValue(field, raw);
    const displayText = getField(udfs, `${field}:DisplayText`);
    const full: UdfValue =
      decoded.type === 'list' && typeof displayText === 'string' && displayText !== ''
        ? { ...decoded, displayText }
        : decoded;
    const all = valueSpellings(full, field);
    if (typeof raw === 'string') all.add(normaliseText(raw));
    return { spellings: all, display: displayUdf(full) };
  }
  const value = getField(record, field) as JsonValue | undefined;
  return {
    spellings: valueSpellings(value, field),
    display: value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value),
  };
}
