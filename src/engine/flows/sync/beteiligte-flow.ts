/**
 * The Beteiligte flow of seeds 003/004 as configuration: EspoCRM `CBeteiligte` (side a, which wins conflicts
 * by default, the seeds' "EspoCRM wins") <-> Advoware `Beteiligte` (side b). The names go through the
 * person/company modules; records the seed system linked are found by `advowareId`, and its status fields
 * are kept. A user's `crmsync.config.ts` spreads it into a flow and may override any part:
 *
 * ```ts
 * flows: {
 *   beteiligte: { type: 'sync', connections: ['espo', 'advo'], ...beteiligteFlowDefaults({ espocrm: 'espo', advoware: 'advo' }) },
 * }
 * ```
 */
import type { SyncOptionsInput } from './options.ts';

/** The connection names of the two sides. */
export interface BeteiligteConnections {
  /** The `espocrm` connection holding `CBeteiligte`. */
  readonly espocrm: string;
  /** The `advoware` connection holding `Beteiligte`. */
  readonly advoware: string;
}

/** The options of the Beteiligte flow between the given connections (see the module comment). */
export function beteiligteFlowDefaults(connections: BeteiligteConnections): SyncOptionsInput {
  const names = { a: { module: 'beteiligte-espocrm' }, b: { module: 'beteiligte-advoware' } };
  return {
    a: { connection: connections.espocrm, entityType: 'CBeteiligte' },
    b: { connection: connections.advoware, entityType: 'Beteiligte' },
    fields: { firstName: names, lastName: names, companyName: names },
    conflict: 'a-wins',
    // Only the stored foreign key: name key sets would link namesakes; add e.g. [['lastName', 'email']] once
    // an e-mail field is mapped.
    match: { foreignKey: { side: 'a', field: 'advowareId' }, keys: [] },
    status: {
      side: 'a',
      syncStatus: 'syncStatus',
      lastSync: 'advowareLastSync',
      errorMessage: 'syncErrorMessage',
      errorMessageMaxLength: 2_000,
      retryCount: 'syncRetryCount',
      versionToken: 'advowareRowId',
    },
  };
}
