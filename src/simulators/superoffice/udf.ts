/**
 * User-defined fields as the vendor encodes them (reference §3.6): `UserDefinedFields` is a string→string map
 * keyed by ProgId (or `SuperOffice:<udefFieldId>`), values always strings: text as is, number `"42"`, bool
 * `"True"`/`"False"`, date `"[D:MM/dd/yyyy]"`, list item `"[I:123]"`, and list fields also carry
 * `<key>:DisplayText` / `<key>:DisplayTooltip`. Writes use the same encoding [INFERRED]; a value whose encoding
 * does not fit the field type is refused with a 400 naming the field, so client bugs show up here and not in
 * production.
 */
import { badRequest } from './errors.ts';
import type { EntityKind, SimState, UdefDefinition } from './model.ts';

const DISPLAY_SUFFIXES = [':DisplayText', ':DisplayTooltip'];

/** The key of `udef` in `UserDefinedFields`. */
export function udefKey(udef: UdefDefinition): string {
  return udef.progId === '' ? `SuperOffice:${udef.udefFieldId}` : udef.progId;
}

/** Finds the definition a write key refers to: its ProgId or `SuperOffice:<id>`, case-insensitively. */
function findUdef(state: SimState, owner: EntityKind, key: string): UdefDefinition | undefined {
  const wanted = key.toLowerCase();
  return state
    .udefsOf(owner)
    .find((udef) => udefKey(udef).toLowerCase() === wanted || `superoffice:${udef.udefFieldId}` === wanted);
}

/** Renders the stored values of a record as the vendor's `UserDefinedFields` map (every defined field). */
export function renderUdfs(
  state: SimState,
  owner: EntityKind,
  stored: Readonly<Record<string, string>>,
): Record<string, string> {
  const rendered: Record<string, string> = {};
  for (const udef of state.udefsOf(owner)) {
    const key = udefKey(udef);
    // An unset field reads as "" [UNCONFIRMED: the vendor may send type defaults such as "0" or "[I:0]"].
    const value = stored[key] ?? '';
    rendered[key] = value;
    if (udef.fieldType === 'List') {
      const item = state.listItem(udef.listName, listItemId(value) ?? -1);
      rendered[`${key}:DisplayText`] = item?.name ?? '';
      rendered[`${key}:DisplayTooltip`] = item?.tooltip ?? '';
    }
  }
  return rendered;
}

/** The item id of an `[I:n]` value, if it is one. */
function listItemId(value: string): number | undefined {
  const match = /^\[I:(\d+)\]$/.exec(value);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** True if `value` is a valid `[D:MM/dd/yyyy]` date. */
function isEncodedDate(value: string): boolean {
  const match = /^\[D:(\d{2})\/(\d{2})\/(\d{4})\]$/.exec(value);
  if (match === null) return false;
  const [month, day, year] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** Checks one value against its field; returns the value to store or throws a 400 naming the field. */
function validateValue(state: SimState, udef: UdefDefinition, key: string, value: unknown): string {
  const where = `UserDefinedFields["${key}"] (${udef.fieldLabel}, ${udef.fieldType})`;
  if (typeof value !== 'string')
    throw badRequest(`${where}: values are strings in the vendor's encoding, got ${JSON.stringify(value)}.`);
  if (value === '') return value;
  switch (udef.fieldType) {
    case 'ShortText':
    case 'LongText':
      return value;
    case 'Number':
      if (/^-?\d+$/.test(value)) return value;
      throw badRequest(`${where}: expected an integer as a string such as "42", got "${value}".`);
    case 'Decimal':
      if (/^-?\d+(\.\d+)?$/.test(value)) return value;
      throw badRequest(`${where}: expected a decimal as a string such as "4.2", got "${value}".`);
    case 'Checkbox':
      if (value === 'True' || value === 'False') return value;
      throw badRequest(`${where}: expected "True" or "False", got "${value}".`);
    case 'Date':
      if (isEncodedDate(value)) return value;
      throw badRequest(`${where}: expected a date as "[D:MM/dd/yyyy]", got "${value}".`);
    case 'List': {
      const id = listItemId(value);
      if (id === undefined) throw badRequest(`${where}: expected a list item as "[I:<id>]", got "${value}".`);
      if (id === 0) return '';
      const item = state.listItem(udef.listName, id);
      if (item === undefined || item.deleted)
        throw badRequest(`${where}: ${id} is not an item of list "${udef.listName ?? '?'}".`);
      return value;
    }
  }
}

/**
 * Validates a written `UserDefinedFields` map and returns the values to store. Display companions are
 * ignored (they are derived); an unknown key is a 400. A null map means "no values".
 */
export function parseUdfWrite(state: SimState, owner: EntityKind, input: unknown): Record<string, string> {
  if (input === null || input === undefined) return {};
  if (typeof input !== 'object' || Array.isArray(input))
    throw badRequest('UserDefinedFields must be an object of string values keyed by ProgId.');
  const stored: Record<string, string> = {};
  for (const [key, value] of Object.entries(input)) {
    if (DISPLAY_SUFFIXES.some((suffix) => key.endsWith(suffix))) continue;
    const udef = findUdef(state, owner, key);
    if (udef === undefined)
      throw badRequest(
        `UserDefinedFields["${key}"]: no user-defined field with this ProgId on ${owner}; see GET /_sim/udefs.`,
      );
    const valid = validateValue(state, udef, key, value);
    if (valid !== '') stored[udefKey(udef)] = valid;
  }
  return stored;
}

/** DB columns a UDF change touches: `userdef_id` (small table) and/or `userdef2_id` (long text table). */
export function changedUdfColumns(
  state: SimState,
  owner: EntityKind,
  before: Readonly<Record<string, string>>,
  after: Readonly<Record<string, string>>,
): string[] {
  let small = false;
  let large = false;
  for (const udef of state.udefsOf(owner)) {
    const key = udefKey(udef);
    if ((before[key] ?? '') === (after[key] ?? '')) continue;
    if (udef.fieldType === 'LongText') large = true;
    else small = true;
  }
  return [...(small ? ['userdef_id'] : []), ...(large ? ['userdef2_id'] : [])];
}

/** The vendor's field metadata shape for one definition (UserDefinedFieldInfo-like [INFERRED]). */
export function udefInfo(state: SimState, udef: UdefDefinition): Record<string, unknown> {
  const list = udef.listName === undefined ? undefined : state.list(udef.listName);
  return {
    UDefFieldId: udef.udefFieldId,
    ColumnId: udef.udefFieldId,
    FieldLabel: udef.fieldLabel,
    FieldType: udef.fieldType,
    ProgId: udefKey(udef),
    Type: udef.owner.charAt(0).toUpperCase() + udef.owner.slice(1),
    UDListDefinitionId: list?.udListDefinitionId ?? 0,
    ListTableId: list === undefined ? 0 : 136,
    MdoListName: list === undefined ? '' : `udlist${list.udListDefinitionId}`,
    IsMandatory: false,
    IsReadOnly: false,
    TextLength: udef.fieldType === 'LongText' ? 4000 : udef.fieldType === 'ShortText' ? 200 : 0,
  };
}
