/**
 * The re-check of a sync side whose connector has no change times (Advoware: `list.modifiedSince` is
 * `unsupported`, and its change webhooks are unconfirmed). Nothing tells us a record changed, so on its
 * schedule the re-check walks the flow's links in id order, reads the side's record and compares its version
 * token (Advoware's rowId) with the one the link stored at the last sync:
 *
 * - a different version queues a sync job (a synthetic `updated` event carrying the new version);
 * - a record that is gone (`read` -> null) queues a `deleted` hint: the sync flow decides what a deletion
 *   means (soft, after a grace period); the re-check never deletes anything;
 * - an equal version queues nothing: an unchanged record costs its one read.
 *
 * It spends at most a configured share of the connection's request budget: `budgetShare` of
 * `requestsPerSecond`, times the seconds between ticks, is the number of reads one tick may make. The
 * checkpoint (`recheck|<flow>|<side>`) holds the last link id read, saved after every page of links, so a
 * restart resumes there; after the last link the walk wraps around to the first. It also counts the links of
 * the last full rotation, so {@link recheckStatus} reports how long one rotation takes at the budget: the
 * longest a change can go unnoticed (for `crmsync sync status`). Links marked `deleted` are not read.
 */
import type { JsonValue } from '../../../core/types.ts';
import type { Connector } from '../../../ports/connector.ts';
import type { JobInput, Queue } from '../../../ports/queue.ts';
import type { CheckpointRepository, Link, LinkRepository } from '../../../ports/store.ts';
import type { ScheduledTask } from '../../scheduler.ts';
import { enqueueJobs, scanRequestsPerSecond, scanRequestsPerTick, syncJobFor } from './change-detection.ts';
import type { ScanBudget } from './change-detection.ts';

/** Which side of the flow's links to re-check, and within which budget. */
export interface RecheckSettings extends ScanBudget {
  /** The side of the links whose records the connector reads. */
  readonly side: 'a' | 'b';
}

/** What the re-check works with. */
export interface RecheckDependencies {
  readonly flow: string;
  readonly connector: Pick<Connector, 'connection' | 'read'>;
  readonly links: LinkRepository;
  readonly queue: Pick<Queue, 'enqueueMany'>;
  readonly checkpoints: CheckpointRepository;
  readonly settings: RecheckSettings;
}

/** Where the walk stands, as stored in the checkpoint. */
interface RecheckPosition {
  /** The last link read, or null at the start of a rotation. */
  readonly afterId: string | null;
  /** Links read so far in the current rotation. */
  readonly rotationLinks: number;
  /** Links read in the last full rotation, or null before the first one ended. */
  readonly lastRotationLinks: number | null;
  /** Full rotations ended. */
  readonly rotations: number;
}

/** How the re-check of one side stands, for `crmsync sync status`. */
export interface RecheckStatus {
  /** Reads one tick may make, and per second over time. */
  readonly readsPerTick: number;
  readonly readsPerSecond: number;
  /** Full rotations ended so far. */
  readonly rotations: number;
  /**
   * Links one rotation reads: those of the last full rotation, or while the first one runs, those read so
   * far (a lower bound).
   */
  readonly linksPerRotation: number;
  /** Seconds one full rotation takes at the budget: the longest a change can go unnoticed. */
  readonly rotationSeconds: number;
}

/** Links asked of the store per page; a tick with fewer reads left asks for fewer. */
const LINK_PAGE = 100;

function checkpointName(flow: string, side: 'a' | 'b'): string {
  return `recheck|${flow}|${side}`;
}

function parsePosition(value: JsonValue | undefined): RecheckPosition {
  const start: RecheckPosition = { afterId: null, rotationLinks: 0, lastRotationLinks: null, rotations: 0 };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return start;
  const { afterId, rotationLinks, lastRotationLinks, rotations } = value;
  return {
    afterId: typeof afterId === 'string' ? afterId : null,
    rotationLinks: typeof rotationLinks === 'number' ? rotationLinks : 0,
    lastRotationLinks: typeof lastRotationLinks === 'number' ? lastRotationLinks : null,
    rotations: typeof rotations === 'number' ? rotations : 0,
  };
}

