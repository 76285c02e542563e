/**
 * `crmsync sync backfill <flow> [--dry-run] [--limit N] [--page-size N] [--json]`: links and syncs every
 * existing record of a sync flow (docs/sync-flow.md, "Backfill"; the orchestration is
 * src/engine/flows/sync/backfill.ts). The real backfill queues one sync job per record and runs them with an
 * in-process worker pool built from the flow's own handler, restricted to this flow's jobs; `--dry-run`
 * plans every record instead and writes nothing. Progress goes to stderr (a bar on a terminal, a line per
 * page elsewhere), the summary to stdout.
 */
import { hostname } from 'node:os';
import type { Command } from 'commander';
import { pino } from 'pino';
import { configFolder } from '../../config/index.ts';
import { compileSyncFlow } from '../../engine/flows/sync/index.ts';
import {
  BACKFILL_OUTCOMES,
  createPlanExecutor,
  createQueueExecutor,
  runBackfill,
} from '../../engine/flows/sync/backfill.ts';
import type {
  BackfillExecutor,
  BackfillProgress,
  BackfillResult,
  PlannedRecord,
} from '../../engine/flows/sync/backfill.ts';
import { HandlerRegistry } from '../../engine/handlers.ts';
import { WorkerPool } from '../../engine/worker-pool.ts';
import { systemClock } from '../../ports/clock.ts';
import type { Connector } from '../../ports/connector.ts';
import type { GlobalOptions } from '../context.ts';
import { printJson } from '../output.ts';
import { createSyncFlowHandler } from '../sync-flow.ts';
import { integerOption } from './superoffice-context.ts';
import { showValue, withSyncConnectors } from './sync-context.ts';

/** The options of the command. */
interface BackfillCliOptions {
  readonly dryRun?: boolean;
  readonly limit?: number;
  readonly pageSize?: number;
  readonly json?: boolean;
}

/** Where progress is drawn: stderr, a terminal or not. */
export interface ProgressStream {
  readonly isTTY?: boolean;
  write(text: string): boolean;
}

const BAR_WIDTH = 30;

/**
 * The progress line of a page: records done (of `total` when known: the `--limit`), records per second and,
 * with a total, the time left at that rate.
 */
export function progressLine(progress: BackfillProgress, total: number | undefined): string {
  const seconds = progress.elapsedMs / 1000;
  const rate = seconds > 0 ? progress.records / seconds : 0;
  const done = total === undefined ? `${progress.records} records` : `${progress.records}/${total} records`;
  const bar =
    total === undefined
      ? ''
      : `[${'#'.repeat(Math.round(Math.min(1, progress.records / Math.max(total, 1)) * BAR_WIDTH)).padEnd(BAR_WIDTH, '.')}] `;
  const eta =
    total !== undefined && rate > 0
      ? `, ETA ${Math.ceil(Math.max(0, total - progress.records) / rate)} s`
      : '';
  return `${bar}side ${progress.side}, page ${progress.pages}: ${done}, ${rate.toFixed(1)} records/s${eta}`;
}

/** Reports each page: redrawn in place on a terminal, one line per page elsewhere (logs, CI). */
function progressReporter(stream: ProgressStream, total: number | undefined) {
  let drawn = false;
  return {
    page(progress: BackfillProgress) {
      const line = progressLine(progress, total);
      if (stream.isTTY === true) {
        stream.write(`\r\x1b[2K${line}`);
        drawn = true;
      } else stream.write(`${line}\n`);
    },
    finish() {
      if (drawn) stream.write('\n');
    },
  };
}

function printSummary(result: BackfillResult, dryRun: boolean, planned: readonly PlannedRecord[]): void {
  const out = (text: string) => process.stdout.write(`${text}\n`);
  if (dryRun)
    for (const entry of planned) {
      if (entry.outcome === 'unchanged') continue;
      out(
        `${entry.outcome.padEnd(9)} ${entry.ref}${entry.partner === undefined ? '' : ` <-> ${entry.partner}`}`,
      );
      if (entry.create !== undefined)
        out(
          `    create on side ${entry.create.side}: ${Object.entries(entry.create.fields)
            .map(([field, value]) => `${field}=${showValue(value)}`)
            .join(', ')}`,
        );
      for (const [side, fields] of Object.entries(entry.writes ?? {}))
        out(
          `    write side ${side}: ${Object.entries(fields)
            .map(([field, value]) => `${field}=${showValue(value)}`)
            .join(', ')}`,
        );
      for (const conflict of entry.conflicts ?? [])
        out(
          `    conflict ${conflict.field}: a ${showValue(conflict.a)}, b ${showValue(conflict.b)} -> ${conflict.outcome}`,
        );
      if (entry.error !== undefined) out(`    failed: ${entry.error}`);
    }
  const counts = BACKFILL_OUTCOMES.map((outcome) => `${result.counts[outcome]} ${outcome}`).join(', ');
  out(
    `${dryRun ? 'Dry run' : 'Backfill'} ${result.finished ? 'finished' : 'stopped (run again to resume)'}: ` +
      `${result.records} records${dryRun ? ' planned' : ''}: ${counts}.`,
  );
  if (dryRun) out('Nothing was written.');
  else if (result.counts.failed > 0)
    out('Failed records are retried by the queue; see `crmsync jobs list` and `crmsync runs list`.');
}

