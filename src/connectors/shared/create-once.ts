/**
 * Creates that are never doubled (`WriteRequest.match`, DESIGN.md lesson 6: creates as upserts on an external
 * id). A create with a match rule looks for the record first and updates it when it exists (unless it holds
 * the values already: a retried create then writes nothing, so it causes no echo); it creates only when
 * nothing matches; and when the create got no usable answer (VendorWriteAmbiguousError: the vendor may
 * have created it), it looks again instead of sending the create twice. Each vendor brings its own lookup
 * (a search where the vendor has one, a scan where it has not); the order of the steps is written once here.
 */
import { CrmsyncError, InputError } from '../../core/errors.ts';
import type { JsonObject, JsonValue } from '../../core/types.ts';
import type { VendorRecord, WriteResult } from '../../ports/connector.ts';
import { VendorWriteAmbiguousError } from './api-error.ts';
import { getField } from './casing.ts';

/** More than one record matches a create's `match`: the rule does not identify one record. Not retryable. */
export class WriteMatchNotUniqueError extends CrmsyncError {
  constructor(entityType: string, match: JsonObject, ids: readonly string[]) {
    super(
      'WRITE_MATCH_NOT_UNIQUE',
      `More than one ${entityType} matches ${JSON.stringify(match)} (ids ${ids.join(', ')}): the match must name fields that identify one record, such as an external id.`,
      { retryable: false, httpStatus: 409, details: { entityType, match, ids } },
    );
  }
}

/** A vendor's steps of a create with a match rule. */
export interface CreateOnceSteps {
  readonly entityType: string;
  readonly match: JsonObject;
  /** The fields the create writes, in vendor names. */
  readonly fields: JsonObject;
  /** The records whose fields equal the match (two are enough to tell that it is not unique). */
  find(): Promise<readonly VendorRecord[]>;
  /** Creates the record; throws VendorWriteAmbiguousError when it got no usable answer. */
  create(): Promise<WriteResult>;
  /** Writes the request's fields to the record that matched. */
  update(found: VendorRecord): Promise<WriteResult>;
}

/** Runs a create with a match rule (module documentation). */
export async function createOnce(steps: CreateOnceSteps): Promise<WriteResult> {
  if (Object.keys(steps.match).length === 0) {
    throw new InputError(
      'WRITE_MATCH_EMPTY',
      `A create's match needs at least one field (${steps.entityType}).`,
    );
  }
  const existing = onlyMatch(steps, await steps.find());
  if (existing !== null) {
    // Values of a shape the vendor stores differently (SuperOffice list references) compare unequal: written.
    if (!fieldsMatch(existing.fields, steps.fields)) return steps.update(existing);
    return resultOf(existing);
  }
  let ambiguous: VendorWriteAmbiguousError;
  try {
    return await steps.create();
  } catch (error) {
    if (!(error instanceof VendorWriteAmbiguousError)) throw error;
    ambiguous = error;
  }
  // Whether the create happened is only known from the vendor's records; while that cannot be found out
  // (the lookup fails too, or finds nothing yet), the create stays ambiguous and a retry looks again.
  let found: readonly VendorRecord[];
  try {
    found = await steps.find();
  } catch {
    throw ambiguous;
  }
  const created = onlyMatch(steps, found);
  if (created === null) throw ambiguous;
  return resultOf(created);
}

function resultOf(record: VendorRecord): WriteResult {
  return { id: record.id, version: record.version, record };
}

function onlyMatch(steps: CreateOnceSteps, found: readonly VendorRecord[]): VendorRecord | null {
  if (found.length > 1) {
    throw new WriteMatchNotUniqueError(
      steps.entityType,
      steps.match,
      found.map((record) => record.id),
    );
  }
  return found[0] ?? null;
}

/**
 * Whether `fields` hold every value of `match`, for vendors that cannot search (keys case-insensitively,
 * scalars by their text, since ids arrive as numbers or strings: 5 matches "5").
 */
export function fieldsMatch(fields: Readonly<Record<string, unknown>>, match: JsonObject): boolean {
  return Object.entries(match).every(([key, wanted]) => {
    const value = getField(fields, key) as JsonValue | undefined;
    return value !== undefined && asText(value) === asText(wanted);
  });
}

function asText(value: JsonValue): string {
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
}
