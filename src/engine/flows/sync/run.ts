/**
 * One sync run for one link: the job names a record ref of either side; the run finds (or, on a first sync,
 * makes) its link, holds the per-link fenced lock, reads both sides, merges them against the link's base
 * snapshots and writes only what changed per side. Everything it learnt (base snapshots, version tokens,
 * ledger confirmations, the fence) goes into the run's outcome commit, so the store saves it with the run
 * in one operation, or not at all. A job that is only the echo of our own write ends before any read (./echo.ts).
 * See docs/sync-flow.md, "One sync run".
 */
import { valueHash } from '../../../core/canonical.ts';
import { CrmsyncError } from '../../../core/errors.ts';
import { mergeRecords, writesNothing } from '../../../core/sync/merge.ts';
import type { MergeResult } from '../../../core/sync/merge.ts';
import { otherSide, sameJson } from '../../../core/sync/record.ts';
import type { CanonicalRecord, Side } from '../../../core/sync/record.ts';
import { recordKey } from '../../../core/types.ts';
import type { ChangeEvent, FieldChange, JsonObject, RecordRef } from '../../../core/types.ts';
import type { Connector, VendorRecord, WriteRequest } from '../../../ports/connector.ts';
import type { Locks } from '../../../ports/locks.ts';
import type { LeasedJob } from '../../../ports/queue.ts';
import type { Link, LinkWrite, Store } from '../../../ports/store.ts';
import type { FlowHandler, HandlerResult, RunContext } from '../../handlers.ts';
import { matchJobEcho } from './echo.ts';
import type { CompiledSyncFlow } from './mapping.ts';
import type { SyncOptions } from './options.ts';

/** What a sync run needs besides the job. */
export interface SyncRunSettings {
  /** The flow's name (links and lock keys are per flow). */
  readonly flow: string;
  /** The flow's validated options (sides, match rules). */
  readonly options: SyncOptions;
  /** The same options compiled (`compileSyncFlow`). */
  readonly compiled: CompiledSyncFlow;
  /** The connectors of side a and side b. */
  readonly connectors: { readonly a: Connector; readonly b: Connector };
  readonly store: Pick<Store, 'links' | 'ledger'>;
  readonly locks: Locks;
  /** How long the per-link lock is held at most (default 60 s; the run releases it when it returns). */
  readonly lockTtlMs?: number;
}

/** The per-link lock is held by another run; the job retries shortly. */
export class SyncLinkBusyError extends CrmsyncError {
  constructor(key: string) {
    super('SYNC_LINK_BUSY', `Another run holds the lock "${key}"; the job runs again shortly.`, {
      retryable: true,
      retryAfterMs: 1_000,
      details: { key },
    });
  }
}

/** The job's record is not of either side of the flow: a routing defect, never retried. */
export class SyncRefForeignError extends CrmsyncError {
  constructor(flow: string, ref: RecordRef) {
    super('SYNC_REF_FOREIGN', `Record ${recordKey(ref)} belongs to neither side of sync flow "${flow}".`, {
      details: { flow, ref: recordKey(ref) },
    });
  }
}

/** A side of the run: its record ref, what was read of it, and its canonical record. */
interface SideState {
  readonly ref: RecordRef;
  readonly record: VendorRecord | null;
  readonly canonical: CanonicalRecord;
}

/** The lock key of a link (ARCHITECTURE.md); a record not linked yet locks on its own ref. */
export function syncLockKey(flow: string, link: Link | null, ref: RecordRef): string {
  return link === null ? `link:${flow}:ref:${recordKey(ref)}` : `link:${flow}:${link.id}`;
}

/** The sync flow's handler: one run per job, for the record ref of the job's first change event. */
export function createSyncRunHandler(settings: SyncRunSettings): FlowHandler {
  return (job, context) => runSync(settings, job, context);
}

