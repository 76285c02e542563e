/**
 * Keys that survive storage as UTF-8 text. A JavaScript string may hold lone surrogates (ill-formed UTF-16,
 * e.g. from a JSON `"\ud800"` escape); storing it as UTF-8 replaces each with U+FFFD, so two keys that differ
 * only there would become one, and the second event would be dropped as a redelivery of the first.
 *
 * {@link losslessKey} is an injective escape onto well-formed strings that leaves every well-formed string
 * without U+FFFD unchanged (so keys stored before it was introduced still match): each lone surrogate and each
 * U+FFFD becomes U+FFFD followed by the code unit in 4 lower-case hex digits. Every U+FFFD of the result
 * starts such an escape, which makes the mapping reversible and so injective.
 */

const ESCAPE = '\uFFFD';
/** Lone surrogates (a high one not followed by a low one, a low one not preceded by a high one) and U+FFFD. */
const NEEDS_ESCAPE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]|\uFFFD/g;

/** `text` as a well-formed string, distinct for distinct inputs (see the module comment). */
export function losslessKey(text: string): string {
  if (text.isWellFormed() && !text.includes(ESCAPE)) return text;
  return text.replace(NEEDS_ESCAPE, (unit) => ESCAPE + unit.charCodeAt(0).toString(16).padStart(4, '0'));
}
