/**
 * What the sync flow's scheduled scans share: which scan a side needs, how many requests a scan may spend per
 * tick, and the sync job a scan queues for a record (a synthetic change event, as if a webhook had arrived).
 *
 * A side whose connector lists by modification time (`capabilities.list.modifiedSince` is not `unsupported`)
 * is scanned by the reconciler (`./reconcile.ts`); a side without change times (Advoware) is re-checked link
 * by link (`./recheck.ts`) and its new records found by a full list scan (`./discovery.ts`). Flows decide by
 * these capabilities, never by the connector's vendor.
 */
import { InputError } from '../../../core/errors.ts';
import { jobRecordKey } from '../../../core/types.ts';
import type { ChangeEvent, ChangeKind, JsonObject, RecordRef } from '../../../core/types.ts';
import type { ConnectorCapabilities } from '../../../ports/connector.ts';
import type { JobInput, Queue } from '../../../ports/queue.ts';

/** `reconcile`: the side lists records modified since a time; `recheck`: it has no change times. */
export type ChangeDetection = 'reconcile' | 'recheck';

/** How changes of a side are found, by its connector's capabilities. */
export function changeDetectionFor(capabilities: ConnectorCapabilities): ChangeDetection {
  const { list } = capabilities;
  return list.modifiedSince === 'unsupported' || list.order !== 'modified' ? 'recheck' : 'reconcile';
}

/** The share of a connection's request budget a scan may spend, and how often it runs. */
export interface ScanBudget {
  /** The connection's `requestsPerSecond`. */
  readonly requestsPerSecond: number;
  /** The share of it for this scan, above 0 and at most 1 (0.2: a fifth of the budget). */
  readonly budgetShare: number;
  /** Seconds between two ticks of the scan's schedule. */
  readonly intervalSeconds: number;
}

/**
 * Requests per second a scan may spend: its share of the connection's budget. Throws InputError
 * (`SCAN_BUDGET_INVALID`) for a share outside (0, 1] or a rate or interval that is not positive.
 */
export function scanRequestsPerSecond(budget: ScanBudget): number {
  if (!(budget.budgetShare > 0 && budget.budgetShare <= 1)) {
    throw new InputError(
      'SCAN_BUDGET_INVALID',
      `budgetShare must be above 0 and at most 1, got ${budget.budgetShare}.`,
    );
  }
  if (!(budget.requestsPerSecond > 0) || !(budget.intervalSeconds > 0)) {
    throw new InputError('SCAN_BUDGET_INVALID', 'requestsPerSecond and intervalSeconds must be above 0.');
  }
  return budget.requestsPerSecond * budget.budgetShare;
}

/**
 * Requests one tick may spend: the share per second times the seconds between ticks, at least one (a tiny
 * share still makes progress, one request per tick).
 */
export function scanRequestsPerTick(budget: ScanBudget): number {
  return Math.max(1, Math.floor(scanRequestsPerSecond(budget) * budget.intervalSeconds));
}

/** What a scan found out about one record. */
export interface ScanFinding {
  readonly ref: RecordRef;
  /** `updated`: changed since the link's version; `created`: not linked yet; `deleted`: gone (a hint only). */
  readonly kind: Extract<ChangeKind, 'created' | 'updated' | 'deleted'>;
  /** The record's version token now (absent for a record that is gone). */
  readonly version?: string | null;
  /** The scan that found it; names the synthetic event (`recheck.updated`). */
  readonly source: 'recheck' | 'discovery' | 'reconcile' | 'deletes' | 'backfill';
  /**
   * What makes the finding unique for the queue's dedup, after the source: what the scan saw, e.g.
   * `4711@AAAB`. The same finding queued again (a resumed page) is dropped as a duplicate.
   */
  readonly seen: string;
}

/** The sync job for a finding: a synthetic change event, keyed by the record like a webhook's. */
export function syncJobFor(flow: string, finding: ScanFinding): JobInput {
  const { ref } = finding;
  const event: ChangeEvent = {
    ref,
    kind: finding.kind,
    vendorEvent: `${finding.source}.${finding.kind}`,
    eventId: `${finding.source}:${finding.seen}`,
    ...(finding.version !== undefined && finding.version !== null && { version: finding.version }),
  };
  return {
    flow,
    recordKey: jobRecordKey(flow, ref),
    dedupKey: `${flow}|${ref.connection}|${finding.source}:${finding.seen}`,
    payload: event as unknown as JsonObject,
  };
}

/**
 * Queues the jobs of one page in one commit; returns how many the queue took (a finding queued before, whose
 * dedup key the queue still holds, is dropped and not counted).
 */
export async function enqueueJobs(
  queue: Pick<Queue, 'enqueueMany'>,
  inputs: readonly JobInput[],
): Promise<number> {
  if (inputs.length === 0) return 0;
  const results = await queue.enqueueMany(inputs);
  return results.filter((result) => result.status !== 'duplicate').length;
}
