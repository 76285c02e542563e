/**
 * The reading half of a sync run: both sides read (or one, where the job's event carries the full state),
 * mapped to canonical records and merged against the link's base snapshots, giving a {@link SyncPlan}: what
 * would be written to each side, created, linked or marked gone. Planning writes nothing, so the same code
 * serves a run (./run.ts executes the plan) and `crmsync sync plan` / `backfill --dry-run`.
 */
import { mergeRecords } from '../../../core/sync/merge.ts';
import { applyResolutions } from '../../../core/sync/resolve.ts';
import type { FieldResolution } from '../../../core/sync/resolve.ts';
import type { MergeResult } from '../../../core/sync/merge.ts';
import { otherSide } from '../../../core/sync/record.ts';
import type { CanonicalRecord, Side } from '../../../core/sync/record.ts';
import type { ChangeEvent, JsonObject, RecordRef } from '../../../core/types.ts';
import type { Connector, VendorRecord } from '../../../ports/connector.ts';
import type { Link } from '../../../ports/store.ts';
import type { CompiledSyncFlow } from './mapping.ts';
import type { SyncOptions } from './options.ts';

/** What planning needs: the flow's options, its compiled mapping and both sides' connectors. */
export interface SyncPlanSettings {
  readonly options: SyncOptions;
  readonly compiled: CompiledSyncFlow;
  readonly connectors: { readonly a: Connector; readonly b: Connector };
}

/** A side as the plan saw it: its record ref, the vendor record read (null: gone) and its canonical record. */
export interface SideState {
  readonly ref: RecordRef;
  readonly record: VendorRecord | null;
  readonly canonical: CanonicalRecord;
  /** True when the record came from the job's event, not from a read (the event carried the full state). */
  readonly fromEvent?: boolean;
  /**
   * True when the side was not read but assumed as the link left it (base snapshot, version token): only the
   * other side changed, and the side's connector proves the assumption on write (a stale rowId, or a value it
   * would overwrite that differs, is refused, and the run reads and plans again). `record` then holds the
   * vendor values of the base, not a read.
   */
  readonly assumed?: boolean;
}

/** What a run would do for one link (or one record without a link). */
export type SyncPlan =
  /** A side's record is gone: soft delete (./deletes.ts). */
  | { readonly kind: 'gone'; readonly side: Side; readonly sides: Sides; readonly link: Link }
  /** No link and no partner: create one on `target` as an upsert (`match`), then link. */
  | {
      readonly kind: 'create';
      readonly target: Side;
      readonly own: SideState;
      readonly merge: MergeResult;
      /** The vendor fields the partner is created with, and the match that finds a create whose answer was lost. */
      readonly fields: JsonObject;
      readonly match: JsonObject;
      /**
       * True when `match` names our record (the other side's foreign key): nothing else can match it, so the
       * create is an upsert from the start. Otherwise it matches by values, which a namesake may share.
       */
      readonly matchIsOurs: boolean;
    }
  /** Both records known: merge them; `link` null for a first link to a partner found by the foreign key. */
  | {
      readonly kind: 'merge';
      readonly sides: Sides;
      readonly link: Link | null;
      readonly merge: MergeResult;
      /** The vendor fields to write per side (empty: no write to that side). */
      readonly writes: { readonly a: JsonObject; readonly b: JsonObject };
    }
  /** Nothing to do at all (the record of a job without a link is gone). */
  | { readonly kind: 'none'; readonly reason: string };

/** Both sides of a link as read. */
export interface Sides {
  readonly a: SideState;
  readonly b: SideState;
}

/** Per-read options: the run's signal, and the job's events (a full-state event can replace a read). */
export interface PlanContext {
  readonly signal?: AbortSignal;
  readonly events?: readonly ChangeEvent[];
  /** Whether a record is linked in the flow already (a match-key partner must not be linked twice). */
  readonly linked?: (ref: RecordRef) => Promise<boolean>;
  /** A linked side to assume unchanged instead of reading it (see {@link SideState.assumed}). */
  readonly assume?: Side;
  /** Operators' resolutions of the link's parked conflicts, applied to the merge. */
  readonly resolutions?: readonly FieldResolution[];
}

/** The record ref of `id` on `side`. */
export function refOf({ options }: Pick<SyncPlanSettings, 'options'>, side: Side, id: string): RecordRef {
  return { connection: options[side].connection, entityType: options[side].entityType, id };
}

/** Plans the sync of `ref` (of side `side`), linked by `link` or not linked yet. */
export async function planSync(
  settings: SyncPlanSettings,
  side: Side,
  ref: RecordRef,
  link: Link | null,
  context: PlanContext,
): Promise<SyncPlan> {
  if (link !== null) return planLinked(settings, link, context);
  const own = await readSide(settings, side, ref, context);
  if (own.record === null) return { kind: 'none', reason: 'the record is gone' };
  const partner = await findPartner(settings, side, own, context);
  if (partner !== null)
    return planMerge(settings, side === 'a' ? { a: own, b: partner } : { a: partner, b: own }, null, context);
  return planCreate(settings, side, own);
}