/** Registers `sync backfill` on the `sync` command group. */
export function registerSyncBackfillCommand(sync: Command, globals: () => GlobalOptions): void {
  sync
    .command('backfill <flow>')
    .description('link and sync every existing record of a sync flow, page by page, resumable')
    .option('--dry-run', 'plan every record and print the plan; writes nothing')
    .option(
      '--limit <n>',
      'stop after this many records (run again to go on)',
      integerOption('--limit', 1, 10_000_000),
    )
    .option(
      '--page-size <n>',
      'records per page (default: the connector’s)',
      integerOption('--page-size', 1, 1_000),
    )
    .option('--json', 'print the summary as JSON')
    .action(async (name: string, options: BackfillCliOptions) => {
      await withSyncConnectors(globals(), name, async ({ config, backend, sync: flow, connectors }) => {
        const dryRun = options.dryRun === true;
        const controller = new AbortController();
        const abort = () => controller.abort();
        process.once('SIGINT', abort);
        process.once('SIGTERM', abort);
        let pool: WorkerPool | undefined;
        const closers: (() => Promise<void>)[] = [];
        try {
          let executor: BackfillExecutor;
          let planned: readonly PlannedRecord[] = [];
          if (dryRun) {
            const planner = createPlanExecutor(
              { options: flow.options, compiled: compileSyncFlow(flow.options), connectors },
              backend.store.conflicts,
            );
            planned = planner.planned;
            executor = planner;
          } else {
            const logger = pino({ level: 'silent' });
            const handlers = new HandlerRegistry();
            handlers.register(
              name,
              createSyncFlowHandler(flow.flow, {
                connectors: new Map<string, Connector>([
                  [flow.options.a.connection, connectors.a],
                  [flow.options.b.connection, connectors.b],
                ]),
                backend,
                clock: systemClock,
                logger,
                configDir: configFolder(config),
                onStop: (close) => closers.push(close),
                // The flow's scans are the server's; a backfill runs the flow's jobs only.
                schedule: () => {},
                requestsPerSecond: () => undefined,
              }),
            );
            pool = new WorkerPool({
              queue: backend.queue,
              attempts: backend.attempts,
              store: backend.store,
              handlers,
              clock: systemClock,
              logger,
              concurrency: config.worker.concurrency,
              leaseMs: config.queue.leaseMs,
              pollMs: config.worker.pollMs,
              workerIdPrefix: `${hostname()}:${process.pid}:backfill`,
              // Other flows' jobs stay queued for the server, whose registry knows their handlers.
              flows: [name],
            });
            pool.start();
            const started = pool;
            executor = createQueueExecutor({
              flow: name,
              queue: backend.queue,
              runs: backend.store.runs,
              links: backend.store.links,
              clock: systemClock,
              wake: () => started.wake(),
            });
          }
          const progress = progressReporter(process.stderr, options.limit);
          const result = await runBackfill({
            flow: name,
            sides: {
              a: { connector: connectors.a, entityType: flow.options.a.entityType },
              b: { connector: connectors.b, entityType: flow.options.b.entityType },
            },
            links: backend.store.links,
            checkpoints: backend.store.checkpoints,
            executor,
            clock: systemClock,
            settings: {
              persist: !dryRun,
              ...(options.limit !== undefined && { limit: options.limit }),
              ...(options.pageSize !== undefined && { pageSize: options.pageSize }),
            },
            onPage: (page) => progress.page(page),
            signal: controller.signal,
          });
          progress.finish();
          if (options.json) printJson({ flow: name, dryRun, ...result, ...(dryRun && { planned }) });
          else printSummary(result, dryRun, planned);
          if (result.counts.failed > 0) process.exitCode = 1;
        } finally {
          process.off('SIGINT', abort);
          process.off('SIGTERM', abort);
          await pool?.stop({ deadlineMs: config.worker.shutdownTimeoutMs });
          for (const close of closers) await close();
        }
      });
    });
}
