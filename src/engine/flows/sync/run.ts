/**
 * One sync run for one link: the job names a record ref of either side; the run finds (or, on a first sync,
 * makes) its link, holds the per-link fenced lock, plans the merge (./plan.ts: read both sides, merge against
 * the base snapshots) and executes it: writes only what changed per side, with the status fields in the same
 * request as the data. Everything it learnt (base snapshots, version tokens, ledger confirmations, the fence)
 * goes into the run's outcome commit, so the store saves it with the run in one operation, or not at all. A
 * job that is only the echo of our own write ends before any read (./echo.ts); a failed run records the
 * failure on the link and in the status fields, and a run that failed for good notifies (./failure.ts).
 * See docs/sync-flow.md, "One sync run".
 */
import { CrmsyncError, describeError } from '../../../core/errors.ts';
import { otherSide, sameJson } from '../../../core/sync/record.ts';
import type { Side } from '../../../core/sync/record.ts';
import { recordKey } from '../../../core/types.ts';
import { fieldChanges, writeTracked } from './write.ts';
import type { Progress } from './write.ts';
import type { SyncRunSettings } from './settings.ts';
import type { ChangeEvent, FieldChange, JsonObject, RecordRef } from '../../../core/types.ts';
import type { VendorRecord, WriteRequest } from '../../../ports/connector.ts';
import type { LeasedJob } from '../../../ports/queue.ts';
import type { Link, LinkWrite, OutcomeCommit } from '../../../ports/store.ts';
import type { FlowHandler, HandlerResult, RunContext } from '../../handlers.ts';
import { planDeletion } from './deletes.ts';
import { matchJobEcho } from './echo.ts';
import { conflictChanges, resolutionsOf } from './conflicts.ts';
import type { KnownConflicts } from './conflicts.ts';
import { failedRun, noticeOnCommit } from './failure.ts';
import type { SyncOptions } from './options.ts';
import { planSync, refOf } from './plan.ts';
import type { SideState, Sides, SyncPlan } from './plan.ts';
import { statusFields, statusIsStale } from './status-fields.ts';

/** The per-link lock stayed with another run; the job retries shortly. */
export class SyncLinkBusyError extends CrmsyncError {
  constructor(key: string) {
    super('SYNC_LINK_BUSY', `Another run holds the lock "${key}"; the job runs again shortly.`, {
      retryable: true,
      retryAfterMs: 1_000,
      // Contention is no failure of the record: the attempt does not count towards DEAD.
      postpone: true,
      details: { key },
    });
  }
}

/** The lock key of a link (ARCHITECTURE.md); a record not linked yet locks on its own ref. */
export function syncLockKey(flow: string, link: Link | null, ref: RecordRef): string {
  return link === null ? `link:${flow}:ref:${recordKey(ref)}` : `link:${flow}:${link.id}`;
}

/** The sync flow's handler: one run per job, for the record ref of the job's first change event. */
export function createSyncRunHandler(settings: SyncRunSettings): FlowHandler {
  return (job, context) => runSync(settings, job, context);
}

/** A fence as the outcome commit carries it. */
type Fence = { readonly key: string; readonly fence: number };

