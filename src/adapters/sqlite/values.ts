/** Conversions between port values and SQLite columns: JSON text, and the string ids of the ports over INTEGER row ids. */
import { InputError } from '../../core/errors.ts';
import type { JsonValue } from '../../core/types.ts';
import type { SqlParam } from './database.ts';

/** Parses JSON text this adapter wrote from a value of type T. */
export function parseJson<T = JsonValue>(text: string): T {
  return JSON.parse(text) as T;
}

/** Parses nullable JSON text. */
export function parseJsonOrNull<T = JsonValue>(text: string | null): T | null {
  return text === null ? null : parseJson<T>(text);
}

/**
 * The row id behind a port id, or null when `id` cannot be one of ours (so lookups simply find nothing).
 */
export function rowIdOf(id: string): number | null {
  if (!/^[1-9][0-9]{0,15}$/.test(id)) return null;
  const rowId = Number(id);
  return Number.isSafeInteger(rowId) ? rowId : null;
}

/** The row id behind a paging cursor; a cursor that is not one of our ids is the caller's mistake. */
export function cursorOf(id: string, what: string): number {
  const rowId = rowIdOf(id);
  if (rowId === null)
    throw new InputError('INVALID_CURSOR', `${what} must be an id returned by a list, got "${id}".`);
  return rowId;
}

/** A list limit: default when absent, otherwise a positive integer capped at `max`. */
export function limitOf(limit: number | undefined, fallback: number, max = 10_000): number {
  if (limit === undefined) return fallback;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new InputError('INVALID_LIMIT', `limit must be a positive integer, got ${limit}.`);
  }
  return Math.min(limit, max);
}

/** A statement and the parameters to bind. */
export interface SqlQuery {
  readonly sql: string;
  readonly params: readonly SqlParam[];
}

/**
 * Builds the SELECT of a list: optional WHERE terms with their parameters, one order, a limit. A term over a
 * set of values (`state IN (...)`) becomes one arm per value, merged by UNION ALL in the list's order: each
 * arm walks its index in that order, so SQLite merges the arms and stops at the limit instead of sorting
 * every match in a temporary B-tree.
 */
export class Filter {
  readonly #terms: string[] = [];
  readonly #params: SqlParam[] = [];
  #anyOf: { readonly term: string; readonly values: readonly SqlParam[] } | undefined;

  /** Adds `term` (with `?` placeholders for `params`) when `value` is defined. */
  when<T>(value: T | undefined, term: string, params: (value: T) => SqlParam[]): this {
    if (value !== undefined) {
      this.#terms.push(term);
      this.#params.push(...params(value));
    }
    return this;
  }

  /** Rows for which `term` (one `?` placeholder) holds for one of `values`, when given; once per filter. */
  whenAny(values: readonly SqlParam[] | undefined, term: string): this {
    if (values !== undefined) this.#anyOf = { term, values: [...new Set(values)] };
    return this;
  }

  /** `SELECT columns FROM table WHERE ... ORDER BY order LIMIT limit`. */
  select(columns: string, table: string, order: string, limit: number): SqlQuery {
    const arm = (extra: string[]) => {
      const terms = [...extra, ...this.#terms];
      return `SELECT ${columns} FROM ${table}${terms.length === 0 ? '' : ` WHERE ${terms.join(' AND ')}`}`;
    };
    const tail = ` ORDER BY ${order} LIMIT ?`;
    if (this.#anyOf === undefined) return { sql: arm([]) + tail, params: [...this.#params, limit] };
    const { term, values } = this.#anyOf;
    if (values.length === 0) return { sql: arm(['FALSE']) + tail, params: [...this.#params, limit] };
    return {
      sql: values.map(() => arm([term])).join(' UNION ALL ') + tail,
      params: [...values.flatMap((value) => [value, ...this.#params]), limit],
    };
  }
}
