/**
 * Kommunikationen (phone numbers, e-mail addresses, URLs) of a Beteiligter (reference §5, seed 003): the
 * `kommKz` table, reading items, and guessing an item's kind, needed because the vendor's GET has a bug:
 * `kommKz` always comes back as 0.
 *
 * The guess follows seed 003's tiers after its first one (the integrator's own `[ESPOCRM:...:kommKz]`
 * marker in `bemerkung`, which belongs to the sync flow that writes it):
 * 1. a top-level field of the Beteiligter holds the same value (`mobil` -> 3 Mobil; the hint table is
 *    configurable, since the real field names are [UNCONFIRMED]);
 * 2. the value's pattern: `@` -> 4 MailGesch, a URL -> 5 Internet, anything else -> 1 TelGesch.
 */
import type { JsonObject } from '../../core/types.ts';
import { getField, isObject } from '../shared/casing.ts';
import { rowIdOf } from './records.ts';

/** The kinds of Kommunikation by `kommKz` code (names as seed 003 lists them). */
export const KOMM_KZ = {
  1: 'TelGesch',
  2: 'FaxGesch',
  3: 'Mobil',
  4: 'MailGesch',
  5: 'Internet',
  6: 'TelPrivat',
  7: 'FaxPrivat',
  8: 'MailPrivat',
  9: 'AutoTelefon',
  10: 'Sonstige',
  11: 'EPost',
  12: 'Bea',
} as const;

/** A valid `kommKz` code, 1..12. */
export type KommKz = keyof typeof KOMM_KZ;

/** Whether `value` is a `kommKz` code the vendor defines (0, the GET bug's value, is not). */
export function isKommKz(value: unknown): value is KommKz {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 12;
}

/** One Kommunikation as read. */
export interface Kommunikation {
  /** Unique integer id, used in `.../Kommunikationen/{id}`. */
  readonly id: number;
  /** The item's own change marker, or null when the answer had none. */
  readonly rowId: string | null;
  /** The value: phone number, e-mail address or URL ('' for a blanked slot). */
  readonly tlf: string;
  /** Free-text note ('' when absent). */
  readonly bemerkung: string;
  /** As read: 0 when the vendor's GET bug hid the kind (see {@link guessKommKz}). */
  readonly kommKz: number;
  readonly online: boolean;
  /** The item exactly as the API sent it, including fields this type does not name. */
  readonly raw: JsonObject;
}

/** Fields of a new Kommunikation (`POST .../Kommunikationen`): `tlf` and `kommKz` are required. */
export interface NewKommunikation {
  readonly tlf: string;
  readonly kommKz: KommKz;
  readonly bemerkung?: string;
  readonly online?: boolean;
}

/**
 * Changes of an existing Kommunikation: only `tlf`, `bemerkung` and `online` are writable. `kommKz` is
 * read-only after creation (seed 003) and is never sent on a PUT.
 */
export interface KommunikationChanges {
  readonly tlf?: string;
  /** null clears the note. */
  readonly bemerkung?: string | null;
  readonly online?: boolean;
}

/** Reads one item of `kommunikation[]` or of the sub-resource; null when it has no integer id. */
export function parseKommunikation(value: unknown): Kommunikation | null {
  if (!isObject(value)) return null;
  const id = Number(getField(value, 'id'));
  if (!Number.isInteger(id)) return null;
  const text = (name: string) => {
    const field = getField(value, name);
    return typeof field === 'string' ? field : '';
  };
  const kommKz = Number(getField(value, 'kommKz'));
  return {
    id,
    rowId: rowIdOf(value),
    tlf: text('tlf'),
    bemerkung: text('bemerkung'),
    kommKz: Number.isInteger(kommKz) ? kommKz : 0,
    online: getField(value, 'online') === true,
    raw: value as JsonObject,
  };
}

/** How {@link guessKommKz} decided. */
export type KommKzSource = 'vendor' | 'hint' | 'pattern';

/** A Kommunikation's kind, read or guessed. */
export interface KommKzGuess {
  /** The kind, or null for a blank value (an emptied slot has no kind to guess). */
  readonly kommKz: KommKz | null;
  readonly source: KommKzSource | 'unknown';
}

/** Comparable form of a value: e-mail lower-cased, phone numbers as digits with `00` for a leading `+`. */
export function normaliseKommValue(value: string): string {
  const trimmed = value.trim();
  if (trimmed.includes('@')) return trimmed.toLowerCase();
  if (/^[\d\s()+/.-]+$/.test(trimmed)) return trimmed.replace(/^\+/, '00').replace(/\D/g, '');
  return trimmed.toLowerCase();
}

const URL_PATTERN = /^(?:https?:\/\/|www\.)\S+$/i;

/**
 * The kind of `item`: its own `kommKz` when the vendor sent a real one, else a guess (module comment).
 * `hints` maps top-level Beteiligte field names to kinds (option `kommKzHints`, default `{mobil: 3}`).
 */
export function guessKommKz(
  item: Pick<Kommunikation, 'tlf' | 'kommKz'>,
  beteiligter: Readonly<Record<string, unknown>> = {},
  hints: Readonly<Record<string, number>> = { mobil: 3 },
): KommKzGuess {
  if (isKommKz(item.kommKz)) return { kommKz: item.kommKz, source: 'vendor' };
  const value = item.tlf.trim();
  if (value === '') return { kommKz: null, source: 'unknown' };
  const wanted = normaliseKommValue(value);
  for (const [field, kommKz] of Object.entries(hints)) {
    const top = getField(beteiligter, field);
    if (
      isKommKz(kommKz) &&
      typeof top === 'string' &&
      top.trim() !== '' &&
      normaliseKommValue(top) === wanted
    )
      return { kommKz, source: 'hint' };
  }
  if (value.includes('@')) return { kommKz: 4, source: 'pattern' };
  if (URL_PATTERN.test(value)) return { kommKz: 5, source: 'pattern' };
  return { kommKz: 1, source: 'pattern' };
}
