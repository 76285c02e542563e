/**
 * How deeply a JSON text nests, measured on its bytes before anything parses it. JSON.parse copes with any
 * depth, but JSON.stringify, zod and every recursive walk over the parsed value overflow the stack on a
 * document nested some thousands deep, and they run where one failure costs more than the input (a group
 * commit holds many webhooks). So inputs are measured first, without recursion.
 */

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Whether the JSON text in `bytes` nests objects and arrays deeper than `maxDepth` (`[]` is depth 1).
 * Brackets inside strings do not count. Invalid JSON is measured all the same: parsing judges validity.
 */
export function jsonDeeperThan(bytes: Uint8Array, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < bytes.length; index += 1) {
    const byte = bytes[index];
    if (inString) {
      if (byte === BACKSLASH) index += 1;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      depth += 1;
      if (depth > maxDepth) return true;
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
      depth -= 1;
    }
  }
  return false;
}
