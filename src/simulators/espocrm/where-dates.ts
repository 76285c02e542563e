/**
 * Date filters of the list `where` (reference §3; SRC `Core/Select/Where/ItemGeneralConverter.php`,
 * `DateTimeItemTransformer.php`). The relative types (`today`, `past`, `lastXDays`, ...) compare against
 * the date of now (UTC, or the item's `timeZone`). With `dateTime: true` on a datetime attribute, date values
 * become ranges of whole days in that time zone, as the vendor's transformer does: `on` a day is
 * `[day 00:00, next day 00:00)`, `after` a day starts the next day, `before` a day ends at its start.
 */
import { badRequest } from './errors.ts';
import { formatDate, formatDateTime } from './values.ts';

const DAY_MS = 86_400_000;

/** A condition on one value, as ranges of comparable text (`YYYY-MM-DD[ HH:mm:ss]`). */
export interface Bound {
  readonly op: '<' | '<=' | '>' | '>=' | '=';
  readonly value: string;
}

/** A disjunction of conjunctions of bounds (enough for every date filter). */
export type DateCondition = readonly (readonly Bound[])[];

/** Offset of `timeZone` from UTC at `ms` (positive east of Greenwich). */
function zoneOffsetMs(ms: number, timeZone: string): number {
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    }).formatToParts(new Date(ms));
  } catch {
    throw badRequest(`Bad time zone '${timeZone}'.`);
  }
  const get = (type: string) => Number(parts.find((part) => part.type === type)?.value ?? 0);
  const local = Date.UTC(
    get('year'),
    get('month') - 1,
    get('day'),
    get('hour'),
    get('minute'),
    get('second'),
  );
  return local - Math.floor(ms / 1000) * 1000;
}

/** Local calendar day arithmetic in one time zone, returning UTC datetimes. */
class Days {
  readonly #now: number;
  readonly #timeZone: string;

  constructor(now: number, timeZone: string | undefined) {
    this.#now = now;
    this.#timeZone = timeZone ?? 'UTC';
  }

  /** UTC datetime text of local midnight of the day `days` after today. */
  start(days: number): string {
    const offset = zoneOffsetMs(this.#now, this.#timeZone);
    const localMidnight = Math.floor((this.#now + offset) / DAY_MS) * DAY_MS + days * DAY_MS;
    return formatDateTime(localMidnight - offset);
  }

  /** UTC datetime text of local midnight of `date` (YYYY-MM-DD) plus `days`. */
  startOf(date: string, days = 0): string {
    const midnight = Date.parse(`${date}T00:00:00Z`) + days * DAY_MS;
    if (Number.isNaN(midnight)) throw badRequest(`Bad date value '${date}'.`);
    return formatDateTime(midnight - zoneOffsetMs(midnight, this.#timeZone));
  }

  get now(): string {
    return formatDateTime(this.#now);
  }

  /** Today's local date as text, for date attributes. */
  today(days = 0): string {
    const offset = zoneOffsetMs(this.#now, this.#timeZone);
    return formatDate(this.#now + offset + days * DAY_MS);
  }
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** The types with no value or an integer day count that compare against today. */
export const RELATIVE_DATE_TYPES = new Set([
  'today',
  'past',
  'future',
  'lastSevenDays',
  'lastXDays',
  'nextXDays',
  'olderThanXDays',
  'afterXDays',
]);

/** PHP intval() of a day count. */
function dayCount(value: unknown): number {
  const parsed =
    typeof value === 'number'
      ? Math.trunc(value)
      : Number.parseInt(typeof value === 'string' ? value : '0', 10);
  return Number.isNaN(parsed) ? 0 : parsed;
}

/**
 * The condition of a relative date type. For datetime attributes with `dateTime` the days are ranges of
 * datetimes; otherwise they compare as dates, as the vendor's plain converter does.
 */
export function relativeDateCondition(
  type: string,
  value: unknown,
  options: { now: number; timeZone?: string; asDateTime: boolean },
): DateCondition {
  const days = new Days(options.now, options.timeZone);
  const n = dayCount(value);
  const day = (offset: number) => (options.asDateTime ? days.start(offset) : days.today(offset));
  const now = options.asDateTime ? days.now : days.today();
  switch (type) {
    case 'today':
      return options.asDateTime
        ? [
            [
              { op: '>=', value: day(0) },
              { op: '<', value: day(1) },
            ],
          ]
        : [[{ op: '=', value: day(0) }]];
    case 'past':
      return [[{ op: '<', value: now }]];
    case 'future':
      return [[{ op: '>', value: now }]];
    case 'lastSevenDays':
      return [
        [
          { op: '>=', value: day(-7) },
          { op: '<=', value: now },
        ],
      ];
    case 'lastXDays':
      return [
        [
          { op: '>=', value: day(-n) },
          { op: '<=', value: now },
        ],
      ];
    case 'nextXDays':
      return [
        [
          { op: '>=', value: now },
          { op: '<=', value: options.asDateTime ? day(n + 1) : day(n) },
        ],
      ];
    case 'olderThanXDays':
      return [[{ op: '<', value: day(-n) }]];
    default:
      return [[{ op: '>', value: options.asDateTime ? day(n + 1) : day(n) }]];
  }
}

/**
 * `on`/`equals`, `notOn`/`notEquals`, `after`, `before`, `between` with `dateTime: true` and date values:
 * whole days in the item's time zone. Undefined when the values carry times (then they compare as they are).
 */
export function dayRangeCondition(
  type: string,
  value: unknown,
  options: { now: number; timeZone?: string },
): DateCondition | undefined {
  const days = new Days(options.now, options.timeZone);
  const values = Array.isArray(value) ? value : [value];
  if (!values.every((item) => typeof item === 'string' && DATE_ONLY.test(item))) return undefined;
  const [first, second] = values as string[];
  if (first === undefined) return undefined;
  switch (type) {
    case 'on':
    case 'equals':
      return [
        [
          { op: '>=', value: days.startOf(first) },
          { op: '<', value: days.startOf(first, 1) },
        ],
      ];
    case 'notOn':
    case 'notEquals':
      return [[{ op: '<', value: days.startOf(first) }], [{ op: '>=', value: days.startOf(first, 1) }]];
    case 'after':
      return [[{ op: '>=', value: days.startOf(first, 1) }]];
    case 'before':
      return [[{ op: '<', value: days.startOf(first) }]];
    case 'between':
      return second === undefined
        ? undefined
        : [
            [
              { op: '>=', value: days.startOf(first) },
              { op: '<', value: days.startOf(second, 1) },
            ],
          ];
    default:
      return undefined;
  }
}