async function runSync(
  settings: SyncRunSettings,
  job: LeasedJob,
  context: RunContext,
): Promise<HandlerResult> {
  const { flow, store } = settings;
  const events = job.payloads as unknown as ChangeEvent[];
  const ref = events[0]!.ref;
  const side = sideOf(settings.options, ref);
  // A connection can feed several flows; an event of an entity type this flow does not sync is not its work.
  if (side === null)
    return { outcome: 'SKIPPED', reason: `${ref.entityType} is not synced by flow "${flow}"` };
  const found = await store.links.findByRef(flow, ref);
  const key = syncLockKey(flow, found, ref);
  const fence = await acquireLinkLock(settings, key, context);
  // Re-read under the lock: the revision the commit is checked against must be the one the merge saw.
  const link = found === null ? await store.links.findByRef(flow, ref) : await store.links.get(found.id);
  // Before any vendor read: the echo of our own write costs no API call at all.
  const echo = await matchJobEcho(store.ledger, events);
  if (echo !== null) return { outcome: 'SKIPPED', reason: 'echo', commit: { fence, consume: echo.entryIds } };
  const progress: Progress = { confirm: [] };
  try {
    const known = await knownConflicts(settings, link);
    const resolutions = resolutionsOf(known);
    const linked = async (other: RecordRef) => (await store.links.findByRef(flow, other)) !== null;
    const planContext = { signal: context.signal, events, resolutions, linked };
    const execution = { fence, progress, context, events, known };
    const assume = assumable(settings, side, link, resolutions.length);
    if (assume !== undefined) {
      try {
        const plan = await planSync(settings, side, ref, link, { ...planContext, assume });
        return await executePlan(settings, plan, execution);
      } catch (error) {
        // The assumed side changed (or is gone): its guarded write was refused before anything was written.
        // Read both sides and plan again; an error that was not about the assumption recurs there.
        if (context.signal.aborted || progress.confirm.length > 0) throw error;
        context.logger.debug(
          { side: assume, code: describeError(error).code },
          'sync: the side assumed unchanged was not; reading it',
        );
      }
    }
    const plan = await planSync(settings, side, ref, link, planContext);
    return await executePlan(settings, plan, execution);
  } catch (error) {
    if (context.signal.aborted) throw error;
    return failedRun(settings, { job, error, link, ref, fence, progress }, context);
  }
}

/**
 * Takes the link's fenced lock, waiting up to `lockWaitMs` while another run of the link holds it (runs are
 * short, so the wait is usually one or two polls), and registers its release for after the outcome commit.
 */
async function acquireLinkLock(settings: SyncRunSettings, key: string, context: RunContext): Promise<Fence> {
  // Counted in polls, not clock time: a test's manual clock must not make the wait endless.
  const polls = Math.ceil((settings.lockWaitMs ?? 5_000) / LOCK_POLL_MS);
  for (let poll = 0; ; poll += 1) {
    const lock = await settings.locks.acquireFenced(key, settings.lockTtlMs ?? 60_000);
    if (lock !== null) {
      // Released once the outcome commit (which carries the fence) has landed, not when the handler returns:
      // otherwise the next holder could take the lock in between and this run's commit would be refused.
      context.afterOutcome(async () => {
        await settings.locks.release(key, lock.token);
      });
      return { key, fence: lock.fence };
    }
    if (poll >= polls || context.signal.aborted) throw new SyncLinkBusyError(key);
    await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
  }
}

/** How often a run waiting for a link's lock tries again. */
const LOCK_POLL_MS = 25;

/**
 * The side a run may assume unchanged instead of reading it: the other side of a linked job's record, where
 * that side's connector guards writes so that a write based on the link's last state is refused if the side
 * changed after all: by a version token every write renews (advoware's rowId), or by comparing the values it
 * overwrites with that state (EspoCRM). A change only the job's side made then costs no read of the other side;
 * a change there too costs the refused check and a normal run.
 * Not with resolutions to apply (they write both sides) nor for a link whose base is unknown.
 */
function assumable(
  settings: SyncRunSettings,
  side: Side,
  link: Link | null,
  resolutions: number,
): Side | undefined {
  if (link === null || resolutions > 0 || link.deletion !== null) return undefined;
  const other = otherSide(side);
  const { capabilities } = settings.connectors[other];
  const proven =
    capabilities.conditionalWrite !== 'none' &&
    (capabilities.versionPerWrite || capabilities.comparesOverwrittenValues);
  return proven ? other : undefined;
}

function sideOf(options: SyncOptions, ref: RecordRef): Side | null {
  for (const side of ['a', 'b'] as const)
    if (options[side].connection === ref.connection && options[side].entityType === ref.entityType)
      return side;
  return null;
}

