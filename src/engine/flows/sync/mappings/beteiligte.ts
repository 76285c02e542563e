/**
 * Seed 004's person/company rule as two mapping modules, one per vendor, over the same canonical fields:
 * `firstName`, `lastName` (a natural person) and `companyName` (a company). A record is a person exactly when
 * its canonical `firstName` is non-blank; then `companyName` is null. Otherwise it is a company and
 * `firstName`/`lastName` are null. So switching a person to a company on one side is three field changes
 * that the merge carries to the other side, where the module rewrites the vendor fields of the other kind.
 *
 * - Advoware Beteiligte: a person has `vorname` (non-blank) and the last name in `name`; a company has the
 *   company name in `name` and no `vorname` (written as null).
 * - EspoCRM CBeteiligte: a person has `firstName`/`lastName`, `name` = "first last" and `firmenname` null; a
 *   company has `firmenname` = `name` and `firstName`/`lastName` null (EspoCRM hides them when `firmenname` is
 *   set, so they are cleared, as the seed does). A record with a non-blank `firmenname` is a company; one with
 *   neither `firmenname` nor `firstName` is a company named by its `name`.
 */
import type { JsonObject, JsonValue } from '../../../../core/types.ts';
import type { MappingModule, ModuleValues, VendorFields } from '../mapping-module.ts';

/** The canonical fields of both modules. */
export const BETEILIGTE_FIELDS = ['firstName', 'lastName', 'companyName'] as const;

function text(value: JsonValue | undefined): string | null {
  return typeof value === 'string' ? value : null;
}

function isBlank(value: string | null): boolean {
  return value === null || value.trim() === '';
}

function person(firstName: string, lastName: string | null): ModuleValues {
  return { firstName, lastName, companyName: null };
}

function company(companyName: string | null): ModuleValues {
  return { firstName: null, lastName: null, companyName };
}

/** The canonical first name when the values describe a person, else null (a company). */
function personFirstName(values: ModuleValues): string | null {
  const firstName = text(values.firstName);
  return isBlank(firstName) ? null : firstName;
}

/** Advoware Beteiligte: `vorname` decides (seed 004). */
export const beteiligteAdvoware: MappingModule = {
  name: 'beteiligte-advoware',
  fields: BETEILIGTE_FIELDS,
  vendorFields: ['vorname', 'name'],
  toCanonical(record: VendorFields): ModuleValues {
    const vorname = text(record.vorname);
    const name = text(record.name);
    return isBlank(vorname) ? company(name) : person(vorname!, name);
  },
  toVendor(values: ModuleValues): JsonObject {
    const firstName = personFirstName(values);
    return firstName === null
      ? { vorname: null, name: text(values.companyName) }
      : { vorname: firstName, name: text(values.lastName) };
  },
};

/** EspoCRM CBeteiligte: a non-blank `firmenname` is a company, a non-blank `firstName` a person. */
export const beteiligteEspoCrm: MappingModule = {
  name: 'beteiligte-espocrm',
  fields: BETEILIGTE_FIELDS,
  vendorFields: ['firstName', 'lastName', 'firmenname', 'name'],
  toCanonical(record: VendorFields): ModuleValues {
    const firmenname = text(record.firmenname);
    if (!isBlank(firmenname)) return company(firmenname);
    const firstName = text(record.firstName);
    if (!isBlank(firstName)) return person(firstName!, text(record.lastName));
    return company(text(record.name));
  },
  toVendor(values: ModuleValues): JsonObject {
    const firstName = personFirstName(values);
    if (firstName === null) {
      const companyName = text(values.companyName);
      return { firmenname: companyName, name: companyName, firstName: null, lastName: null };
    }
    const lastName = text(values.lastName);
    const name = `${firstName} ${lastName ?? ''}`.trim();
    return { firstName, lastName, name, firmenname: null };
  },
};