async function runSync(
  settings: SyncRunSettings,
  job: LeasedJob,
  context: RunContext,
): Promise<HandlerResult> {
  const { flow, store, locks } = settings;
  const ref = (job.payloads[0] as unknown as ChangeEvent).ref;
  const side = sideOf(settings, ref);
  const found = await store.links.findByRef(flow, ref);
  const key = syncLockKey(flow, found, ref);
  const lock = await locks.acquireFenced(key, settings.lockTtlMs ?? 60_000);
  if (lock === null) throw new SyncLinkBusyError(key);
  // Released once the outcome commit (which carries the fence) has landed, not when the handler returns:
  // otherwise the next holder could take the lock in between and this run's commit would be refused.
  context.afterOutcome(async () => {
    await locks.release(key, lock.token);
  });
  // Re-read under the lock: the revision the commit is checked against must be the one the merge saw.
  const link = found === null ? await store.links.findByRef(flow, ref) : await store.links.get(found.id);
  const fence = { key, fence: lock.fence };
  // Before any vendor read: the echo of our own write costs no API call at all.
  const echo = await matchJobEcho(store.ledger, job.payloads as unknown as ChangeEvent[]);
  if (echo !== null) return { outcome: 'SKIPPED', reason: 'echo', commit: { fence, consume: echo.entryIds } };
  const run =
    link === null ? await firstSync(settings, side, ref, context) : await linkedSync(settings, link, context);
  return run.result(fence);
}

function sideOf({ flow, options }: SyncRunSettings, ref: RecordRef): Side {
  for (const side of ['a', 'b'] as const)
    if (options[side].connection === ref.connection && options[side].entityType === ref.entityType)
      return side;
  throw new SyncRefForeignError(flow, ref);
}

/** What a run decided, waiting for the fence to be put into its commit. */
interface RunPlan {
  result(fence: { key: string; fence: number }): HandlerResult;
}

async function linkedSync(settings: SyncRunSettings, link: Link, context: RunContext): Promise<RunPlan> {
  const a = await readSide(settings, 'a', link.a.ref, context);
  const b = await readSide(settings, 'b', link.b.ref, context);
  if (a.record === null || b.record === null)
    return skipped(`the record on side ${a.record === null ? 'a' : 'b'} is gone; deletes are not synced yet`);
  const base = link.a.base !== null && link.b.base !== null ? { a: link.a.base, b: link.b.base } : undefined;
  return syncPair(settings, { a, b }, base, link, context);
}

/**
 * A record without a link: its partner is the record the stored foreign key names (EspoCRM `advowareId`),
 * when the key lives on this side; otherwise the partner is created on the other side as an upsert.
 */
async function firstSync(
  settings: SyncRunSettings,
  side: Side,
  ref: RecordRef,
  context: RunContext,
): Promise<RunPlan> {
  const own = await readSide(settings, side, ref, context);
  if (own.record === null) return skipped('the record is gone');
  const other = otherSide(side);
  const foreignKey = settings.options.match.foreignKey;
  const stored = foreignKey?.side === side ? own.record.fields[foreignKey.field] : null;
  // EspoCRM keeps `advowareId` as an int; ids are text everywhere else.
  const partnerId = typeof stored === 'number' ? String(stored) : stored;
  if (typeof partnerId === 'string' && partnerId !== '') {
    const partner = await readSide(settings, other, refOf(settings, other, partnerId), context);
    if (partner.record !== null)
      return syncPair(
        settings,
        side === 'a' ? { a: own, b: partner } : { a: partner, b: own },
        undefined,
        null,
        context,
      );
  }
  return createPartner(settings, side, own, context);
}

