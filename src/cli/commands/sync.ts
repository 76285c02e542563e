/**
 * `crmsync sync status|plan|conflicts|links`: the operator's view of a sync flow (docs/sync-flow.md, "CLI").
 * `status` counts links and conflicts and says how long a re-check rotation takes; `plan` shows what a run of
 * one record would write, writing nothing. Conflicts and links live in sync-conflicts.ts and sync-links.ts.
 */
import type { Command } from 'commander';
import { InputError } from '../../core/errors.ts';
import {
  changeDetectionFor,
  compileSyncFlow,
  planSync,
  recheckStatus,
} from '../../engine/flows/sync/index.ts';
import type { SyncOptions } from '../../engine/flows/sync/index.ts';
import { resolutionsOf } from '../../engine/flows/sync/conflicts.ts';
import type { Config } from '../../config/index.ts';
import type { Backend } from '../../ports/backend.ts';
import type { Connector } from '../../ports/connector.ts';
import { configuredRate } from '../app.ts';
import type { GlobalOptions } from '../context.ts';
import { printJson } from '../output.ts';
import { DEFAULT_REQUESTS_PER_SECOND, everySeconds } from '../sync-flow.ts';
import { registerSyncBackfillCommand } from './sync-backfill.ts';
import { registerSyncConflictsCommands } from './sync-conflicts.ts';
import { parseRef, showRef, sideOfRef, withSyncConnectors } from './sync-context.ts';
import type { SyncFlow } from './sync-context.ts';
import { registerSyncLinksCommands } from './sync-links.ts';
import { planView, printPlan } from './sync-plan.ts';

/** How one side's changes are found, and for a re-checked side how its rotation stands. */
interface SideStatus {
  readonly side: 'a' | 'b';
  readonly connection: string;
  readonly entityType: string;
  readonly detection: 'reconcile' | 'recheck';
  /** For a re-checked side: null when the re-check is disabled. */
  readonly recheck?: Awaited<ReturnType<typeof recheckStatus>> | null;
}

async function sideStatus(
  config: Config,
  backend: Backend,
  { flow, options }: SyncFlow,
  side: 'a' | 'b',
  connector: Connector,
): Promise<SideStatus> {
  const { connection, entityType } = options[side];
  const detection = changeDetectionFor(connector.capabilities);
  if (detection === 'reconcile') return { side, connection, entityType, detection };
  const { recheck } = options.detection;
  if (!recheck.enabled) return { side, connection, entityType, detection, recheck: null };
  // The same budget the scheduled re-check runs with (src/cli/sync-flow.ts).
  const status = await recheckStatus(backend.store.checkpoints, flow.name, {
    side,
    requestsPerSecond: configuredRate(config, connection) ?? DEFAULT_REQUESTS_PER_SECOND,
    budgetShare: recheck.budgetShare,
    intervalSeconds: everySeconds(recheck.everySeconds).seconds,
  });
  return { side, connection, entityType, detection, recheck: status };
}

function printStatus(
  name: string,
  links: Record<string, number>,
  conflicts: Record<string, number>,
  sides: readonly SideStatus[],
): void {
  const counts = (record: Record<string, number>) =>
    Object.entries(record)
      .map(([status, count]) => `${count} ${status}`)
      .join(', ');
  process.stdout.write(`Flow ${name}\n`);
  process.stdout.write(`  links:     ${counts(links)}\n`);
  process.stdout.write(`  conflicts: ${counts(conflicts)}\n`);
  for (const side of sides) {
    const where = `  side ${side.side} (${side.connection}/${side.entityType}):`;
    if (side.detection === 'reconcile') {
      process.stdout.write(`${where} reconciled by modification time\n`);
    } else if (side.recheck === null || side.recheck === undefined) {
      process.stdout.write(`${where} re-check disabled (detection.recheck.enabled: false)\n`);
    } else {
      const { readsPerSecond, linksPerRotation, rotationSeconds, rotations } = side.recheck;
      process.stdout.write(
        `${where} re-checked by version token, ${readsPerSecond} reads/s, ${linksPerRotation} links per rotation` +
          `${rotations === 0 ? ' (first rotation still running: at least)' : ''}; ` +
          `a full rotation takes ${Math.ceil(rotationSeconds)} s at the configured budget\n`,
      );
    }
  }
}

/** The side of `ref` in the flow, or an InputError naming the flow's two sides. */
function requireSide(options: SyncOptions, name: string, ref: ReturnType<typeof parseRef>): 'a' | 'b' {
  const side = sideOfRef(options, ref);
  if (side !== null) return side;
  throw new InputError(
    'CLI_RECORD_NOT_IN_FLOW',
    `${showRef(ref)} is on neither side of flow "${name}": side a is ${options.a.connection}/${options.a.entityType}, side b ${options.b.connection}/${options.b.entityType}.`,
  );
}

/** Registers the `sync` command group. */
export function registerSyncCommands(program: Command, globals: () => GlobalOptions): void {
  const sync = program
    .command('sync')
    .description('inspect and backfill sync flows: status, plans, backfills, conflicts and links');

  sync
    .command('status <flow>')
    .description('links and conflicts by status, and how long a re-check rotation takes')
    .option('--json', 'print JSON')
    .action(async (name: string, options: { json?: boolean }) => {
      await withSyncConnectors(globals(), name, async ({ config, backend, sync: flow, connectors }) => {
        const links = await backend.store.links.countByStatus(name);
        const conflicts = await backend.store.conflicts.count(name);
        const sides = [
          await sideStatus(config, backend, flow, 'a', connectors.a),
          await sideStatus(config, backend, flow, 'b', connectors.b),
        ];
        if (options.json) return printJson({ flow: name, links, conflicts, sides });
        printStatus(name, links, conflicts, sides);
      });
    });

  sync
    .command('plan <flow> <ref>')
    .description('read both sides of a record and show what a sync run would write (writes nothing)')
    .option('--json', 'print JSON')
    .action(async (name: string, value: string, options: { json?: boolean }) => {
      const ref = parseRef(value, '<ref>');
      await withSyncConnectors(globals(), name, async ({ backend, sync: flow, connectors }) => {
        const side = requireSide(flow.options, name, ref);
        const link = await backend.store.links.findByRef(name, ref);
        const linkConflicts = async (status: 'open' | 'resolved') =>
          link === null ? [] : backend.store.conflicts.list({ linkId: link.id, status, limit: 10_000 });
        const resolutions = resolutionsOf({ open: [], resolved: await linkConflicts('resolved') });
        const plan = await planSync(
          { options: flow.options, compiled: compileSyncFlow(flow.options), connectors },
          side,
          ref,
          link,
          { resolutions },
        );
        const view = planView(plan);
        if (options.json) return printJson(view);
        printPlan(view);
      });
    });

  registerSyncBackfillCommand(sync, globals);
  registerSyncConflictsCommands(sync, globals);
  registerSyncLinksCommands(sync, globals);
}