/** The re-check's status from its checkpoint and settings. */
export async function recheckStatus(
  checkpoints: CheckpointRepository,
  flow: string,
  settings: RecheckSettings,
): Promise<RecheckStatus> {
  const position = parsePosition((await checkpoints.get(checkpointName(flow, settings.side)))?.value);
  const readsPerSecond = scanRequestsPerSecond(settings);
  const linksPerRotation = Math.max(position.lastRotationLinks ?? 0, position.rotationLinks);
  return {
    readsPerTick: scanRequestsPerTick(settings),
    readsPerSecond,
    rotations: position.rotations,
    linksPerRotation,
    rotationSeconds: linksPerRotation / readsPerSecond,
  };
}

/**
 * Creates the scheduled task that re-checks one side of a sync flow's links. Throws InputError
 * (`SCAN_BUDGET_INVALID`) for a budget share outside (0, 1] or a rate or interval that is not positive.
 */
export function createRecheck(deps: RecheckDependencies): ScheduledTask {
  const readsPerTick = scanRequestsPerTick(deps.settings);
  return async ({ logger, signal }) => {
    const result = await recheckTick(deps, readsPerTick, signal);
    logger.info({ flow: deps.flow, side: deps.settings.side, ...result }, 'recheck: compared linked records');
  };
}

/** One tick: reads up to the tick's budget of links from the checkpoint on, and queues what changed. */
async function recheckTick(
  deps: RecheckDependencies,
  readsPerTick: number,
  signal: AbortSignal,
): Promise<{ reads: number; queued: number; wrapped: boolean }> {
  const { flow, links, checkpoints, settings } = deps;
  const name = checkpointName(flow, settings.side);
  let position = parsePosition((await checkpoints.get(name))?.value);
  let reads = 0;
  let queued = 0;
  let wrapped = false;
  // A tick ends at the end of a rotation: a link is read at most once per tick however few there are.
  while (reads < readsPerTick && !wrapped && !signal.aborted) {
    const limit = Math.min(LINK_PAGE, readsPerTick - reads);
    const page = await links.list({
      flow,
      limit,
      ...(position.afterId !== null && { afterId: position.afterId }),
    });
    const inputs: JobInput[] = [];
    let read = 0;
    for (const link of page) {
      if (link.status === 'deleted') continue;
      const job = await recheckLink(deps, link, signal);
      read += 1;
      if (job !== null) inputs.push(job);
    }
    reads += read;
    queued += await enqueueJobs(deps.queue, inputs);
    if (page.length < limit) {
      wrapped = true;
      position = {
        afterId: null,
        rotationLinks: 0,
        lastRotationLinks: position.rotationLinks + read,
        rotations: position.rotations + 1,
      };
    } else {
      position = { ...position, afterId: page.at(-1)!.id, rotationLinks: position.rotationLinks + read };
    }
    await checkpoints.set(name, { ...position });
  }
  return { reads, queued, wrapped };
}

/** Reads the link's record on the re-checked side; the job to queue, or null when it is unchanged. */
async function recheckLink(
  deps: RecheckDependencies,
  link: Link,
  signal: AbortSignal,
): Promise<JobInput | null> {
  const side = link[deps.settings.side];
  const { ref } = side;
  const record = await deps.connector.read(ref.entityType, ref.id, { signal });
  if (record === null) {
    return syncJobFor(deps.flow, { ref, kind: 'deleted', source: 'recheck', seen: `${ref.id}@gone` });
  }
  if (record.version === side.version) return null;
  return syncJobFor(deps.flow, {
    ref,
    kind: 'updated',
    version: record.version,
    source: 'recheck',
    seen: `${ref.id}@${record.version ?? 'unknown'}`,
  });
}
