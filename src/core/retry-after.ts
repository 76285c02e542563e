/** Reading the `Retry-After` header of HTTP answers (429, 503), for every client that honours it. */

/**
 * Milliseconds to wait according to a `Retry-After` value: delta-seconds or an HTTP-date (RFC 9110 §10.2.3),
 * relative to `now` (epoch ms). Undefined when the header is absent or unreadable; never negative.
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1_000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
