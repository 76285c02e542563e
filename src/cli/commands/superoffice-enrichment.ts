/**
 * Enrichment checks of a SuperOffice connection: `verify` (did the last COMPLETED run's values land?) and
 * `latest` (the youngest company the enrich flow would process, with its enrichment fields). Both read the
 * settings of the enrich flow that uses the connection (see findEnrichFlow).
 */
import type { Command } from 'commander';
import { describeOwnerFilter, findLatestAccount } from '../../connectors/superoffice/tools-latest.ts';
import type { AgeBy, LatestAccount } from '../../connectors/superoffice/tools-latest.ts';
import { verifyEnrichment } from '../../connectors/superoffice/tools-verify.ts';
import type { VerifyResult } from '../../connectors/superoffice/tools-verify.ts';
import { InputError } from '../../core/errors.ts';
import type { GlobalOptions } from '../context.ts';
import { formatTime, printJson, printTable } from '../output.ts';
import { findEnrichFlow, integerOption, parseRecordId, withSuperOffice } from './superoffice-context.ts';

/** Longest value shown in a table cell; --json has the whole value. */
const CELL_WIDTH = 48;

function clip(value: string | null): string | null {
  if (value === null) return null;
  const oneLine = value.replace(/\s+/g, ' ');
  return oneLine.length > CELL_WIDTH ? `${oneLine.slice(0, CELL_WIDTH - 1)}…` : oneLine;
}

const VERDICT_TEXT = {
  landed: 'landed',
  missing: 'MISSING',
  'not-written': 'not written',
  unreadable: 'UNREADABLE',
} as const;

function printVerify(result: VerifyResult): void {
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  const run =
    result.run === null
      ? `no COMPLETED run of flow ${result.flow}`
      : `flow ${result.flow}, last COMPLETED run ${result.run.id} at ${formatTime(result.run.finishedAt) ?? '?'} UTC`;
  out(`Contact ${result.contact.id} "${result.contact.name}": ${run}`);
  printTable(
    ['RECORD', 'FIELD', 'ROLE', 'EXPECTED', 'CURRENT', 'VERDICT'],
    result.checks.map((check) => [
      `${check.ref.entityType}/${check.ref.id}`,
      check.field,
      check.role,
      clip(check.expected),
      clip(check.current),
      VERDICT_TEXT[check.verdict],
    ]),
  );
  for (const check of result.checks) {
    if (check.detail !== null)
      out(`  ${check.ref.entityType}/${check.ref.id} ${check.field}: ${check.detail}`);
  }
  const written = result.checks.filter((check) => check.expected !== null);
  const landed = written.filter((check) => check.verdict === 'landed');
  if (result.run === null)
    out('Verdict: NOT VERIFIED: no COMPLETED enrichment run of this company is recorded.');
  else if (written.length === 0)
    out('Verdict: NOTHING TO CHECK: the last COMPLETED run wrote no values (they were already in place).');
  else if (result.ok) out(`Verdict: LANDED: all ${written.length} written values are there.`);
  else
    out(
      `Verdict: NOT LANDED: ${written.length - landed.length} of ${written.length} written values are not there.`,
    );
}

function printLatest(account: LatestAccount, owners: string): void {
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  out(`Contact ${account.contactId} "${account.name}"`);
  out(`  created ${account.createdDate}, updated ${account.updatedDate}`);
  out(`  owner ${account.owner.associateId ?? '?'} ${account.owner.name} (owner filter: ${owners})`);
  for (const field of account.fields) {
    const value = field.error ?? (field.value === '' ? '(empty)' : field.value);
    out(`  ${field.role} ${field.progId}: ${value}`);
  }
}

function parseAgeBy(value: string): AgeBy {
  if (value !== 'created' && value !== 'updated')
    throw new InputError('CLI_BAD_OPTION', `--by: expected "created" or "updated", got "${value}".`);
  return value;
}

/** Registers `verify` and `latest` on the `superoffice` group. */
export function registerEnrichmentCommands(superoffice: Command, globals: () => GlobalOptions): void {
  superoffice
    .command('verify <connection> <contactId>')
    .description(
      "did the enrichment land? the company's fields against the last COMPLETED run of the enrich flow",
    )
    .option('--flow <name>', 'the enrich flow (needed when several use the connection)')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExits 1 when a value the run wrote is not there, or when no COMPLETED run is recorded.',
    )
    .action(async (connection: string, contactIdText: string, options: { flow?: string; json?: boolean }) => {
      const contactId = parseRecordId('contactId', contactIdText);
      await withSuperOffice(globals(), connection, async ({ api, backend, config }) => {
        const flow = findEnrichFlow(config, connection, options.flow);
        const result = await verifyEnrichment(api, backend.store.runs, {
          flow: flow.name,
          connection,
          contactId,
          fields: flow.fields,
        });
        if (options.json) printJson(result);
        else printVerify(result);
        if (!result.ok) process.exitCode = 1;
      });
    });

  superoffice
    .command('latest <connection>')
    .description(
      "the youngest company that passes the enrich flow's owner filter, with its enrichment fields",
    )
    .option('--flow <name>', 'the enrich flow (needed when several use the connection)')
    .option('--by <date>', 'created or updated', parseAgeBy, 'created' as AgeBy)
    .option('--scan <n>', 'newest contacts to look through', integerOption('--scan', 1, 100_000), 1000)
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExits 1 when none of the scanned contacts passes the owner filter.')
    .action(
      async (connection: string, options: { flow?: string; by: AgeBy; scan: number; json?: boolean }) => {
        await withSuperOffice(globals(), connection, async ({ api, config }) => {
          const flow = findEnrichFlow(config, connection, options.flow);
          const result = await findLatestAccount(api, {
            owners: flow.owners,
            fields: flow.fields,
            by: options.by,
            scanLimit: options.scan,
          });
          const owners = describeOwnerFilter(flow.owners);
          if (options.json) printJson({ flow: flow.name, ownerFilter: flow.owners ?? null, ...result });
          else if (result.account !== null) printLatest(result.account, owners);
          else
            process.stdout.write(
              `None of the ${result.scanned} newest contacts (by ${options.by} date) is owned by ${owners}.\n`,
            );
          if (result.account === null) process.exitCode = 1;
        });
      },
    );
}
