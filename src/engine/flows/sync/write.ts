/**
 * How a sync run writes one side: ledger intents first (durably, so the echo of a write whose run then dies
 * is still recognised), the vendor write with the version read in the run as its guard, then the new version
 * token (from the write, else re-read), confirmed in the run's outcome commit.
 */
import { valueHash } from '../../../core/canonical.ts';
import type { Side } from '../../../core/sync/record.ts';
import type { FieldChange, JsonObject, RecordRef } from '../../../core/types.ts';
import type { Connector } from '../../../ports/connector.ts';
import type { LedgerConfirmation, OutcomeCommit } from '../../../ports/store.ts';
import type { RunContext } from '../../handlers.ts';
import type { SideState } from './plan.ts';
import type { SyncRunSettings } from './settings.ts';

/**
 * What a run has done so far, kept when a later step fails: intents whose vendor write succeeded, the partner
 * it created, and the conflicts of the merge whose result it began to write.
 */
export interface Progress {
  readonly confirm: LedgerConfirmation[];
  /** The partner a first sync created, so that a failure after the create still links it. */
  created?: { readonly side: Side; readonly ref: RecordRef; readonly version: string | null };
  /** The conflicts of the merge being written (its settled losers must be on record even if a write fails). */
  conflicts?: NonNullable<OutcomeCommit['conflicts']>;
}

/** How a write is guarded. */
export interface WriteOptions {
  /**
   * Guard the write with the version read in this run (default true). False for writes of fields only
   * crmsync owns (the status fields, the foreign key): a person's concurrent edit of other fields is not
   * overwritten by a partial update, so the guard (a read more, without `versionNumber`) buys nothing there.
   */
  readonly guarded?: boolean;
}

/** One side's write with its ledger intents recorded first and confirmed in `progress` once it succeeded. */
export async function writeTracked(
  settings: Pick<SyncRunSettings, 'connectors' | 'store'>,
  side: Side,
  state: SideState,
  fields: JsonObject,
  progress: Progress,
  context: RunContext,
  options: WriteOptions = {},
): Promise<{ version: string | null; changes: FieldChange[] }> {
  const changes = fieldChanges(state.ref, fields, state.record?.fields ?? {});
  const ids = await settings.store.ledger.recordIntents(intents(changes, context));
  await context.recordIntent(changes);
  const version = await writeSide(settings.connectors[side], state, fields, context, options.guarded ?? true);
  progress.confirm.push(...ids.map((id) => ({ id, version })));
  return { version, changes };
}

/**
 * Writes fields of a side's record and returns its new version token: from the write, else from the record
 * it returned, else from a re-read. Guarded (unless `guarded` is false) by the version read in this run where
 * the connector can, handing over the record read so that a connector comparing before the write compares
 * values too (EspoCRM's whole-second `modifiedAt`).
 */
async function writeSide(
  connector: Connector,
  state: SideState,
  fields: JsonObject,
  context: RunContext,
  guarded: boolean,
): Promise<string | null> {
  const guard = guarded && connector.capabilities.conditionalWrite !== 'none' && state.record !== null;
  // An assumed side's record holds only the base's vendor values: handed over only to a connector that compares
  // those (EspoCRM), never to one that would build a whole-record write from it (advoware's PUT).
  const partial = state.assumed === true && !connector.capabilities.comparesOverwrittenValues;
  const read = !guard || state.fromEvent === true || partial ? undefined : (state.record ?? undefined);
  const written = await connector.write(
    {
      entityType: state.ref.entityType,
      id: state.ref.id,
      fields,
      ...(guard ? { expectedVersion: state.record?.version ?? null } : {}),
      ...(read !== undefined && { current: read }),
    },
    { signal: context.signal },
  );
  // Someone saved between our write and the connector's read-back: the version we would learn is theirs, and
  // must not stand for the state we wrote. None is kept; the side's next change check reads the record.
  if (written.foreignChanges === true) return null;
  const version = written.version ?? written.record?.version;
  if (version !== undefined && version !== null) return version;
  const reread = await connector.read(state.ref.entityType, state.ref.id, { signal: context.signal });
  return reread?.version ?? null;
}

/** The field changes a write of `fields` makes to a record that held `before`. */
export function fieldChanges(ref: RecordRef, fields: JsonObject, before: JsonObject): FieldChange[] {
  return Object.entries(fields).map(([field, after]) => ({
    ref,
    field,
    before: before[field] ?? null,
    after,
  }));
}

function intents(changes: readonly FieldChange[], context: RunContext) {
  return changes.map((change) => ({
    ref: change.ref,
    field: change.field,
    valueHash: valueHash(change.after),
    runId: context.runId,
    writtenAt: context.clock.now(),
  }));
}