/** The conflicts of a link the run must know (none for a record without a link). */
async function knownConflicts(settings: SyncRunSettings, link: Link | null): Promise<KnownConflicts> {
  if (link === null) return { open: [], resolved: [] };
  const conflicts = settings.store.conflicts;
  return {
    open: await conflicts.list({ linkId: link.id, status: 'open' }),
    resolved: await conflicts.list({ linkId: link.id, status: 'resolved' }),
  };
}

/** What executing a plan works with besides the plan. */
interface Execution {
  readonly fence: Fence;
  readonly progress: Progress;
  readonly context: RunContext;
  readonly events: readonly ChangeEvent[];
  readonly known: KnownConflicts;
}

async function executePlan(
  settings: SyncRunSettings,
  plan: SyncPlan,
  run: Execution,
): Promise<HandlerResult> {
  const { fence, progress, context } = run;
  switch (plan.kind) {
    case 'none':
      return { outcome: 'SKIPPED', reason: plan.reason, commit: { fence } };
    case 'gone':
      return planDeletion(settings, plan, { fence, context, events: run.events });
    case 'create':
      return createPartner(settings, plan, fence, progress, context);
    case 'merge':
      return writeMerge(settings, plan, run);
  }
}

async function createPartner(
  settings: SyncRunSettings,
  plan: Extract<SyncPlan, { kind: 'create' }>,
  fence: Fence,
  progress: Progress,
  context: RunContext,
): Promise<HandlerResult> {
  const { target, own, merge } = plan;
  const source = otherSide(target);
  const pending = refOf(settings, target, '');
  const request = await createRequest(settings, plan, context);
  const changes = fieldChanges(pending, request.fields, {});
  await context.recordIntent(changes);
  const created = await settings.connectors[target].write(request, { signal: context.signal });
  const createdRef = refOf(settings, target, created.id);
  // From here on the partner exists: a failure of the next write must still link it (./failure.ts).
  progress.created = {
    side: target,
    ref: createdRef,
    version: created.version ?? created.record?.version ?? null,
  };
  const partner: SideState = {
    ref: createdRef,
    record: created.record ?? null,
    canonical: merge.base[target],
  };
  const versions: Record<Side, string | null> = { a: null, b: null };
  versions[source] = own.record?.version ?? null;
  versions[target] = created.version ?? created.record?.version ?? null;
  const allChanges = changes.map((change) => ({ ...change, ref: createdRef }));
  // The source side learns its partner: the foreign key (a later first sync of a lost link finds it again)
  // and the status fields, in one request.
  const foreignKey = settings.options.match.foreignKey;
  // The merge may write the source side too (a one-way field flowing from the new partner's empty value):
  // written now, so the stored base is what the record holds.
  const sourceWrites = merge.writes[source].fields;
  const ownWrite: JsonObject = {
    ...(Object.keys(sourceWrites).length > 0
      ? settings.compiled[source].toVendor(sourceWrites, own.canonical)
      : {}),
    ...(foreignKey?.side === source ? { [foreignKey.field]: created.id } : {}),
    ...cleanStatus(settings, source, own, versions[target], context),
  };
  if (Object.keys(ownWrite).length > 0) {
    // Only crmsync's own fields unless the merge writes data here: no guard needed for those.
    const written = await writeTracked(settings, source, own, ownWrite, progress, context, {
      guarded: Object.keys(sourceWrites).length > 0,
    });
    versions[source] = written.version;
    allChanges.push(...written.changes);
  }
  const sides = source === 'a' ? { a: own, b: partner } : { a: partner, b: own };
  const link = linkWrite(settings, null, sides, merge.base, versions, 'clean', context);
  return {
    outcome: 'COMPLETED',
    reason: `created ${recordKey(createdRef)}`,
    changes: allChanges,
    commit: { fence, link, confirm: progress.confirm },
  };
}

/**
 * How the partner is created so that it is never created twice. A match that names our record (the foreign
 * key) makes it an upsert. A match by values could find a namesake, so the first attempt creates plainly (a
 * lost answer then fails it VENDOR_WRITE_AMBIGUOUS, retryable); a later attempt first looks for the record an
 * earlier attempt may have made: the one record with those values that no link holds yet, updated instead.
 */
