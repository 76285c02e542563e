/**
 * `crmsync superoffice latest`: the youngest company that the enrich flow would process (seed 001's
 * `verify_latest_roboplanet.py`, the "ocular proof"). The tenant is shared with another firm, so only
 * companies whose owner passes the flow's owner filter count. Contacts are read newest first from the archive
 * and filtered here: the archive has no documented "one of" for several owners that also covers short names.
 */
import { getField, getId, isObject } from '../shared/casing.ts';
import type { SuperOfficeApi } from './endpoints.ts';
import { UdfFormatError } from './errors.ts';
import { currentFieldValue, integerField, textField } from './tools-fields.ts';
import type { EnrichmentFields } from './tools-verify.ts';

/** Whose records are ours: associate ids or short names, any match (the enrich flow's `owners`). */
export interface OwnerFilter {
  readonly associateIds: readonly number[];
  readonly shortNames: readonly string[];
}

/** Which date makes a company "young". */
export type AgeBy = 'created' | 'updated';

/** Options of {@link findLatestAccount}. */
export interface LatestOptions {
  /** Absent: every owner passes. */
  readonly owners?: OwnerFilter | undefined;
  readonly fields: EnrichmentFields;
  readonly by: AgeBy;
  /** How many of the newest contacts to look through before giving up. */
  readonly scanLimit: number;
}

/** One enrichment field of the found company. */
export interface LatestField {
  readonly role: keyof EnrichmentFields;
  readonly progId: string;
  /** Decoded for display ('' when empty), or null when unreadable. */
  readonly value: string | null;
  readonly error: string | null;
}

/** The company found. */
export interface LatestAccount {
  readonly contactId: string;
  readonly name: string;
  readonly owner: { readonly associateId: number | null; readonly name: string };
  readonly createdDate: string;
  readonly updatedDate: string;
  readonly fields: readonly LatestField[];
}

/** The answer: the company, or null, with how many contacts were looked at. */
export interface LatestResult {
  readonly account: LatestAccount | null;
  readonly scanned: number;
}

/** Archive date columns per {@link AgeBy}. */
const DATE_COLUMN: Readonly<Record<AgeBy, string>> = { created: 'registeredDate', updated: 'updatedDate' };

/** True when the owner passes the filter (no filter: everyone). Short names compare case-insensitively. */
function ownerPasses(
  filter: OwnerFilter | undefined,
  associateId: number | null,
  shortName: string,
): boolean {
  if (filter === undefined) return true;
  if (associateId !== null && filter.associateIds.includes(associateId)) return true;
  const wanted = shortName.toLowerCase();
  return wanted !== '' && filter.shortNames.some((name) => name.toLowerCase() === wanted);
}

/** The filter as text for messages, e.g. `485, 486, RKAB`. */
export function describeOwnerFilter(filter: OwnerFilter | undefined): string {
  if (filter === undefined) return 'any owner';
  return (
    [...filter.associateIds.map(String), ...filter.shortNames].join(', ') || 'nobody (empty owner filter)'
  );
}

function enrichmentFields(
  record: Readonly<Record<string, unknown>>,
  fields: EnrichmentFields,
): LatestField[] {
  const result: LatestField[] = [];
  for (const role of ['vertical', 'summary', 'companyOpener'] as const) {
    const progId = fields[role];
    if (progId === null) continue;
    try {
      result.push({ role, progId, value: currentFieldValue(record, progId).display, error: null });
    } catch (error) {
      if (!(error instanceof UdfFormatError)) throw error;
      result.push({ role, progId, value: null, error: error.message });
    }
  }
  return result;
}

/** Finds the youngest company whose owner passes the filter, among the newest `scanLimit` contacts. */
export async function findLatestAccount(api: SuperOfficeApi, options: LatestOptions): Promise<LatestResult> {
  const dateColumn = DATE_COLUMN[options.by];
  const rows = api.archiveRows('Contact', {
    // [UNCONFIRMED] `associate/name` (the owner's short name) follows the documented related-column syntax.
    select: ['contactId', 'name', 'associateId', 'associate/name', dateColumn],
    orderBy: `${dateColumn} desc,contactId desc`,
    top: options.scanLimit,
  });
  let scanned = 0;
  for await (const row of rows) {
    scanned += 1;
    const shortName = textField(row.columns, 'associate/name');
    if (!ownerPasses(options.owners, integerField(row.columns, 'associateId'), shortName)) continue;
    const id = getId(row.columns, 'contactId') ?? row.primaryKey;
    const contact = await api.getEntity('Contact', id);
    // Deleted between the archive read and now: look further.
    if (contact === null) continue;
    const owner = getField(contact, 'Associate');
    const ownerRecord = isObject(owner) ? owner : {};
    return {
      scanned,
      account: {
        contactId: id,
        name: textField(contact, 'Name'),
        owner: {
          associateId: integerField(ownerRecord, 'AssociateId'),
          name: textField(ownerRecord, 'Name') || shortName,
        },
        createdDate: textField(contact, 'CreatedDate'),
        updatedDate: textField(contact, 'UpdatedDate'),
        fields: enrichmentFields(contact, options.fields),
      },
    };
  }
  return { account: null, scanned };
}
