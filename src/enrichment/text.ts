/**
 * Text normalisation shared by the providers: the rules provider matches keywords on it, and every provider
 * compares a proposed vertical with the CRM's list through it. German umlauts are folded the way domains and
 * keyboards without umlauts spell them (`ä` -> `ae`, `ß` -> `ss`), so `Müller`, `MUELLER` and `mueller` are
 * the same word; other accents are dropped (`café` -> `cafe`).
 */

const UMLAUTS: Readonly<Record<string, string>> = { ä: 'ae', ö: 'oe', ü: 'ue', ß: 'ss' };

/** Lower case, umlauts folded, other diacritics removed. */
export function foldText(text: string): string {
  // NFC first, so that an umlaut typed as `a` + combining diaeresis is folded like `ä`.
  return text
    .normalize('NFC')
    .toLowerCase()
    .replace(/[äöüß]/g, (letter) => UMLAUTS[letter] ?? letter)
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '');
}

/**
 * The words of a text, folded ({@link foldText}) and joined by single spaces: everything that is not a letter
 * or digit separates words, so `Reha-Zentrum` gives `reha zentrum` and `CD-01` gives `cd 01`.
 */
export function wordsOf(text: string): string {
  return foldText(text)
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word !== '')
    .join(' ');
}

/**
 * The words of a web address's host name without `www` and the top-level domain:
 * `https://www.bremer-abenteuerland.de/kontakt` gives `bremer abenteuerland`. Addresses without a scheme are
 * read as http; unreadable addresses and IP addresses give an empty string.
 */
export function domainWords(address: string): string {
  const trimmed = address.trim();
  if (trimmed === '') return '';
  let host: string;
  try {
    host = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `http://${trimmed}`).hostname;
  } catch {
    return '';
  }
  if (/^[\d.]+$/.test(host) || host.startsWith('[')) return '';
  const labels = host.split('.').filter((label) => label !== '' && label !== 'www');
  if (labels.length > 1) labels.pop();
  return wordsOf(labels.join(' '));
}

/**
 * The entry of `allowed` that names the same vertical as `candidate` (same words, ignoring case, umlauts and
 * punctuation), in the spelling of `allowed`; null when there is none.
 */
export function findAllowedVertical(candidate: string, allowed: readonly string[]): string | null {
  const wanted = wordsOf(candidate);
  if (wanted === '') return null;
  return allowed.find((name) => wordsOf(name) === wanted) ?? null;
}