async function createRequest(
  settings: SyncRunSettings,
  plan: Extract<SyncPlan, { kind: 'create' }>,
  context: RunContext,
): Promise<WriteRequest> {
  const { entityType } = settings.options[plan.target];
  // A partner created on the status side shows its status from the start: clean, synced now, at the
  // source's version.
  const status = settings.options.status;
  const fields: JsonObject =
    status?.side === plan.target
      ? {
          ...plan.fields,
          ...statusFields(status, {
            syncStatus: 'clean',
            at: context.clock.now(),
            error: null,
            retryCount: 0,
            otherVersion: plan.own.record?.version ?? null,
          }),
        }
      : plan.fields;
  if (plan.matchIsOurs) return { entityType, fields, match: plan.match };
  if (context.attempt === 1) return { entityType, fields };
  const connector = settings.connectors[plan.target];
  const found = await connector.find(entityType, plan.match, { signal: context.signal });
  const unlinked: VendorRecord[] = [];
  for (const record of found)
    if (
      (await settings.store.links.findByRef(settings.flow, refOf(settings, plan.target, record.id))) === null
    )
      unlinked.push(record);
  const [earlier] = unlinked;
  return unlinked.length === 1 && earlier !== undefined
    ? { entityType, id: earlier.id, fields, current: earlier }
    : { entityType, fields };
}

/**
 * Writes a merge: the side without status fields first, so that its new version token can go into the status
 * side's `versionToken` field in the same request as that side's data.
 */
async function writeMerge(
  settings: SyncRunSettings,
  plan: Extract<SyncPlan, { kind: 'merge' }>,
  { fence, progress, context, known }: Execution,
): Promise<HandlerResult> {
  const { sides, link, merge } = plan;
  const conflicts = conflictChanges(settings.flow, link, sides, merge.conflicts, known, context);
  for (const notice of conflicts.notices) noticeOnCommit(settings, notice, context);
  const withConflicts =
    conflicts.commit.add!.length + conflicts.commit.close!.length > 0 ? { conflicts: conflicts.commit } : {};
  // A failure after the first write still records the conflicts whose winner it wrote.
  progress.conflicts = conflicts.commit;
  const statusSide = settings.options.status?.side ?? 'a';
  const order: readonly Side[] = statusSide === 'a' ? ['b', 'a'] : ['a', 'b'];
  const versions: Record<Side, string | null> = {
    a: sides.a.record?.version ?? null,
    b: sides.b.record?.version ?? null,
  };
  const allChanges: FieldChange[] = [];
  const parked = merge.summary.parked;
  const written: Record<Side, boolean> = { a: false, b: false };
  for (const side of order) {
    const other = otherSide(side);
    const data = plan.writes[side];
    const status =
      Object.keys(data).length > 0 ||
      needsStatusWrite(settings, side, sides[side]) ||
      (written[other] && settings.options.status?.keepCurrent === true)
        ? cleanStatus(settings, side, sides[side], versions[other], context)
        : {};
    // A status write cleans the record's shape up too (a person's stale display name), in the same request.
    const cleanup =
      Object.keys(data).length === 0 && Object.keys(status).length > 0 ? tidied(settings, side, sides) : {};
    const fields = withoutUnchanged(
      { ...data, ...status, ...cleanup, ...missingForeignKey(settings, side, sides) },
      sides[side].record?.fields ?? {},
      { ...data, ...cleanup },
    );
    if (Object.keys(fields).length === 0) continue;
    const result = await writeTracked(settings, side, sides[side], fields, progress, context, {
      guarded: Object.keys(data).length > 0 || Object.keys(cleanup).length > 0,
    });
    versions[side] = result.version;
    allChanges.push(...result.changes);
    written[side] = true;
  }
  const status = parked > 0 ? 'conflict' : 'clean';
  if (allChanges.length === 0) {
    const unchanged =
      link !== null &&
      link.status === status &&
      link.a.version === versions.a &&
      link.b.version === versions.b &&
      sameJson(link.a.base, merge.base.a as JsonObject) &&
      sameJson(link.b.base, merge.base.b as JsonObject);
    const commit: OutcomeCommit =
      unchanged && withConflicts.conflicts === undefined
        ? { fence }
        : {
            fence,
            link: linkWrite(settings, link, sides, merge.base, versions, status, context),
            ...withConflicts,
          };
    if (parked > 0) return { outcome: 'CONFLICT', reason: `${parked} conflict(s) parked`, commit };
    return { outcome: 'SKIPPED', reason: 'up to date', commit };
  }
  return {
    outcome: parked > 0 ? 'CONFLICT' : 'COMPLETED',
    ...(parked > 0 ? { reason: `${parked} conflict(s) parked` } : {}),
    changes: allChanges,
    commit: {
      fence,
      link: linkWrite(settings, link, sides, merge.base, versions, status, context),
      confirm: progress.confirm,
      ...withConflicts,
    },
  };
}

