/**
 * `crmsync superoffice counts`: how many records of an entity match an archive filter, to compare with what
 * the SuperOffice UI shows (seed 001's `check_filter_counts.py`). The archive has no documented count call
 * ([UNCONFIRMED] `$options=GrandTotal=true`), so the rows are counted page by page, selecting only the id.
 */
import { InputError } from '../../core/errors.ts';
import { ENTITY_TYPES, entityTypeOf } from './endpoints.ts';
import type { EntityType, SuperOfficeApi } from './endpoints.ts';
import { SuperOfficeApiError } from './errors.ts';

/** The entity named by a user, or an InputError that lists the supported ones. */
export function requireEntityType(name: string): EntityType {
  const entity = entityTypeOf(name);
  if (entity === null) {
    throw new InputError(
      'SUPEROFFICE_ENTITY_UNSUPPORTED',
      `Unknown entity "${name}"; use one of ${ENTITY_TYPES.join(', ')}.`,
    );
  }
  return entity;
}

/** The archive's id column of an entity: `contactId`, `personId`, `saleId`. */
function idColumnOf(entity: EntityType): string {
  return `${entity.charAt(0).toLowerCase()}${entity.slice(1)}Id`;
}

/** Options of {@link countRecords}. */
export interface CountOptions {
  /** An archive `$filter`, e.g. `associateId eq 485`. */
  readonly filter?: string | undefined;
  /** Stop counting here (the answer is then "at least"). */
  readonly max?: number | undefined;
}

/**
 * Counts the records of `entity` matching the filter. A filter the vendor refuses (400) becomes an
 * InputError quoting the vendor's reason, since it is the operator's filter that needs fixing.
 */
export async function countRecords(
  api: SuperOfficeApi,
  entity: EntityType,
  options: CountOptions = {},
): Promise<number> {
  const filter = options.filter?.trim() === '' ? undefined : options.filter?.trim();
  let count = 0;
  try {
    const rows = api.archiveRows(entity, {
      select: [idColumnOf(entity)],
      ...(filter !== undefined && { filter }),
      ...(options.max !== undefined && { top: options.max }),
    });
    for await (const _row of rows) count += 1;
  } catch (error) {
    if (error instanceof SuperOfficeApiError && error.status === 400) {
      throw new InputError(
        'SUPEROFFICE_FILTER_INVALID',
        `SuperOffice refused the filter ${JSON.stringify(filter ?? '')} for ${entity}: ${error.message}. ` +
          `Use the archive's camelCase column names, e.g. "associateId eq 485" or "name begins 'Bremer'".`,
      );
    }
    throw error;
  }
  return count;
}
