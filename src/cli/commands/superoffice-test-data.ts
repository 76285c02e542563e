/**
 * Test data in a SuperOffice tenant: `create-test-company` (a marked company that triggers the webhook flow)
 * and `cleanup` (deletes exactly those companies; see tools-test-data.ts for the two conditions).
 */
import type { Command } from 'commander';
import {
  DEFAULT_TEST_COMPANY_NAME,
  TEST_DATA_MARKER,
  cleanupTestCompanies,
  createTestCompany,
} from '../../connectors/superoffice/tools-test-data.ts';
import type { CleanupResult } from '../../connectors/superoffice/tools-test-data.ts';
import type { GlobalOptions } from '../context.ts';
import { printJson } from '../output.ts';
import { integerOption, withSuperOffice } from './superoffice-context.ts';

function printCleanup(result: CleanupResult, connection: string): void {
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  const total = result.deleted.length + result.kept.length + result.alreadyGone.length;
  if (total === 0) return out(`No test companies are recorded for connection "${connection}".`);
  const verb = result.dryRun ? 'would delete' : 'deleted';
  for (const company of result.deleted) out(`${verb} Contact ${company.id} "${company.name}"`);
  for (const company of result.kept) {
    out(
      `kept Contact ${company.id} "${company.name}": its Department is "${company.department}", not "${TEST_DATA_MARKER}"` +
        (result.dryRun ? '' : '; no longer tracked'),
    );
  }
  for (const id of result.alreadyGone)
    out(`Contact ${id} no longer exists${result.dryRun ? '' : '; no longer tracked'}`);
  out(
    `${result.dryRun ? 'Dry run: ' : ''}${result.deleted.length} ${verb}, ${result.kept.length} kept, ${result.alreadyGone.length} already gone.`,
  );
}

/** Registers `create-test-company` and `cleanup` on the `superoffice` group. */
export function registerTestDataCommands(superoffice: Command, globals: () => GlobalOptions): void {
  superoffice
    .command('create-test-company <connection> [name]')
    .description(
      `create a test company (default "${DEFAULT_TEST_COMPANY_NAME}") marked with Department "${TEST_DATA_MARKER}"; prints its id`,
    )
    .option(
      '--owner <associateId>',
      'owner (default: the API user)',
      integerOption('--owner', 1, 2 ** 31 - 1),
    )
    .option('--json', 'print JSON')
    .action(
      async (connection: string, name: string | undefined, options: { owner?: number; json?: boolean }) => {
        await withSuperOffice(globals(), connection, async ({ api, backend }) => {
          const company = await createTestCompany(
            api,
            { state: backend.store.connectorState, connection },
            { name: name ?? DEFAULT_TEST_COMPANY_NAME, ownerAssociateId: options.owner },
          );
          if (options.json) return printJson(company);
          process.stdout.write(`${company.id}\n`);
          process.stderr.write(
            `created test company Contact ${company.id} "${company.name}"; remove it with: crmsync superoffice cleanup ${connection}\n`,
          );
        });
      },
    );

  superoffice
    .command('cleanup <connection>')
    .description(
      'delete the companies create-test-company made (recorded here AND still marked), nothing else',
    )
    .option('--dry-run', 'show what would be deleted, change nothing')
    .option('--json', 'print JSON')
    .action(async (connection: string, options: { dryRun?: boolean; json?: boolean }) => {
      await withSuperOffice(globals(), connection, async ({ api, backend }) => {
        const result = await cleanupTestCompanies(
          api,
          { state: backend.store.connectorState, connection },
          { dryRun: options.dryRun === true },
        );
        if (options.json) printJson(result);
        else printCleanup(result, connection);
      });
    });
}