async function planLinked(settings: SyncPlanSettings, link: Link, context: PlanContext): Promise<SyncPlan> {
  const sides: Sides = {
    a:
      assumedSide(settings, link, 'a', context) ??
      (await readSide(settings, 'a', link.a.ref, context, link.a.version)),
    b:
      assumedSide(settings, link, 'b', context) ??
      (await readSide(settings, 'b', link.b.ref, context, link.b.version)),
  };
  if (sides.a.record === null) return { kind: 'gone', side: 'a', sides, link };
  if (sides.b.record === null) return { kind: 'gone', side: 'b', sides, link };
  return planMerge(settings, sides, link, context);
}

/** The side as the link left it, when the plan may assume it unchanged (it has a base and a token). */
function assumedSide(
  settings: SyncPlanSettings,
  link: Link,
  side: Side,
  context: PlanContext,
): SideState | null {
  const { base, version, ref } = link[side];
  if (context.assume !== side || base === null || version === null) return null;
  // The vendor values the link's base stands for: what a value-comparing connector checks the write against.
  const fields = settings.compiled[side].toVendor(base, {});
  return {
    ref,
    record: { entityType: ref.entityType, id: ref.id, fields, version },
    canonical: base,
    assumed: true,
  };
}

/**
 * The partner of a record without a link, by the stored foreign key (EspoCRM `advowareId`, written by the seed
 * system or by an earlier create): where the key lives on this side, the record it names; where it lives on
 * the other side, the one record there that names ours. Either way the pair is merged (with no base: each
 * difference is a conflict settled by the policy), not overwritten by the side that happened to run first.
 */
async function findPartner(
  settings: SyncPlanSettings,
  side: Side,
  own: SideState,
  context: PlanContext,
): Promise<SideState | null> {
  return (
    (await byForeignKey(settings, side, own, context)) ?? (await byMatchKeys(settings, side, own, context))
  );
}

/** The partner the stored foreign key gives, on either side. */
async function byForeignKey(
  settings: SyncPlanSettings,
  side: Side,
  own: SideState,
  context: PlanContext,
): Promise<SideState | null> {
  const foreignKey = settings.options.match.foreignKey;
  if (foreignKey === undefined) return null;
  if (foreignKey.side !== side) return findNaming(settings, foreignKey, own, context);
  const stored = own.record?.fields[foreignKey.field];
  // EspoCRM keeps `advowareId` as an int; ids are text everywhere else.
  const partnerId = typeof stored === 'number' ? String(stored) : stored;
  if (typeof partnerId !== 'string' || partnerId === '') return null;
  const partner = await readSide(
    settings,
    otherSide(side),
    refOf(settings, otherSide(side), partnerId),
    context,
  );
  return partner.record === null ? null : partner;
}

/**
 * The partner by the first match key set whose values `own` all has (e.g. last name + e-mail): the one record
 * of the other side with those values that is not linked yet. None, several, or one linked already: no
 * partner (the create's upsert then matches on the same keys).
 */
async function byMatchKeys(
  settings: SyncPlanSettings,
  side: Side,
  own: SideState,
  context: PlanContext,
): Promise<SideState | null> {
  const keySet = settings.options.match.keys.find((set) =>
    set.every((field) => own.canonical[field] != null),
  );
  if (keySet === undefined) return null;
  const other = otherSide(side);
  const values = Object.fromEntries(keySet.map((field) => [field, own.canonical[field]!]));
  const found = await settings.connectors[other].find(
    settings.options[other].entityType,
    settings.compiled[other].toVendor(values, {}),
    { signal: context.signal },
  );
  if (found.length !== 1) return null;
  const partner = stateOf(settings, other, found[0]!);
  return (await context.linked?.(partner.ref)) === true ? null : partner;
}

function stateOf(settings: SyncPlanSettings, side: Side, record: VendorRecord): SideState {
  return {
    ref: refOf(settings, side, record.id),
    record,
    canonical: settings.compiled[side].toCanonical(record.fields),
  };
}

/** The one record of the other side whose foreign key names `own`, or null (none, or several: see planCreate). */
async function findNaming(
  settings: SyncPlanSettings,
  foreignKey: { readonly side: Side; readonly field: string },
  own: SideState,
  context: PlanContext,
): Promise<SideState | null> {
  const side = foreignKey.side;
  const { entityType } = settings.options[side];
  const found = await settings.connectors[side].find(
    entityType,
    { [foreignKey.field]: own.ref.id },
    { signal: context.signal },
  );
  return found.length === 1 ? stateOf(settings, side, found[0]!) : null;
}

