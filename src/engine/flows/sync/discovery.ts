/**
 * Discovery of new records on a sync side whose connector cannot list by change time (Advoware): nothing
 * says a record is new, so the side is listed in full, page by page, and a record that has no link in the
 * flow yet (`links.findByRef`) queues a sync job (a synthetic `created` event), which links it or creates
 * its counterpart. Linked records queue nothing here: the re-check (`./recheck.ts`) watches those.
 *
 * Each page is one request; a tick lists at most its share of the connection's budget in pages. The
 * checkpoint (`discovery|<flow>|<entityType>`) holds the cursor of the next page, saved after every page,
 * so a restart resumes there; after the last page the scan starts over. Where the vendor pages by offset
 * (Advoware skip/take), a record created during a pass may shift the rows and be skipped by that pass; the
 * next pass lists it.
 */
import type { JsonValue } from '../../../core/types.ts';
import type { Connector } from '../../../ports/connector.ts';
import type { JobInput, Queue } from '../../../ports/queue.ts';
import type { CheckpointRepository, LinkRepository } from '../../../ports/store.ts';
import type { ScheduledTask } from '../../scheduler.ts';
import { enqueueJobs, scanRequestsPerTick, syncJobFor } from './change-detection.ts';
import type { ScanBudget } from './change-detection.ts';

/** What to list, and within which budget. */
export interface DiscoverySettings extends ScanBudget {
  readonly entityType: string;
  /** Records per page; default the connector's. */
  readonly pageSize?: number;
}

/** What discovery works with. */
export interface DiscoveryDependencies {
  readonly flow: string;
  readonly connector: Pick<Connector, 'connection' | 'list'>;
  readonly links: Pick<LinkRepository, 'findByRef'>;
  readonly queue: Pick<Queue, 'enqueueMany'>;
  readonly checkpoints: CheckpointRepository;
  readonly settings: DiscoverySettings;
}

/** Where the scan stands: the next page's cursor (null: the first page) and the passes ended. */
interface DiscoveryPosition {
  readonly cursor: string | null;
  readonly passes: number;
}

function parsePosition(value: JsonValue | undefined): DiscoveryPosition {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { cursor: null, passes: 0 };
  return {
    cursor: typeof value['cursor'] === 'string' ? value['cursor'] : null,
    passes: typeof value['passes'] === 'number' ? value['passes'] : 0,
  };
}

/**
 * Creates the scheduled task that discovers unlinked records of one side of a sync flow. Throws InputError
 * (`SCAN_BUDGET_INVALID`) for a budget that cannot be spent (see `scanRequestsPerSecond`).
 */
export function createDiscovery(deps: DiscoveryDependencies): ScheduledTask {
  const pagesPerTick = scanRequestsPerTick(deps.settings);
  return async ({ logger, signal }) => {
    const result = await discoveryTick(deps, pagesPerTick, signal);
    logger.info(
      { flow: deps.flow, entityType: deps.settings.entityType, ...result },
      'discovery: listed records',
    );
  };
}

async function discoveryTick(
  deps: DiscoveryDependencies,
  pagesPerTick: number,
  signal: AbortSignal,
): Promise<{ pages: number; listed: number; queued: number; passEnded: boolean }> {
  const { flow, connector, checkpoints, settings } = deps;
  const name = `discovery|${flow}|${settings.entityType}`;
  let position = parsePosition((await checkpoints.get(name))?.value);
  let pages = 0;
  let listed = 0;
  let queued = 0;
  let passEnded = false;
  // A pass ends the tick: a record is listed at most once per tick.
  while (pages < pagesPerTick && !passEnded && !signal.aborted) {
    const page = await connector.list(
      {
        entityType: settings.entityType,
        ...(position.cursor !== null && { cursor: position.cursor }),
        ...(settings.pageSize !== undefined && { limit: settings.pageSize }),
      },
      { signal },
    );
    pages += 1;
    listed += page.records.length;
    const inputs: JobInput[] = [];
    for (const record of page.records) {
      const ref = { connection: connector.connection, entityType: record.entityType, id: record.id };
      if ((await deps.links.findByRef(flow, ref)) !== null) continue;
      inputs.push(
        syncJobFor(flow, {
          ref,
          kind: 'created',
          version: record.version,
          source: 'discovery',
          seen: `${record.id}@${record.version ?? 'unknown'}`,
        }),
      );
    }
    queued += await enqueueJobs(deps.queue, inputs);
    passEnded = page.nextCursor === null;
    position = passEnded
      ? { cursor: null, passes: position.passes + 1 }
      : { ...position, cursor: page.nextCursor };
    await checkpoints.set(name, { ...position });
  }
  return { pages, listed, queued, passEnded };
}
