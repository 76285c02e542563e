/**
 * The sync flow's reconciler for a side whose connector lists by modification time (EspoCRM), by default
 * every 15 minutes: webhooks are hints, this scan is the truth (DESIGN lesson 1). A run queues sync jobs
 * (synthetic `updated` events) for
 *
 * 1. records modified since the last run. The checkpoint (`sync-reconcile|<flow>|<entityType>`) is a scan
 *    window (`../../scan-window.ts`): each run lists from the position minus the vendor's granularity, so a
 *    record saved in the same second as the checkpoint is not lost, and a (record, version) pair handled
 *    before is skipped for free. A record whose version equals the one its link stored at the last sync
 *    queues nothing (the echo of our own write, or a sync that has happened already).
 * 2. records whose status field (the seed's `syncStatus`) says they wait for a sync: `dirty`,
 *    `pending_sync`, `failed` by default, however old. The list port has no field filter, so this is a full
 *    list, filtered here, with its own checkpoint (`sync-status|<flow>|<entityType>`: the cursor), one pass
 *    per run: one request per page of the entity type. A record is queued once per version: one that stays
 *    `failed` at the same version is retried by the queue's own backoff, not by every pass.
 *
 * Jobs are queued page by page (`enqueueMany`) and both checkpoints are saved after every page, so a crash
 * resumes at the page it stopped at. The first run looks back `lookbackMinutes` only.
 */
import { valueHash } from '../../../core/canonical.ts';
import { recordKey } from '../../../core/types.ts';
import type { JsonValue } from '../../../core/types.ts';
import type { Clock } from '../../../ports/clock.ts';
import type { Connector, VendorRecord } from '../../../ports/connector.ts';
import type { JobInput, Queue } from '../../../ports/queue.ts';
import type { CheckpointRepository, LinkRepository } from '../../../ports/store.ts';
import { ScanWindow } from '../../scan-window.ts';
import type { ScheduledTask } from '../../scheduler.ts';
import { enqueueJobs, syncJobFor } from './change-detection.ts';

/** The reconciler's default schedule: every 15 minutes. */
export const DEFAULT_RECONCILE_CRON = '*/15 * * * *';

/** The seed's `syncStatus` values that mean "sync this record". */
export const DEFAULT_PENDING_STATUSES: readonly string[] = ['dirty', 'pending_sync', 'failed'];

/** How the reconciler scans one side. */
export interface SyncReconcileSettings {
  readonly entityType: string;
  /** How far the first run looks back. */
  readonly lookbackMinutes: number;
  /** Most jobs one run queues; the rest waits for the next run (the checkpoints stop there). */
  readonly maxPerRun: number;
  /** The status field of the side (`syncStatus`) and its values that ask for a sync; absent: no status sweep. */
  readonly statusField?: { readonly name: string; readonly pending?: readonly string[] };
  /** Records per page; default the connector's. */
  readonly pageSize?: number;
}

/** What the reconciler works with. */
export interface SyncReconcilerDependencies {
  readonly flow: string;
  readonly connector: Pick<Connector, 'connection' | 'capabilities' | 'list'>;
  readonly links: Pick<LinkRepository, 'findByRef'>;
  readonly queue: Pick<Queue, 'enqueueMany'>;
  readonly checkpoints: CheckpointRepository;
  readonly clock: Clock;
  readonly settings: SyncReconcileSettings;
  /**
   * The record's mapped values as a hash (`valueHash` of its canonical record), or null when the listed record
   * lacks a mapped field. Where the version token is coarse (EspoCRM's `modifiedAt` in whole seconds, for
   * entity types without `versionNumber`), a person's edit saved in the same second as our write carries the
   * link's version: the values tell it apart. Absent: versions alone decide.
   */
  readonly fingerprint?: (record: VendorRecord) => string | null;
}

/** What one run did. */
interface RunCounts {
  queued: number;
  /** Modified records whose version equals their link's: nothing to sync. */
  unchanged: number;
}

/** Creates the scheduled task of one sync flow side's reconciler. */
export function createSyncReconciler(deps: SyncReconcilerDependencies): ScheduledTask {
  return async ({ logger, signal }) => {
    const counts: RunCounts = { queued: 0, unchanged: 0 };
    await scanModified(deps, counts, signal);
    if (deps.settings.statusField !== undefined) {
      await sweepStatus(deps, deps.settings.statusField, counts, signal);
    }
    logger.info(
      { flow: deps.flow, entityType: deps.settings.entityType, ...counts },
      'reconcile: queued sync jobs',
    );
  };
}

/**
 * The job for a record found by either scan. Both name it by (record, version), so a record both find, or
 * one found again at the same version, is queued once (the queue drops the repeated dedup key).
 */
