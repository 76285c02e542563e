/**
 * Builds a `sync` flow from its config: both sides' connectors, the compiled mapping, the run handler, and
 * the scans each side's connector capabilities call for (docs/sync-flow.md, "Change detection"):
 *
 * - a side that lists by modification time (EspoCRM) gets the reconciler on its cron;
 * - a side without change times (Advoware) gets the re-check of linked records and the discovery of new ones,
 *   each within its share of the connection's request budget;
 * - the soft-delete sweep applies deletions whose grace period ended.
 *
 * The composition lives here (the CLI knows every concrete piece); the flow itself only sees ports.
 */
import { ConfigError } from '../core/errors.ts';
import type { FlowConfig } from '../config/index.ts';
import type { FlowHandler } from '../engine/flows/sync/index.ts';
import {
  changeDetectionFor,
  compileSyncFlow,
  createDeletionSweep,
  createDiscovery,
  createRecheck,
  createSyncReconciler,
  createSyncRunHandler,
  mappedFingerprint,
} from '../engine/flows/sync/index.ts';
import type { CompiledSyncFlow, SyncOptions } from '../engine/flows/sync/index.ts';
import type { Connector } from '../ports/connector.ts';
import type { ScheduledTask } from '../engine/scheduler.ts';
import type { ScanBudget } from '../engine/flows/sync/change-detection.ts';
import type { FlowDependencies } from './flow-type.ts';

/** The request rate scans assume for a connection that does not configure `requestsPerSecond`. */
export const DEFAULT_REQUESTS_PER_SECOND = 5;

/** The handler of the sync flow `flow`. Throws ConfigError when a side's connection cannot be synced. */
export function createSyncFlowHandler(flow: FlowConfig, deps: FlowDependencies): FlowHandler {
  const options = flow.options as SyncOptions;
  const connectors = {
    a: sideConnector(flow, options, 'a', deps),
    b: sideConnector(flow, options, 'b', deps),
  };
  const compiled = compileSyncFlow(options);
  const { store, locks, queue } = deps.backend;
  for (const side of ['a', 'b'] as const)
    scheduleScans(flow.name, options, compiled, side, connectors[side], deps);
  deps.schedule({
    name: `deletes:${flow.name}`,
    cron: options.deletes.cron,
    task: createDeletionSweep({ flow: flow.name, links: store.links, queue, clock: deps.clock, options }),
  });
  const notifier = options.notify === undefined ? undefined : connectors[options.notify.side];
  return createSyncRunHandler({
    flow: flow.name,
    options,
    compiled,
    connectors,
    store,
    locks,
    ...(notifier !== undefined && {
      notifier: {
        connector: notifier,
        ...(options.notify?.userId !== undefined && { recipient: options.notify.userId }),
      },
    }),
  });
}

function sideConnector(
  flow: FlowConfig,
  options: SyncOptions,
  side: 'a' | 'b',
  deps: FlowDependencies,
): Connector {
  const connection = options[side].connection;
  const problem = (message: string) =>
    new ConfigError(`Flow "${flow.name}": ${message}`, [
      { path: `flows.${flow.name}.${side}.connection`, message },
    ]);
  if (!flow.connections.includes(connection))
    throw problem(`side ${side}'s connection "${connection}" is not in the flow's "connections"`);
  const connector = deps.connectors.get(connection);
  if (connector === undefined) throw problem(`connection "${connection}" is not configured`);
  if (!connector.capabilities.records)
    throw problem(
      `connection "${connection}" is a ${connector.kind} connection, which only receives webhooks; a sync side must read and write records`,
    );
  return connector;
}

/** Adds the scans of one side, by what its connector can list. */
function scheduleScans(
  flow: string,
  options: SyncOptions,
  compiled: CompiledSyncFlow,
  side: 'a' | 'b',
  connector: Connector,
  deps: FlowDependencies,
): void {
  const { store, queue } = deps.backend;
  const { entityType } = options[side];
  const { reconcile, recheck, discovery } = options.detection;
  if (changeDetectionFor(connector.capabilities) === 'reconcile') {
    if (!reconcile.enabled) return;
    const statusField =
      options.status?.side === side && options.status.syncStatus !== undefined
        ? { name: options.status.syncStatus, pending: reconcile.pendingStatuses }
        : undefined;
    deps.schedule({
      name: `reconcile:${flow}:${side}`,
      cron: reconcile.cron,
      task: createSyncReconciler({
        flow,
        connector,
        fingerprint: mappedFingerprint(compiled[side]),
        links: store.links,
        queue,
        checkpoints: store.checkpoints,
        clock: deps.clock,
        settings: {
          entityType,
          lookbackMinutes: reconcile.lookbackMinutes,
          maxPerRun: reconcile.maxPerRun,
          ...(statusField !== undefined && { statusField }),
        },
      }),
    });
    return;
  }
  const requestsPerSecond = deps.requestsPerSecond(connector.connection) ?? DEFAULT_REQUESTS_PER_SECOND;
  const common = { flow, connector, links: store.links, queue, checkpoints: store.checkpoints };
  /** Schedules a budgeted scan every `everySeconds`, sized by the cron step it gets. */
  const budgeted = (
    kind: string,
    scan: { readonly enabled: boolean; readonly everySeconds: number; readonly budgetShare: number },
    create: (budget: ScanBudget) => ScheduledTask,
  ): void => {
    if (!scan.enabled) return;
    const interval = everySeconds(scan.everySeconds);
    deps.schedule({
      name: `${kind}:${flow}:${side}`,
      cron: interval.cron,
      task: create({ requestsPerSecond, budgetShare: scan.budgetShare, intervalSeconds: interval.seconds }),
    });
  };
  budgeted('recheck', recheck, (budget) => createRecheck({ ...common, settings: { side, ...budget } }));
  budgeted('discovery', discovery, (budget) =>
    createDiscovery({ ...common, settings: { entityType, ...budget } }),
  );
}

/** A cron expression and the seconds between its ticks. */
export interface Interval {
  readonly cron: string;
  readonly seconds: number;
}

/**
 * A cron expression that fires about every `seconds` seconds: exactly where the interval divides a minute,
 * an hour or a day, else at the nearest shorter step that does. The scans size their budget per tick by the
 * interval returned, so a shorter step never spends more than the configured share.
 */
export function everySeconds(seconds: number): Interval {
  if (seconds < 60) {
    const step = largestDivisorAtMost(60, seconds);
    return { cron: `*/${step} * * * * *`, seconds: step };
  }
  if (seconds < 3_600) {
    const step = largestDivisorAtMost(60, Math.floor(seconds / 60));
    return { cron: `0 */${step} * * * *`, seconds: step * 60 };
  }
  if (seconds < 86_400) {
    const step = largestDivisorAtMost(24, Math.floor(seconds / 3_600));
    return { cron: `0 0 */${step} * * *`, seconds: step * 3_600 };
  }
  return { cron: '0 0 0 * * *', seconds: 86_400 };
}

function largestDivisorAtMost(whole: number, wanted: number): number {
  for (let step = Math.min(wanted, whole); step > 1; step -= 1) if (whole % step === 0) return step;
  return 1;
}
