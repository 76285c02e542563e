/**
 * Small value helpers of the EspoCRM simulator: the vendor's datetime format, record ids, deep equality and
 * copies of JSON values.
 */
import type { JsonObject, JsonValue } from '../../core/types.ts';

/** `YYYY-MM-DD HH:mm:ss` in UTC, the vendor's datetime format (reference §4): no `T`, no `Z`. */
export function formatDateTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/** `YYYY-MM-DD` in UTC. */
export function formatDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Epoch milliseconds of a vendor datetime (`YYYY-MM-DD HH:mm:ss`, UTC); NaN when it is not one. */
export function parseDateTime(value: string): number {
  if (!/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(value)) return Number.NaN;
  return Date.parse(`${value.replace(' ', 'T')}Z`);
}

/**
 * Record ids as the vendor makes them (reference §2): PHP `uniqid()` (8 hex digits of the seconds and 5 of
 * the microseconds) plus 4 random hex digits, 17 lowercase hex characters in all. A counter stands in for
 * the microseconds, so ids made in the same millisecond stay unique and sort in creation order.
 */
export class IdGenerator {
  readonly #random: () => number;
  #lastSecond = -1;
  #counter = 0;

  /** `random` gives numbers in [0, 1): seeded for repeatable demo data, Math.random otherwise. */
  constructor(random: () => number = Math.random) {
    this.#random = random;
  }

  /** A fresh id for a record made at `ms`. */
  next(ms: number): string {
    const second = Math.floor(ms / 1000);
    if (second !== this.#lastSecond) {
      this.#lastSecond = second;
      this.#counter = (ms % 1000) * 1000;
    }
    const micro = this.#counter++ % 0x100000;
    const tail = Math.floor(this.#random() * 0x10000);
    return (
      (second >>> 0).toString(16).padStart(8, '0') +
      micro.toString(16).padStart(5, '0') +
      tail.toString(16).padStart(4, '0')
    );
  }
}

/** Structural equality of JSON values (key order of objects does not matter). */
export function jsonEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (a === null || b === null || a === undefined || b === undefined) return false;
  if (typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, index) => jsonEqual(item, b[index]));
  }
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => Object.hasOwn(b, key) && jsonEqual(a[key], b[key]));
}

/** A deep copy of a JSON value, so that snapshots never change with the record they were taken from. */
export function cloneJson<T extends JsonValue>(value: T): T {
  return structuredClone(value);
}

/** Whether `value` is a plain JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The text of a scalar JSON value (`''` for null); objects and arrays as their JSON. */
export function scalarText(value: JsonValue | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
