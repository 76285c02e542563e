/**
 * EspoCRM's date formats (reference §4): date-times are `YYYY-MM-DD HH:mm:ss` in UTC whatever the user's
 * settings (no `T`, no `Z`, no fraction), dates are `YYYY-MM-DD`. The seed system wrote them with
 * `strftime('%Y-%m-%d %H:%M:%S')` on a UTC clock; these helpers are the one place that converts.
 */

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Something that names an instant: epoch ms, a Date, or an ISO 8601 string with an offset or `Z`. */
export type Instant = number | Date | string;

function epochMs(value: Instant): number {
  const ms =
    typeof value === 'number' ? value : typeof value === 'string' ? Date.parse(value) : value.getTime();
  if (!Number.isFinite(ms)) throw new RangeError(`not a point in time: ${String(value)}`);
  return ms;
}

/** `value` as an EspoCRM date-time, `YYYY-MM-DD HH:mm:ss` UTC; milliseconds are dropped (truncated). */
export function toEspoDateTime(value: Instant): string {
  return new Date(epochMs(value)).toISOString().slice(0, 19).replace('T', ' ');
}

/** `value`'s UTC day as an EspoCRM date, `YYYY-MM-DD`. */
export function toEspoDate(value: Instant): string {
  return new Date(epochMs(value)).toISOString().slice(0, 10);
}

/** Epoch ms of a UTC calendar time, or null when it does not exist (Date.UTC rolls 02-30 over into March). */
function utc(fields: readonly number[]): number | null {
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0] = fields;
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const date = new Date(ms);
  const exists =
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    date.getUTCHours() === hour &&
    date.getUTCMinutes() === minute &&
    date.getUTCSeconds() === second;
  return exists ? ms : null;
}

function parse(pattern: RegExp, value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const parts = pattern.exec(value);
  return parts === null ? null : utc(parts.slice(1).map(Number));
}

/** Epoch ms of an EspoCRM date-time (`YYYY-MM-DD HH:mm:ss`, UTC), or null when `value` is not one. */
export function parseEspoDateTime(value: unknown): number | null {
  return parse(DATE_TIME, value);
}

/** Epoch ms of midnight UTC of an EspoCRM date (`YYYY-MM-DD`), or null when `value` is not one. */
export function parseEspoDate(value: unknown): number | null {
  return parse(DATE, value);
}

/** An EspoCRM date-time as ISO 8601 UTC (`2026-03-02T08:00:00.000Z`), or null when `value` is not one. */
export function espoDateTimeToIso(value: unknown): string | null {
  const ms = parseEspoDateTime(value);
  return ms === null ? null : new Date(ms).toISOString();
}
