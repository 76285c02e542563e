/**
 * Optimistic concurrency (reference §2, SRC `Core/Record/ConcurrencyControl/OptimisticProcessor.php`). With
 * `X-Version-Number: N` on an update of a type that has it on: if the stored versionNumber is null or N, the
 * update proceeds. Otherwise the fields whose submitted value differs from the stored one are collected
 * (read-only fields skipped, and attributes the vendor does not fetch, such as `emailAddressData`); none
 * means the update still proceeds, some mean 409 `modified` with `{values: {every attribute of those fields:
 * stored value}, versionNumber: stored}`.
 */
import type { JsonObject } from '../../core/types.ts';
import { actualAttributes, fieldAttributes } from './entity-defs.ts';
import type { EntityDef } from './entity-defs.ts';
import { EspoHttpError } from './errors.ts';
import { jsonEqual } from './values.ts';

/** Attributes the vendor never fetches from the row, so they never count as changed here. */
const NOT_FETCHED = new Set(['emailAddressData', 'phoneNumberData']);

/** Parses `X-Version-Number` as PHP's intval would (a non-number is 0); undefined when absent. */
export function versionNumberHeader(value: string | string[] | undefined): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text === '') return undefined;
  const parsed = Number.parseInt(text.trim(), 10);
  return Number.isNaN(parsed) ? 0 : parsed;
}

/**
 * Throws the 409 `modified` answer when `submitted` (the written attributes) conflicts with `stored`.
 * `current` is the stored record as rendered, so that `values` carries names such as `assignedUserName`.
 */
export function checkVersion(options: {
  readonly def: EntityDef;
  readonly versionNumber: number;
  readonly stored: JsonObject;
  readonly current: JsonObject;
  readonly candidate: JsonObject;
  readonly written: ReadonlySet<string>;
}): void {
  const { def, versionNumber, stored, current, candidate, written } = options;
  const storedVersion = stored.versionNumber;
  if (typeof storedVersion !== 'number' || storedVersion === versionNumber) return;
  const changedFields = def.fields.filter(
    (field) =>
      field.readOnly !== true &&
      actualAttributes(field).some(
        (attribute) =>
          written.has(attribute) &&
          !NOT_FETCHED.has(attribute) &&
          !jsonEqual(stored[attribute], candidate[attribute]),
      ),
  );
  if (changedFields.length === 0) return;
  const values: JsonObject = {};
  for (const field of changedFields)
    for (const attribute of fieldAttributes(field)) values[attribute] = current[attribute] ?? null;
  throw new EspoHttpError(409, 'modified', { body: { values, versionNumber: storedVersion } });
}
