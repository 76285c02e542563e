/**
 * JSON text exactly as PHP's `json_encode` writes it without flags (reference §5: the webhook body): `/`
 * escaped as `\/`, every character above U+007F as a lowercase `\uXXXX` escape (characters outside the BMP
 * as their surrogate pair, `\ud83d\ude00`), control characters as `\b \f \n \r \t` or `\u00XX`, no spaces.
 * Receivers must verify signatures over these bytes; re-serialising the parsed JSON in JavaScript gives
 * different bytes, which is exactly what the simulator must make visible.
 */

const SHORT_ESCAPES: Readonly<Record<number, string>> = {
  0x08: '\\b',
  0x09: '\\t',
  0x0a: '\\n',
  0x0c: '\\f',
  0x0d: '\\r',
  0x22: '\\"',
  0x2f: '\\/',
  0x5c: '\\\\',
};

function unicodeEscape(codeUnit: number): string {
  return `\\u${codeUnit.toString(16).padStart(4, '0')}`;
}

/** A PHP-escaped JSON string literal. JavaScript strings are UTF-16, so pairs come out as PHP writes them. */
function phpJsonString(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const short = SHORT_ESCAPES[code];
    if (short !== undefined) out += short;
    else if (code < 0x20 || code > 0x7f) out += unicodeEscape(code);
    else out += text[i];
  }
  return `${out}"`;
}

function phpJsonNumber(value: number): string {
  // PHP refuses INF and NAN (json_encode fails); the simulator never produces them.
  if (!Number.isFinite(value)) throw new Error(`json_encode cannot encode ${value}.`);
  return String(value);
}

/** Encodes `value` as PHP `json_encode($value)` does; `undefined` object members are left out. */
export function phpJsonEncode(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return phpJsonNumber(value);
  if (typeof value === 'string') return phpJsonString(value);
  if (Array.isArray(value)) return `[${value.map((item) => phpJsonEncode(item)).join(',')}]`;
  if (typeof value === 'object') {
    const members = Object.entries(value as Record<string, unknown>)
      .filter(([, member]) => member !== undefined)
      .map(([key, member]) => `${phpJsonString(key)}:${phpJsonEncode(member)}`);
    return `{${members.join(',')}}`;
  }
  throw new Error(`json_encode cannot encode a ${typeof value}.`);
}
