/**
 * The enrich flow's reconciler (DESIGN lesson 1: webhooks are hints, polling is the truth). On its schedule it
 * lists the companies modified since its checkpoint and queues a job for each, as if a `contact.changed`
 * webhook had arrived, so a lost or refused webhook delays an enrichment instead of losing it. The jobs run
 * through the same filters (owner, comparison with current values), so a company that is up to date costs one
 * read and writes nothing.
 *
 * - Its own writes are not queued again: a record whose version equals one the write ledger recorded is this
 *   flow's echo.
 * - The checkpoint is a scan window (`../../scan-window.ts`): the newest modification handled plus the
 *   (record, version) pairs handled just before it. It is saved after every page, so a crash resumes where it
 *   stopped (lesson 9). Each run lists from the position minus the vendor's granularity, so a record saved in
 *   the same second as the checkpoint is not lost to an exclusive `modifiedSince` (SuperOffice `afterTime`);
 *   the pairs already handled are skipped without queueing and without counting against `maxPerRun`. It needs
 *   a connector that lists by modification time, oldest first (its capabilities say so). The first run looks
 *   back `lookbackMinutes` only, never over the whole tenant.
 * - Each (record, version) is queued once: a dedup key on both makes overlapping scans harmless, and a record
 *   that already waits in the queue coalesces with its job.
 */
import { jobRecordKey } from '../../../core/types.ts';
import type { ChangeEvent, JsonObject } from '../../../core/types.ts';
import type { Clock } from '../../../ports/clock.ts';
import type { Connector, VendorRecord } from '../../../ports/connector.ts';
import type { JobInput, Queue } from '../../../ports/queue.ts';
import type { CheckpointRepository, WriteLedger } from '../../../ports/store.ts';
import { ScanWindow } from '../../scan-window.ts';
import type { ScheduledTask } from '../../scheduler.ts';

/** How the reconciler scans. */
export interface ReconcileSettings {
  /** Entity types to scan (SuperOffice `Contact`). */
  readonly entityTypes: readonly string[];
  /** How far the first run looks back. */
  readonly lookbackMinutes: number;
  /** Most records one run queues; the rest waits for the next run (the checkpoint stops there). */
  readonly maxPerRun: number;
}

/** What the reconciler works with. */
export interface ReconcilerDependencies {
  readonly flow: string;
  readonly connector: Pick<Connector, 'connection' | 'capabilities' | 'list'>;
  readonly queue: Pick<Queue, 'enqueueMany'>;
  readonly checkpoints: CheckpointRepository;
  readonly ledger: WriteLedger;
  readonly clock: Clock;
  readonly settings: ReconcileSettings;
}

/** The vendor event a reconciled record pretends to be, so the flow's event whitelist applies as usual. */
const SYNTHETIC_EVENTS: Readonly<Record<string, string>> = {
  Contact: 'contact.changed',
  Person: 'person.changed',
};

/** Versions compare at second precision: archive rows and entity answers may differ below a second. */
function versionSecond(version: string | null): number | null {
  if (version === null) return null;
  const ms = Date.parse(version);
  return Number.isNaN(ms) ? null : Math.floor(ms / 1000);
}

/** Creates the scheduled task of one enrich flow's reconciler. */
export function createEnrichReconciler(deps: ReconcilerDependencies): ScheduledTask {
  return async ({ logger, signal }) => {
    let queued = 0;
    let skippedOwn = 0;
    for (const entityType of deps.settings.entityTypes) {
      if (signal.aborted || queued >= deps.settings.maxPerRun) break;
      const result = await reconcileEntity(deps, entityType, deps.settings.maxPerRun - queued, signal);
      queued += result.queued;
      skippedOwn += result.skippedOwn;
    }
    logger.info(
      { flow: deps.flow, queued, skippedOwn },
      'reconcile: queued records modified since the last run',
    );
  };
}

async function reconcileEntity(
  deps: ReconcilerDependencies,
  entityType: string,
  budget: number,
  signal: AbortSignal,
): Promise<{ queued: number; skippedOwn: number }> {
  const { flow, connector, checkpoints, clock, settings } = deps;
  const checkpointName = `reconcile|${flow}|${entityType}`;
  const saved = await checkpoints.get(checkpointName);
  const start = new Date(clock.now() - settings.lookbackMinutes * 60_000).toISOString();
  const window = new ScanWindow(saved?.value, start, connector.capabilities.list);
  const since = window.since;
  let cursor: string | undefined;
  let queued = 0;
  let skippedOwn = 0;
  do {
    const page = await connector.list(
      { entityType, modifiedSince: since, ...(cursor !== undefined && { cursor }) },
      { signal },
    );
    const inputs: JobInput[] = [];
    for (const record of page.records) {
      if (window.seen(record)) continue;
      if (queued + inputs.length >= budget) break;
      if (await isOwnWrite(deps, record)) skippedOwn += 1;
      else inputs.push(jobFor(flow, connector.connection, record));
      window.handled(record);
    }
    if (inputs.length > 0) await deps.queue.enqueueMany(inputs);
    queued += inputs.length;
    await checkpoints.set(checkpointName, window.toCheckpoint());
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined && queued < budget && !signal.aborted);
  return { queued, skippedOwn };
}

/** True when the record's current version is one this flow wrote (the ledger keeps them for days). */
async function isOwnWrite(deps: ReconcilerDependencies, record: VendorRecord): Promise<boolean> {
  const current = versionSecond(record.version);
  if (current === null) return false;
  const ref = { connection: deps.connector.connection, entityType: record.entityType, id: record.id };
  const written = await deps.ledger.find(ref, (current - 1) * 1000);
  return written.some((entry) => versionSecond(entry.version) === current);
}

function jobFor(flow: string, connection: string, record: VendorRecord): JobInput {
  const ref = { connection, entityType: record.entityType, id: record.id };
  const event: ChangeEvent = {
    ref,
    kind: 'updated',
    vendorEvent: SYNTHETIC_EVENTS[record.entityType] ?? `${record.entityType.toLowerCase()}.changed`,
    eventId: `reconcile:${record.id}@${record.version ?? 'unknown'}`,
    ...(record.version !== null && { version: record.version }),
  };
  return {
    flow,
    recordKey: jobRecordKey(flow, ref),
    dedupKey: `${flow}|${connection}|${event.eventId}`,
    payload: event as unknown as JsonObject,
  };
}
