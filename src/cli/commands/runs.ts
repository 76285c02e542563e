/**
 * `crmsync runs list`: the run history, newest first (by start time): what happened to which record (by name, not "Entity
 * C123"), with outcome, reason, fields written and API calls. The operator's answer to "why was Bremer
 * Abenteuerland not enriched?" without reading logs.
 */
import type { Command } from 'commander';
import { InputError } from '../../core/errors.ts';
import { parseRecordKey } from '../../core/types.ts';
import type { RunOutcome } from '../../core/types.ts';
import type { Run, RunQuery } from '../../ports/store.ts';
import { clusterRuns } from '../../engine/run-clusters.ts';
import type { RunCluster } from '../../engine/run-clusters.ts';
import { withBackend } from '../context.ts';
import type { GlobalOptions } from '../context.ts';
import { formatTime, printJson, printTable } from '../output.ts';
import { parseLimit } from './jobs.ts';

const OUTCOMES: readonly RunOutcome[] = ['COMPLETED', 'SKIPPED', 'FAILED', 'CONFLICT'];
const DURATION_UNITS: Readonly<Record<string, number>> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

function parseOutcomes(value: string | undefined): RunOutcome[] | undefined {
  if (value === undefined) return undefined;
  const outcomes = value.split(',').map((outcome) => outcome.trim().toUpperCase());
  const unknown = outcomes.filter((outcome) => !(OUTCOMES as readonly string[]).includes(outcome));
  if (unknown.length > 0)
    throw new InputError(
      'CLI_BAD_OUTCOME',
      `--outcome: unknown outcome ${unknown.join(', ')}; use ${OUTCOMES.join(', ')}`,
    );
  return outcomes as RunOutcome[];
}

/** `30m`, `6h` or `2d` before now, as epoch ms. */
function parseSince(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d+)([mhd])$/.exec(value.trim());
  if (match === null)
    throw new InputError(
      'CLI_BAD_SINCE',
      `--since: expected a duration such as 30m, 6h or 2d, got "${value}"`,
    );
  return now - Number(match[1]) * DURATION_UNITS[match[2]!]!;
}

function parseRecord(value: string | undefined): RunQuery['ref'] {
  if (value === undefined) return undefined;
  const ref = parseRecordKey(value);
  if (ref === null)
    throw new InputError(
      'CLI_BAD_RECORD',
      `--record: expected connection/EntityType/id, e.g. superoffice/Contact/42, got "${value}"`,
    );
  return ref;
}

function runRow(run: Run): unknown[] {
  return [
    run.id,
    formatTime(run.startedAt),
    run.flow,
    `${run.ref.connection}/${run.ref.entityType}/${run.ref.id}`,
    run.displayName,
    run.ownerName,
    run.outcome ?? 'RUNNING',
    run.error === null ? run.reason : `${run.error.code}: ${run.error.message}`,
    wroteCell(run),
    run.apiCalls,
  ];
}

/** Fields written; for a run that did not finish its work, the writes it had set out to make. */
function wroteCell(run: Run): number | string {
  const unfinished = run.outcome === null || run.outcome === 'FAILED';
  if (unfinished && run.changes.length === 0 && run.intendedChanges.length > 0) {
    return `${run.intendedChanges.length} attempted`;
  }
  return run.changes.length;
}

function clusterRow(cluster: RunCluster): unknown[] {
  const counts = Object.entries(cluster.counts)
    .map(([outcome, count]) => `${count} ${outcome}`)
    .join(', ');
  return [
    formatTime(cluster.firstStartedAt),
    formatTime(cluster.lastStartedAt),
    cluster.flow,
    `${cluster.ref.connection}/${cluster.ref.entityType}/${cluster.ref.id}`,
    cluster.displayName,
    cluster.ownerName,
    cluster.status ?? 'RUNNING',
    counts,
    cluster.reason,
  ];
}

function printRuns(list: readonly Run[], clusters: boolean, json: boolean): void {
  if (clusters) {
    const grouped = clusterRuns(list);
    if (json) return printJson(grouped.map(({ runs: _runs, ...cluster }) => cluster));
    if (grouped.length === 0) return void process.stdout.write('No runs match.\n');
    return printTable(
      ['FIRST', 'LAST', 'FLOW', 'RECORD', 'NAME', 'OWNER', 'STATUS', 'RUNS', 'REASON'],
      grouped.map(clusterRow),
    );
  }
  if (json) return printJson(list);
  if (list.length === 0) return void process.stdout.write('No runs match.\n');
  printTable(
    ['ID', 'STARTED', 'FLOW', 'RECORD', 'NAME', 'OWNER', 'OUTCOME', 'REASON', 'WROTE', 'API CALLS'],
    list.map(runRow),
  );
}

/** Registers `crmsync runs list`. */
export function registerRunsCommands(program: Command, globals: () => GlobalOptions): void {
  const runs = program.command('runs').description('the run history: what happened to which record');
  runs
    .command('list')
    .description('list runs, newest first')
    .option('--flow <flow>', 'only runs of this flow')
    .option('--outcome <outcomes>', `comma-separated outcomes (${OUTCOMES.join(', ')})`)
    .option('--record <ref>', 'only runs of this record: connection/EntityType/id')
    .option('--since <duration>', 'only runs started within this duration, e.g. 30m, 6h, 2d')
    .option('--limit <n>', 'most runs to show', '50')
    .option('--before <id>', 'only runs listed after the run with this id (paging)')
    .option(
      '--clusters',
      'one row per record and 15 minutes of its runs; a success outshines the echoes skipped after it',
    )
    .option('--json', 'print JSON')
    .action(
      async (options: {
        flow?: string;
        outcome?: string;
        record?: string;
        since?: string;
        limit: string;
        before?: string;
        clusters?: boolean;
        json?: boolean;
      }) => {
        const query: RunQuery = {
          limit: parseLimit(options.limit),
          ...(options.flow !== undefined && { flow: options.flow }),
          ...(options.outcome !== undefined && { outcomes: parseOutcomes(options.outcome) }),
          ...(options.record !== undefined && { ref: parseRecord(options.record) }),
          ...(options.since !== undefined && { since: parseSince(options.since, Date.now()) }),
          ...(options.before !== undefined && { beforeId: options.before }),
        };
        await withBackend(globals(), async ({ backend }) => {
          printRuns(await backend.store.runs.list(query), options.clusters === true, options.json === true);
        });
      },
    );
}