async function createPartner(
  settings: SyncRunSettings,
  side: Side,
  own: SideState,
  context: RunContext,
): Promise<RunPlan> {
  const other = otherSide(side);
  const empty: SideState = { ref: refOf(settings, other, ''), record: null, canonical: {} };
  const merge = mergeRecords({
    fields: settings.compiled.fields,
    ...(side === 'a' ? { a: own.canonical, b: {} } : { a: {}, b: own.canonical }),
    base: undefined,
  });
  const fields = settings.compiled[other].toVendor(merge.writes[other].fields, {});
  const foreignKey = settings.options.match.foreignKey;
  const ownId = own.ref.id;
  // The upsert's match: the foreign key naming our record where the other side stores it (the seed system's
  // link is found again), else every field we create it with (the record a lost answer created).
  const match: JsonObject = foreignKey?.side === other ? { [foreignKey.field]: ownId } : { ...fields };
  const createFields: JsonObject =
    foreignKey?.side === other ? { ...fields, [foreignKey.field]: ownId } : fields;
  const request: WriteRequest = { entityType: empty.ref.entityType, fields: createFields, match };
  const changes = fieldChanges(empty.ref, createFields, {});
  await context.recordIntent(changes);
  const created = await settings.connectors[other].write(request, { signal: context.signal });
  const createdRef = refOf(settings, other, created.id);
  const versions: Record<Side, string | null> = { a: null, b: null };
  versions[side] = own.record?.version ?? null;
  versions[other] = created.version ?? created.record?.version ?? null;
  const allChanges = changes.map((change) => ({ ...change, ref: createdRef }));
  const confirm: { id: string; version: string | null }[] = [];
  if (foreignKey?.side === side) {
    // Store the new partner's id in our record, so a later first sync (a lost link) finds it again.
    const ownWrite = { [foreignKey.field]: created.id };
    const ownChanges = fieldChanges(own.ref, ownWrite, own.record?.fields ?? {});
    const ids = await settings.store.ledger.recordIntents(intents(ownChanges, context));
    await context.recordIntent([...allChanges, ...ownChanges]);
    const written = await writeSide(settings, side, own, ownWrite, context);
    versions[side] = written;
    confirm.push(...ids.map((id) => ({ id, version: written })));
    allChanges.push(...ownChanges);
  }
  const refs: Record<Side, RecordRef> =
    side === 'a' ? { a: own.ref, b: createdRef } : { a: createdRef, b: own.ref };
  const link: LinkWrite = {
    flow: settings.flow,
    a: { ref: refs.a, base: merge.base.a as JsonObject, version: versions.a },
    b: { ref: refs.b, base: merge.base.b as JsonObject, version: versions.b },
    status: 'clean',
    retryCount: 0,
    lastError: null,
    lastSyncedAt: context.clock.now(),
  };
  return {
    result: (fence) => ({
      outcome: 'COMPLETED',
      reason: `created ${recordKey(createdRef)}`,
      changes: allChanges,
      commit: { fence, link, confirm },
    }),
  };
}

/** Merges two read records against their base, writes what changed, and plans the commit. */
async function syncPair(
  settings: SyncRunSettings,
  sides: { readonly a: SideState; readonly b: SideState },
  base: { readonly a: CanonicalRecord; readonly b: CanonicalRecord } | undefined,
  link: Link | null,
  context: RunContext,
): Promise<RunPlan> {
  const merge = mergeRecords({
    fields: settings.compiled.fields,
    a: sides.a.canonical,
    b: sides.b.canonical,
    base,
    times: { a: changeTime(sides.a.record), b: changeTime(sides.b.record) },
  });
  const readVersions = { a: sides.a.record?.version ?? null, b: sides.b.record?.version ?? null };
  const linkWrite = (versions: Record<Side, string | null>): LinkWrite => ({
    ...(link === null ? {} : { id: link.id, expectedRevision: link.revision }),
    flow: settings.flow,
    a: { ref: sides.a.ref, base: merge.base.a as JsonObject, version: versions.a },
    b: { ref: sides.b.ref, base: merge.base.b as JsonObject, version: versions.b },
    status: merge.summary.parked > 0 ? 'conflict' : 'clean',
    retryCount: 0,
    lastError: null,
    lastSyncedAt: context.clock.now(),
  });

  if (writesNothing(merge)) {
    const unchanged =
      link !== null &&
      link.a.version === readVersions.a &&
      link.b.version === readVersions.b &&
      sameJson(link.a.base, merge.base.a as JsonObject) &&
      sameJson(link.b.base, merge.base.b as JsonObject);
    const linkToSave = unchanged ? undefined : linkWrite(readVersions);
    return skipped('up to date', linkToSave);
  }

  const vendorWrites = {
    a: vendorWrite(settings, 'a', sides.a, merge),
    b: vendorWrite(settings, 'b', sides.b, merge),
  };
  const changes = {
    a: fieldChanges(sides.a.ref, vendorWrites.a, sides.a.record?.fields ?? {}),
    b: fieldChanges(sides.b.ref, vendorWrites.b, sides.b.record?.fields ?? {}),
  };
  const intentIds = {
    a: await settings.store.ledger.recordIntents(intents(changes.a, context)),
    b: await settings.store.ledger.recordIntents(intents(changes.b, context)),
  };
  const allChanges = [...changes.a, ...changes.b];
  await context.recordIntent(allChanges);
  const versions = { ...readVersions };
  for (const side of ['a', 'b'] as const)
    if (Object.keys(vendorWrites[side]).length > 0)
      versions[side] = await writeSide(settings, side, sides[side], vendorWrites[side], context);
  const confirm = (['a', 'b'] as const).flatMap((side) =>
    intentIds[side].map((id) => ({ id, version: versions[side] })),
  );
  const parked = merge.summary.parked;
  return {
    result: (fence) => ({
      outcome: parked > 0 ? 'CONFLICT' : 'COMPLETED',
      ...(parked > 0 ? { reason: `${parked} conflict(s) parked` } : {}),
      changes: allChanges,
      commit: { fence, link: linkWrite(versions), confirm },
    }),
  };
}

