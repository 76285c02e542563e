/**
 * `crmsync superoffice discover`: every user-defined field of Contact, Person and Sale, and every list the
 * tenant uses with its items (seed 002's `full_discovery.py`). Seed 002 could not find the list behind the
 * "Vertical" field (`udlist331` answered 404), so a list field's list is asked for by each name it may have
 * (`MdoListName`, `udlist<id>`, the definition id) and the answer says which one worked.
 */
import { ENTITY_TYPES } from './endpoints.ts';
import type { ListItem, SuperOfficeApi, UserDefinedFieldInfo } from './endpoints.ts';
import { SuperOfficeApiError } from './errors.ts';

/** Built-in lists the connector's flows and tools read, discovered besides the lists of list fields. */
const BUILT_IN_LISTS = ['Category', 'Business', 'Position', 'ProductFamily'] as const;

/** One list and its items. */
export interface DiscoveredList {
  /** The name the items were found under (or the first name tried, when none worked). */
  readonly name: string;
  /** ProgIds of the fields that use this list; empty for built-in lists. */
  readonly usedBy: readonly string[];
  /** Null when no name worked. */
  readonly items: readonly ListItem[] | null;
  /** Names that answered 404 before one worked (or all of them). */
  readonly notFoundAs: readonly string[];
}

/** What the tenant defines. */
export interface TenantDiscovery {
  readonly fields: readonly UserDefinedFieldInfo[];
  readonly lists: readonly DiscoveredList[];
  /** Owners whose field definitions could not be read, with the reason. */
  readonly fieldErrors: readonly { readonly owner: string; readonly message: string }[];
}

/** The names under which the list of a list field may be served, most likely first. */
function listNameCandidates(field: UserDefinedFieldInfo): string[] {
  const names = [field.listName];
  if (field.listDefinitionId > 0)
    names.push(`udlist${field.listDefinitionId}`, String(field.listDefinitionId));
  return [...new Set(names.filter((name) => name !== ''))];
}

function isListField(field: UserDefinedFieldInfo): boolean {
  return field.listName !== '' || field.listDefinitionId > 0;
}

/** Reads a list under the first of `names` that exists; 404s are collected, other errors thrown. */
async function readList(
  api: SuperOfficeApi,
  names: readonly string[],
  usedBy: readonly string[],
): Promise<DiscoveredList> {
  const notFoundAs: string[] = [];
  for (const name of names) {
    try {
      return { name, usedBy, items: await api.listItems(name, { includeDeleted: true }), notFoundAs };
    } catch (error) {
      if (!(error instanceof SuperOfficeApiError && error.status === 404)) throw error;
      notFoundAs.push(name);
    }
  }
  return { name: names[0] ?? '', usedBy, items: null, notFoundAs };
}

/** Discovers the fields and lists; `extraLists` adds list names to read (e.g. `SaleType`). */
export async function discoverTenant(
  api: SuperOfficeApi,
  options: { extraLists?: readonly string[] } = {},
): Promise<TenantDiscovery> {
  const fields: UserDefinedFieldInfo[] = [];
  const fieldErrors: { owner: string; message: string }[] = [];
  for (const owner of ENTITY_TYPES) {
    try {
      fields.push(...(await api.userDefinedFieldList(owner)));
    } catch (error) {
      if (!(error instanceof SuperOfficeApiError)) throw error;
      fieldErrors.push({ owner, message: error.message });
    }
  }
  // One entry per list, however many fields use it (the Vertical list serves contacts and persons).
  const listFields = new Map<string, { names: string[]; usedBy: string[] }>();
  for (const field of fields.filter(isListField)) {
    const names = listNameCandidates(field);
    const key = names.join('|').toLowerCase();
    const entry = listFields.get(key) ?? { names, usedBy: [] };
    entry.usedBy.push(`${field.owner} ${field.progId}`);
    listFields.set(key, entry);
  }
  const lists: DiscoveredList[] = [];
  for (const { names, usedBy } of listFields.values()) lists.push(await readList(api, names, usedBy));
  const seen = new Set(lists.map((list) => list.name.toLowerCase()));
  for (const name of [...BUILT_IN_LISTS, ...(options.extraLists ?? [])]) {
    if (seen.has(name.toLowerCase())) continue;
    seen.add(name.toLowerCase());
    lists.push(await readList(api, [name], []));
  }
  return { fields, lists, fieldErrors };
}
