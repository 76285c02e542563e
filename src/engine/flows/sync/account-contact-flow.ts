/**
 * A second sync flow as configuration only: EspoCRM `Account` (side a, which wins conflicts by default) <->
 * SuperOffice `Contact` (side b), the company record of both CRMs. No engine code of its own: field mappings
 * with built-in transforms, plus one small transform for SuperOffice's lists. A user's `crmsync.config.ts`
 * spreads it into a flow and may override any part:
 *
 * ```ts
 * flows: {
 *   companies: { type: 'sync', connections: ['espo', 'so'], ...accountContactFlowDefaults({ espocrm: 'espo', superoffice: 'so' }) },
 * }
 * ```
 *
 * | canonical | EspoCRM `Account`           | SuperOffice `Contact` | direction                      |
 * |-----------|-----------------------------|-----------------------|--------------------------------|
 * | `name`    | `name`                      | `Name`                | both                           |
 * | `orgNr`   | `sicCode`                   | `OrgNr`               | both                           |
 * | `website` | `website`                   | `Urls[0].Value`       | SuperOffice -> EspoCRM, opt-in |
 * | `phone`   | `phoneNumber` (the primary) | `Phones[0].Value`     | SuperOffice -> EspoCRM, opt-in |
 *
 * Why website and phone are one way and opt-in: SuperOffice's `Urls` and `Phones` are lists of `{ Value,
 * Description }`, and a PATCH replaces a list whole. A field transform sees one value, not the record's current
 * list, so writing EspoCRM's one website into `Urls` would drop the Contact's other URLs and descriptions.
 * Reading the first item is safe, and so is writing EspoCRM's `phoneNumber` alone (EspoCRM replaces the primary
 * number and keeps the others). But a one-way field belongs to its source: an Account's website is replaced by
 * its Contact's, and cleared where the Contact has none (also for a Contact this flow created from the Account).
 * So they are mapped only where SuperOffice is the master of websites and phones (`listsFromSuperOffice`).
 * Both ways needs read-modify-write of the list (docs/adding-a-sync.md, "What is left").
 *
 * EspoCRM's Account has no org-number field; `sicCode` (varchar 40) is the nearest standard one. Point
 * `fields.orgNr.a` at a custom field instead where the CRM has one.
 */
import type { JsonObject, JsonValue } from '../../../core/types.ts';
import type { SyncOptionsInput } from './options.ts';
import type { ValueTransform } from './transforms.ts';

/** The connection names of the two sides, and which optional fields to map. */
export interface AccountContactSettings {
  /** The `espocrm` connection holding `Account`. */
  readonly espocrm: string;
  /** The `superoffice` connection holding `Contact`. */
  readonly superoffice: string;
  /**
   * Also map website and phone, from SuperOffice's first `Urls`/`Phones` item to EspoCRM (one way: see the
   * module comment). Default false.
   */
  readonly listsFromSuperOffice?: boolean;
}

/**
 * The first item's `Value` of a SuperOffice list (`Urls`, `Phones`): the canonical value is that text, `null`
 * for an empty list or a blank value. Written back as a one-item list, so that the round trip holds; the
 * preset never writes it (the fields using it flow SuperOffice -> EspoCRM), see the module comment.
 */
export const firstListValue: ValueTransform = {
  toCanonical: (value: JsonValue): JsonValue => {
    if (!Array.isArray(value)) return null;
    const first = value[0];
    const text = typeof first === 'object' && first !== null && !Array.isArray(first) ? first.Value : null;
    return typeof text === 'string' && text.trim() !== '' ? text.trim() : null;
  },
  toVendor: (value: JsonValue): JsonValue =>
    value === null ? [] : [{ Value: value, Description: '' } satisfies JsonObject],
};

/** The options of the Account <-> Contact flow between the given connections (see the module comment). */
export function accountContactFlowDefaults(settings: AccountContactSettings): SyncOptionsInput {
  const text = ['trim', 'emptyToNull'] as const;
  return {
    a: { connection: settings.espocrm, entityType: 'Account' },
    b: { connection: settings.superoffice, entityType: 'Contact' },
    fields: {
      name: { a: { field: 'name', transform: [...text] }, b: { field: 'Name', transform: [...text] } },
      orgNr: { a: { field: 'sicCode', transform: [...text] }, b: { field: 'OrgNr', transform: [...text] } },
      ...(settings.listsFromSuperOffice === true && {
        website: {
          a: { field: 'website', transform: [...text] },
          b: { field: 'Urls', transform: firstListValue },
          direction: 'b-to-a',
        },
        phone: {
          a: { field: 'phoneNumber', transform: [...text] },
          b: { field: 'Phones', transform: firstListValue },
          direction: 'b-to-a',
        },
      }),
    },
    conflict: 'a-wins',
    // No foreign key: neither CRM has a field for the other's id by default. A first sync of a Contact whose
    // name and org number equal an Account's links the two instead of creating a twin (org numbers alone may
    // be blank or shared by departments, names alone by namesakes).
    match: { keys: [['name', 'orgNr']] },
  };
}