/** The vendor fields to write to a side: the merge's writes mapped, plus the mapper's clean-up of the record. */
function vendorWrite(
  settings: SyncRunSettings,
  side: Side,
  state: SideState,
  merge: MergeResult,
): JsonObject {
  const writes = merge.writes[side].fields;
  if (Object.keys(writes).length === 0 || state.record === null) return {};
  const mapper = settings.compiled[side];
  return { ...mapper.normalise(state.record.fields), ...mapper.toVendor(writes, state.canonical) };
}

/**
 * Writes fields of a side's record and returns its new version token: from the write, else from the record
 * it returned, else from a re-read. Guarded by the version read in this run where the connector can.
 */
async function writeSide(
  settings: SyncRunSettings,
  side: Side,
  state: SideState,
  fields: JsonObject,
  context: RunContext,
): Promise<string | null> {
  const connector = settings.connectors[side];
  const guard = connector.capabilities.conditionalWrite !== 'none' && state.record !== null;
  const written = await connector.write(
    {
      entityType: state.ref.entityType,
      id: state.ref.id,
      fields,
      ...(guard ? { expectedVersion: state.record?.version ?? null } : {}),
    },
    { signal: context.signal },
  );
  const version = written.version ?? written.record?.version;
  if (version !== undefined && version !== null) return version;
  const reread = await connector.read(state.ref.entityType, state.ref.id, { signal: context.signal });
  return reread?.version ?? null;
}

async function readSide(
  settings: SyncRunSettings,
  side: Side,
  ref: RecordRef,
  context: RunContext,
): Promise<SideState> {
  const record = await settings.connectors[side].read(ref.entityType, ref.id, { signal: context.signal });
  return {
    ref,
    record,
    canonical: record === null ? {} : settings.compiled[side].toCanonical(record.fields),
  };
}

function refOf({ options }: SyncRunSettings, side: Side, id: string): RecordRef {
  return { connection: options[side].connection, entityType: options[side].entityType, id };
}

function fieldChanges(ref: RecordRef, fields: JsonObject, before: JsonObject): FieldChange[] {
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

function changeTime(record: VendorRecord | null): number | undefined {
  return record?.modifiedAt === undefined ? undefined : Date.parse(record.modifiedAt);
}

function skipped(reason: string, link?: LinkWrite): RunPlan {
  return {
    result: (fence) => ({
      outcome: 'SKIPPED',
      reason,
      ...(link === undefined ? {} : { commit: { fence, link } }),
    }),
  };
}
