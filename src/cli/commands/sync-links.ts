/**
 * `crmsync sync links show <ref>`: everything crmsync knows about one linked pair: both refs, status, retries,
 * last error, the deletion mark, base snapshots and version tokens per side, open conflicts, and the run
 * history of both records with each run's field changes, so "why does Advoware still show the old name?" is
 * answered without reading logs.
 */
import type { Command } from 'commander';
import { NotFoundError } from '../../core/errors.ts';
import type { RecordRef } from '../../core/types.ts';
import type { Backend } from '../../ports/backend.ts';
import type { ConflictRecord, Link, Run } from '../../ports/store.ts';
import { withBackend } from '../context.ts';
import type { GlobalOptions } from '../context.ts';
import { formatTime, printJson } from '../output.ts';
import { printConflicts } from './sync-conflicts.ts';
import { parseRef, requireSyncFlow, showRef, showValue, syncFlows } from './sync-context.ts';

/** Most runs shown per record. */
const RUNS_PER_REF = 50;

/** One link with what `show` prints about it. */
interface LinkDetails {
  readonly link: Link;
  readonly openConflicts: readonly ConflictRecord[];
  /** Runs of both records, newest first. */
  readonly runs: readonly Run[];
}

async function details(backend: Backend, link: Link): Promise<LinkDetails> {
  const { store } = backend;
  const openConflicts = await store.conflicts.list({ linkId: link.id, status: 'open', limit: 10_000 });
  const runsOf = (ref: RecordRef) => store.runs.list({ ref, flow: link.flow, limit: RUNS_PER_REF });
  const runs = [...(await runsOf(link.a.ref)), ...(await runsOf(link.b.ref))].sort(
    (x, y) => y.startedAt - x.startedAt || y.id.localeCompare(x.id, 'en', { numeric: true }),
  );
  return { link, openConflicts, runs };
}

function printDetails({ link, openConflicts, runs }: LinkDetails): void {
  const line = (text: string) => process.stdout.write(`${text}\n`);
  line(`Link ${link.id} of flow ${link.flow}: ${link.status}`);
  line(`  retries: ${link.retryCount}   last synced: ${formatTime(link.lastSyncedAt) ?? 'never'}`);
  if (link.lastError !== null) line(`  last error: ${link.lastError}`);
  if (link.deletion !== null) {
    const { side, detectedAt, applied, appliedAt } = link.deletion;
    line(
      `  deletion: side ${side}'s record gone since ${formatTime(detectedAt)}; ` +
        (applied === null ? 'waiting for the grace period' : `${applied} at ${formatTime(appliedAt)}`),
    );
  }
  for (const side of ['a', 'b'] as const) {
    const { ref, version, base } = link[side];
    line(`  side ${side}: ${showRef(ref)}   version ${version ?? '-'}`);
    if (base === null) line('    base: none (never synced)');
    else for (const [field, value] of Object.entries(base)) line(`    base ${field}: ${showValue(value)}`);
  }
  line(`\nOpen conflicts (${openConflicts.length}):`);
  if (openConflicts.length > 0) printConflicts(openConflicts);
  line(`\nRuns (${runs.length}):`);
  for (const run of runs) {
    const why = run.error === null ? (run.reason ?? '') : `${run.error.code}: ${run.error.message}`;
    line(
      `  ${formatTime(run.startedAt)}  run ${run.id}  ${showRef(run.ref)}  ${run.outcome ?? 'RUNNING'}${why === '' ? '' : `  ${why}`}`,
    );
    // A run that did not finish shows what it set out to write: that may have reached the vendor.
    const unfinished = run.outcome === null || (run.outcome === 'FAILED' && run.changes.length === 0);
    const changes = unfinished && run.intendedChanges.length > 0 ? run.intendedChanges : run.changes;
    const label = changes === run.changes ? '' : ' (attempted)';
    for (const change of changes)
      line(
        `      ${showRef(change.ref)} ${change.field}: ${showValue(change.before)} -> ${showValue(change.after)}${label}`,
      );
  }
}

/** Registers `sync links show` under the `sync` group. */
export function registerSyncLinksCommands(sync: Command, globals: () => GlobalOptions): void {
  const links = sync.command('links').description('inspect the links between the records of sync flows');

  links
    .command('show <ref>')
    .description(
      'one link of a record (connection/EntityType/id): both sides, base snapshots, conflicts, runs',
    )
    .option('--flow <flow>', 'only this sync flow (default: every sync flow)')
    .option('--json', 'print JSON')
    .action(async (value: string, options: { flow?: string; json?: boolean }) => {
      const ref = parseRef(value, '<ref>');
      await withBackend(globals(), async ({ config, backend }) => {
        const flows =
          options.flow === undefined
            ? syncFlows(config).map(({ flow }) => flow.name)
            : [requireSyncFlow(config, options.flow).flow.name];
        const found: LinkDetails[] = [];
        for (const flow of flows) {
          const link = await backend.store.links.findByRef(flow, ref);
          if (link !== null) found.push(await details(backend, link));
        }
        if (found.length === 0)
          throw new NotFoundError(
            'LINK_NOT_FOUND',
            `${showRef(ref)} is not linked in ${flows.length === 0 ? 'any flow (no sync flow is configured)' : `flow ${flows.join(', ')}`}. ` +
              'Check the ref (connection/EntityType/id as in the config), or plan its first sync with: crmsync sync plan <flow> <ref>',
          );
        if (options.json) return printJson(found);
        found.forEach((entry, index) => {
          if (index > 0) process.stdout.write('\n');
          printDetails(entry);
        });
      });
    });
}