function planMerge(
  settings: SyncPlanSettings,
  sides: Sides,
  link: Link | null,
  context: PlanContext,
): SyncPlan {
  const base = link?.a.base != null && link.b.base != null ? { a: link.a.base, b: link.b.base } : undefined;
  const merged = mergeRecords({
    fields: settings.compiled.fields,
    a: sides.a.canonical,
    b: sides.b.canonical,
    base,
    times: { a: changeTime(sides.a.record), b: changeTime(sides.b.record) },
  });
  const merge = applyResolutions(
    merged,
    { a: sides.a.canonical, b: sides.b.canonical },
    settings.compiled.fields,
    context.resolutions ?? [],
  );
  return {
    kind: 'merge',
    sides,
    link,
    merge,
    writes: {
      a: vendorWrite(settings, 'a', sides.a, merge),
      b: vendorWrite(settings, 'b', sides.b, merge),
    },
  };
}

/**
 * The partner to create for `own`: every mapped field, and the upsert's match. The match is the foreign key
 * naming our record where the other side stores it (the seed system's link is found again), else the vendor
 * fields of the first match key set whose values are all set, else every field we create it with (the
 * record a lost create answer made is found again).
 */
function planCreate(settings: SyncPlanSettings, side: Side, own: SideState): SyncPlan {
  const target = otherSide(side);
  const merge = mergeRecords({
    fields: settings.compiled.fields,
    ...(side === 'a' ? { a: own.canonical, b: {} } : { a: {}, b: own.canonical }),
    base: undefined,
  });
  const mapper = settings.compiled[target];
  const mapped = mapper.toVendor(merge.writes[target].fields, {});
  const { foreignKey, keys } = settings.options.match;
  const fields: JsonObject =
    foreignKey?.side === target ? { ...mapped, [foreignKey.field]: own.ref.id } : mapped;
  let match: JsonObject = foreignKey?.side === target ? { [foreignKey.field]: own.ref.id } : { ...mapped };
  if (foreignKey?.side !== target) {
    const keySet = keys.find((set) => set.every((field) => own.canonical[field] != null));
    if (keySet !== undefined) {
      const keyValues = Object.fromEntries(keySet.map((field) => [field, own.canonical[field]!]));
      match = mapper.toVendor(keyValues, {});
    }
  }
  return { kind: 'create', target, own, merge, fields, match, matchIsOurs: foreignKey?.side === target };
}

/** The vendor fields to write to a side: the merge's writes mapped, plus the mapper's clean-up of the record. */
function vendorWrite(
  settings: SyncPlanSettings,
  side: Side,
  state: SideState,
  merge: MergeResult,
): JsonObject {
  const writes = merge.writes[side].fields;
  if (Object.keys(writes).length === 0 || state.record === null) return {};
  const mapper = settings.compiled[side];
  // An assumed side has no vendor fields to clean up; the next run that reads it does.
  const normalised = state.assumed === true ? {} : mapper.normalise(state.record.fields);
  return { ...normalised, ...mapper.toVendor(writes, state.canonical) };
}

/**
 * Reads one side, or takes the record from the job's newest event for it when that event carries every field
 * the side's mapping reads and a version token newer than the link's (EspoCRM's numeric versionNumber: only
 * numeric tokens can be ordered, so a reordered old event is never taken for the current state).
 */
export async function readSide(
  settings: SyncPlanSettings,
  side: Side,
  ref: RecordRef,
  context: PlanContext,
  linkedVersion?: string | null,
): Promise<SideState> {
  const mapper = settings.compiled[side];
  const carried = fullStateOf(context.events ?? [], ref, mapper.vendorFields, linkedVersion);
  if (carried !== null)
    return { ref, record: carried, canonical: mapper.toCanonical(carried.fields), fromEvent: true };
  const record = await settings.connectors[side].read(ref.entityType, ref.id, { signal: context.signal });
  return { ref, record, canonical: record === null ? {} : mapper.toCanonical(record.fields) };
}

function fullStateOf(
  events: readonly ChangeEvent[],
  ref: RecordRef,
  vendorFields: readonly string[],
  linkedVersion: string | null | undefined,
): VendorRecord | null {
  const newest = events.findLast(
    (event) => event.ref.id === ref.id && event.ref.connection === ref.connection && event.kind === 'updated',
  );
  if (newest?.data === undefined || newest.version === undefined) return null;
  if (!vendorFields.every((field) => Object.hasOwn(newest.data!, field))) return null;
  const version = Number(newest.version);
  const linked = linkedVersion == null ? Number.NaN : Number(linkedVersion);
  if (!Number.isSafeInteger(version) || !Number.isSafeInteger(linked) || version <= linked) return null;
  return {
    entityType: ref.entityType,
    id: ref.id,
    fields: newest.data,
    version: newest.version,
    ...(newest.occurredAt !== undefined && { modifiedAt: newest.occurredAt }),
  };
}

function changeTime(record: VendorRecord | null): number | undefined {
  return record?.modifiedAt === undefined ? undefined : Date.parse(record.modifiedAt);
}
