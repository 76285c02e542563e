/**
 * The wire schema of a Beteiligter. [UNCONFIRMED] The real schema is unknown (reference §4): the seeds name
 * only `name`, `vorname`, `rowId`, `kommunikation` and top-level contact fields such as `mobil`; the id's JSON
 * name (`betNr`) appears nowhere. So the id field and the further text fields are options of the simulator;
 * `name` and `vorname` are always there (a Beteiligter is a person when `vorname` is non-blank, seed 004).
 */
import { ConfigError } from '../../core/errors.ts';

/** The always-present text fields. */
const CORE_FIELDS = ['name', 'vorname'] as const;

/**
 * [UNCONFIRMED] Further top-level text fields of a fresh simulator: plausible for a German law firm's party
 * record (salutation, title, address, the contact fields seed 003's type detection reads, birth date).
 */
export const DEFAULT_EXTRA_FIELDS: readonly string[] = [
  'anrede',
  'titel',
  'strasse',
  'plz',
  'ort',
  'telefon',
  'mobil',
  'email',
  'geburtsdatum',
];

/** Fields the server owns; they cannot be configured as text fields. */
const RESERVED = new Set(['rowId', 'kommunikation']);

/** How a Beteiligter looks on the wire. */
export interface BeteiligteSchema {
  /** JSON name of the id (default `betNr`). */
  readonly idField: string;
  /** Every text field in wire order: `name`, `vorname`, then the extra fields. */
  readonly fieldNames: readonly string[];
}

/**
 * The schema for the options `idField` and `fields` (the extra fields; `name` and `vorname` are added).
 * Throws a {@link ConfigError} for a blank or reserved name or a field that clashes with the id.
 */
export function buildSchema(
  idField = 'betNr',
  extraFields: readonly string[] = DEFAULT_EXTRA_FIELDS,
): BeteiligteSchema {
  const problems: { path: string; message: string }[] = [];
  if (idField.trim() === '' || RESERVED.has(idField))
    problems.push({ path: 'idField', message: `"${idField}" cannot name the id (blank or reserved)` });
  const fieldNames = [...new Set([...CORE_FIELDS, ...extraFields])];
  for (const field of fieldNames)
    if (field.trim() === '' || RESERVED.has(field) || field === idField)
      problems.push({
        path: 'fields',
        message: `"${field}" cannot be a text field (blank, reserved, or the id field)`,
      });
  if (problems.length > 0)
    throw new ConfigError(
      `Advoware simulator schema is invalid: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}.`,
      problems,
    );
  return { idField, fieldNames };
}
