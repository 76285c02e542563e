/**
 * A query string parsed as PHP parses it into `$_GET` (`parse_str`), because that is what the vendor's
 * list endpoint reads (reference §3: `where[0][type]=in&where[0][value][0]=New`): bracket paths build nested
 * arrays, `[]` appends at the next integer key, a later value overwrites an earlier one, `+` is a space, and
 * `.` or space in a top-level name becomes `_`. PHP arrays keep insertion order; one whose keys are exactly
 * 0..n-1 in that order becomes a JSON array, any other a JSON object (the vendor rejects those where a list
 * is needed, e.g. nested `and`/`or` items with gaps: "Bad 'value'.").
 */
import type { JsonObject, JsonValue } from '../../core/types.ts';

/** An ordered PHP array under construction. */
class PhpArray {
  readonly entries = new Map<string, string | PhpArray>();
  #nextIndex = 0;

  /** The key `[]` appends at. */
  appendKey(): string {
    return String(this.#nextIndex);
  }

  set(key: string, value: string | PhpArray): void {
    this.entries.set(key, value);
    if (/^(0|-?[1-9]\d*)$/.test(key)) this.#nextIndex = Math.max(this.#nextIndex, Number(key) + 1);
  }

  /** The array at `key`, created (replacing a scalar) when missing. */
  child(key: string): PhpArray {
    const existing = this.entries.get(key);
    if (existing instanceof PhpArray) return existing;
    const created = new PhpArray();
    this.set(key, created);
    return created;
  }

  toJson(): JsonValue {
    const keys = [...this.entries.keys()];
    const values = [...this.entries.values()].map((value) =>
      typeof value === 'string' ? value : value.toJson(),
    );
    if (keys.every((key, index) => key === String(index))) return values;
    const object: JsonObject = {};
    keys.forEach((key, index) => {
      object[key] = values[index] ?? null;
    });
    return object;
  }
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    // PHP's urldecode leaves malformed escapes as they are.
    return text.replace(/\+/g, ' ');
  }
}

/** Splits `where[0][value][]` into `where` and `['0', 'value', '']`; text after the last `]` is dropped. */
function splitKey(key: string): { base: string; path: string[] } {
  const open = key.indexOf('[');
  const close = open < 0 ? -1 : key.indexOf(']', open);
  if (open <= 0 || close < 0) return { base: key.replace(/[. []/g, '_'), path: [] };
  const base = key.slice(0, open).replace(/[. ]/g, '_');
  const path: string[] = [];
  const pattern = /\[([^\]]*)\]/y;
  pattern.lastIndex = open;
  for (let match = pattern.exec(key); match !== null; match = pattern.exec(key)) path.push(match[1] ?? '');
  return { base, path };
}

/** `$_GET` of `query` (without the leading `?`), as JSON values. */
export function parsePhpQuery(query: string): JsonObject {
  const root = new PhpArray();
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    const key = decode(equals < 0 ? pair : pair.slice(0, equals));
    const value = equals < 0 ? '' : decode(pair.slice(equals + 1));
    const { base, path } = splitKey(key);
    if (base === '') continue;
    let target = root;
    let name = base;
    for (const segment of path) {
      target = target.child(name);
      name = segment === '' ? target.appendKey() : segment;
    }
    target.set(name, value);
  }
  const result = root.toJson();
  return Array.isArray(result) ? Object.fromEntries(result.entries()) : (result as JsonObject);
}
