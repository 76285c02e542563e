/**
 * The duplicate check (reference §2, SRC `Classes/DuplicateWhereBuilders/General.php`, `Core/Duplicate/Finder.php`):
 * an OR of the entity type's check fields: the same name (for persons the same first and last name) or any
 * shared e-mail address, compared case-insensitively as MySQL's default collation does; deleted records and
 * the record itself do not count; at most 5 matches are returned.
 */
import { allValues } from './communication.ts';
import type { EntityDef } from './entity-defs.ts';
import type { SimState, StoredRecord } from './state.ts';

/** The vendor's `Finder::LIMIT`. */
const MAX_MATCHES = 5;

const folded = (value: unknown) => (typeof value === 'string' ? value.trim().toLowerCase() : '');

function sameName(def: EntityDef, a: StoredRecord, b: StoredRecord): boolean {
  if (def.person)
    return (
      folded(a.lastName) !== '' &&
      folded(a.firstName) === folded(b.firstName) &&
      folded(a.lastName) === folded(b.lastName)
    );
  return folded(a.name) !== '' && folded(a.name) === folded(b.name);
}

function sharesEmail(candidate: StoredRecord, other: StoredRecord): boolean {
  const mine = new Set(allValues('emailAddress', candidate).map(folded));
  return allValues('emailAddress', other).some((value) => mine.has(folded(value)));
}

/** Records that `candidate` duplicates (at most 5), oldest first. */
export function findDuplicates(
  state: SimState,
  def: EntityDef,
  candidate: StoredRecord,
  excludeId?: string,
): StoredRecord[] {
  const fields = def.duplicateCheckFields;
  const matches: StoredRecord[] = [];
  for (const record of state.table(def.name).values()) {
    if (record.deleted === true || record.id === excludeId) continue;
    const duplicate =
      (fields.includes('name') && sameName(def, candidate, record)) ||
      (fields.includes('emailAddress') && sharesEmail(candidate, record));
    if (duplicate) matches.push(record);
    if (matches.length === MAX_MATCHES) break;
  }
  return matches;
}