function jobFor(deps: SyncReconcilerDependencies, record: VendorRecord): JobInput {
  const ref = { connection: deps.connector.connection, entityType: record.entityType, id: record.id };
  const seen = `${record.id}@${stateOf(deps, record).version ?? 'unknown'}`;
  return syncJobFor(deps.flow, { ref, kind: 'updated', version: record.version, source: 'reconcile', seen });
}

/**
 * The record as the scan tells its states apart: its version token, with the fingerprint of its mapped values
 * appended where there is one, so two states under one coarse version are two states (for the scan window's
 * seen pairs and the queue's dedup key alike).
 */
function stateOf(deps: SyncReconcilerDependencies, record: VendorRecord): VendorRecord {
  const fingerprint = deps.fingerprint?.(record) ?? null;
  return fingerprint === null ? record : { ...record, version: `${record.version ?? ''}#${fingerprint}` };
}

/**
 * True when the record is as its link stored it at the last sync: the same version and, where the record can
 * be fingerprinted, the same mapped values as the link's base snapshot of its side.
 */
async function syncedAlready(deps: SyncReconcilerDependencies, record: VendorRecord): Promise<boolean> {
  const ref = { connection: deps.connector.connection, entityType: record.entityType, id: record.id };
  const link = await deps.links.findByRef(deps.flow, ref);
  if (link === null || record.version === null) return false;
  const side = recordKey(link.a.ref) === recordKey(ref) ? link.a : link.b;
  if (side.version !== record.version) return false;
  if (deps.fingerprint === undefined) return true;
  const fingerprint = deps.fingerprint(record);
  return fingerprint !== null && side.base !== null && fingerprint === valueHash(side.base);
}

async function scanModified(
  deps: SyncReconcilerDependencies,
  counts: RunCounts,
  signal: AbortSignal,
): Promise<void> {
  const { flow, connector, checkpoints, clock, settings } = deps;
  const name = `sync-reconcile|${flow}|${settings.entityType}`;
  const start = new Date(clock.now() - settings.lookbackMinutes * 60_000).toISOString();
  const window = new ScanWindow((await checkpoints.get(name))?.value, start, connector.capabilities.list);
  const since = window.since;
  let cursor: string | undefined;
  do {
    const page = await connector.list(
      {
        entityType: settings.entityType,
        modifiedSince: since,
        ...(cursor !== undefined && { cursor }),
        ...(settings.pageSize !== undefined && { limit: settings.pageSize }),
      },
      { signal },
    );
    const inputs: JobInput[] = [];
    for (const record of page.records) {
      const state = stateOf(deps, record);
      if (window.seen(state)) continue;
      if (counts.queued + inputs.length >= settings.maxPerRun) break;
      if (await syncedAlready(deps, record)) counts.unchanged += 1;
      else inputs.push(jobFor(deps, record));
      window.handled(state);
    }
    counts.queued += await enqueueJobs(deps.queue, inputs);
    await checkpoints.set(name, window.toCheckpoint());
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined && counts.queued < settings.maxPerRun && !signal.aborted);
}

function parseSweep(value: JsonValue | undefined): { cursor: string | null; passes: number } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { cursor: null, passes: 0 };
  return {
    cursor: typeof value['cursor'] === 'string' ? value['cursor'] : null,
    passes: typeof value['passes'] === 'number' ? value['passes'] : 0,
  };
}

async function sweepStatus(
  deps: SyncReconcilerDependencies,
  statusField: NonNullable<SyncReconcileSettings['statusField']>,
  counts: RunCounts,
  signal: AbortSignal,
): Promise<void> {
  const { flow, connector, checkpoints, settings } = deps;
  const pending = new Set(statusField.pending ?? DEFAULT_PENDING_STATUSES);
  const name = `sync-status|${flow}|${settings.entityType}`;
  let position = parseSweep((await checkpoints.get(name))?.value);
  let passEnded = false;
  while (!passEnded && counts.queued < settings.maxPerRun && !signal.aborted) {
    const page = await connector.list(
      {
        entityType: settings.entityType,
        ...(position.cursor !== null && { cursor: position.cursor }),
        ...(settings.pageSize !== undefined && { limit: settings.pageSize }),
      },
      { signal },
    );
    const inputs: JobInput[] = [];
    for (const record of page.records) {
      const status = record.fields[statusField.name];
      if (typeof status === 'string' && pending.has(status)) inputs.push(jobFor(deps, record));
    }
    counts.queued += await enqueueJobs(deps.queue, inputs);
    passEnded = page.nextCursor === null;
    position = passEnded
      ? { cursor: null, passes: position.passes + 1 }
      : { ...position, cursor: page.nextCursor };
    await checkpoints.set(name, { ...position });
  }
}