/** The vendor fields that bring a read record to its mapping's shape (`SideMapper.normalise`); none when assumed. */
function tidied(settings: SyncRunSettings, side: Side, sides: Sides): JsonObject {
  const { record, assumed } = sides[side];
  return record === null || assumed === true ? {} : settings.compiled[side].normalise(record.fields);
}

/**
 * The foreign key to write to `side` when its record does not name its partner yet (a link made by a run that
 * failed right after creating the partner): the record must name it, or a lost link would be duplicated.
 */
function missingForeignKey(settings: SyncRunSettings, side: Side, sides: Sides): JsonObject {
  const foreignKey = settings.options.match.foreignKey;
  const record = sides[side].record;
  if (foreignKey?.side !== side || record === null || sides[side].assumed === true) return {};
  const partnerId = sides[otherSide(side)].ref.id;
  const stored = record.fields[foreignKey.field];
  // EspoCRM keeps `advowareId` as an int; ids are text everywhere else.
  const named = typeof stored === 'number' || typeof stored === 'string' ? String(stored) : null;
  return named === partnerId ? {} : { [foreignKey.field]: partnerId };
}

/** Whether the status side shows a state the run must correct although it writes no data there. */
function needsStatusWrite(settings: SyncRunSettings, side: Side, state: SideState): boolean {
  const status = settings.options.status;
  return status?.side === side && state.record !== null && statusIsStale(status, state.record.fields);
}

/** The status fields of a clean sync, for `side` if it holds them. */
function cleanStatus(
  settings: SyncRunSettings,
  side: Side,
  state: SideState,
  otherVersion: string | null,
  context: RunContext,
): JsonObject {
  const status = settings.options.status;
  if (status?.side !== side || state.record === null) return {};
  return statusFields(status, {
    syncStatus: 'clean',
    at: context.clock.now(),
    error: null,
    retryCount: 0,
    otherVersion,
  });
}

/** `fields` without the status fields the record holds already (data fields are always kept). */
function withoutUnchanged(fields: JsonObject, current: JsonObject, data: JsonObject): JsonObject {
  return Object.fromEntries(
    Object.entries(fields).filter(
      ([field, value]) => Object.hasOwn(data, field) || !sameJson(current[field] ?? null, value),
    ),
  );
}

/** The link as a run leaves it after a sync. */
function linkWrite(
  settings: SyncRunSettings,
  link: Link | null,
  sides: { readonly a: SideState; readonly b: SideState },
  base: { readonly a: object; readonly b: object },
  versions: Record<Side, string | null>,
  status: 'clean' | 'conflict',
  context: RunContext,
): LinkWrite {
  return {
    ...(link === null ? {} : { id: link.id, expectedRevision: link.revision }),
    flow: settings.flow,
    a: { ref: sides.a.ref, base: base.a as JsonObject, version: versions.a },
    b: { ref: sides.b.ref, base: base.b as JsonObject, version: versions.b },
    status,
    retryCount: 0,
    lastError: null,
    lastSyncedAt: context.clock.now(),
    deletion: null,
  };
}
