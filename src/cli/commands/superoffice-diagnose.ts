/**
 * Diagnostic tools of a SuperOffice connection: `whoami`, `discover`, `raw`, `counts` and `products`
 * (seeds 000-002: `who_am_i.py`, `full_discovery.py`, `debug_raw_response.py`, `check_filter_counts.py`,
 * `list_products.py`). All of them only read, except `raw` with a writing method.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { identifyApiUser } from '../../connectors/superoffice/tools-identity.ts';
import type { ApiUserIdentity } from '../../connectors/superoffice/tools-identity.ts';
import { discoverTenant } from '../../connectors/superoffice/tools-discover.ts';
import type { TenantDiscovery } from '../../connectors/superoffice/tools-discover.ts';
import { countRecords, requireEntityType } from '../../connectors/superoffice/tools-counts.ts';
import { productFamilies } from '../../connectors/superoffice/tools-products.ts';
import {
  RAW_METHODS,
  formatRawResponse,
  parseRawData,
  parseRawMethod,
  sendRaw,
} from '../../connectors/superoffice/tools-raw.ts';
import type { GlobalOptions } from '../context.ts';
import { printJson, printTable } from '../output.ts';
import { parseList, withSuperOffice } from './superoffice-context.ts';

function printIdentity(identity: ApiUserIdentity): void {
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  const id = (value: number | null) => (value === null ? 'not set' : String(value));
  if (identity.associateId === null) out('The API user could not be identified.');
  else {
    const names = [identity.name, identity.fullName === null ? null : `(${identity.fullName})`]
      .filter((part) => part !== null)
      .join(' ');
    out(`associate ${identity.associateId}${names === '' ? '' : ` ${names}`}, from ${identity.source}`);
  }
  out(`  User/currentPrincipal:  ${id(identity.bySource['User/currentPrincipal'])}`);
  if (identity.principalError !== null) out(`    (failed: ${identity.principalError})`);
  out(`  id_token associateid:   ${id(identity.bySource.id_token)}`);
  out(`  config apiAssociateId:  ${id(identity.bySource.config)}`);
  out(`  echo detection uses:    ${id(identity.usedForEchoDetection)}`);
  for (const warning of identity.warnings) out(`warning: ${warning}`);
}

function printDiscovery(discovery: TenantDiscovery): void {
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  out('User-defined fields');
  printTable(
    ['OWNER', 'PROGID', 'FIELD ID', 'LABEL', 'TYPE', 'LIST'],
    discovery.fields.map((field) => [
      field.owner,
      field.progId,
      field.fieldId,
      field.label,
      field.type,
      field.listName || (field.listDefinitionId > 0 ? `#${field.listDefinitionId}` : null),
    ]),
  );
  for (const problem of discovery.fieldErrors) out(`warning: fields of ${problem.owner}: ${problem.message}`);
  for (const list of discovery.lists) {
    const usedBy = list.usedBy.length === 0 ? '' : ` (used by ${list.usedBy.join(', ')})`;
    out(`\nList ${list.name}${usedBy}`);
    if (list.items === null) {
      out(`  not found under ${list.notFoundAs.join(', ')}`);
      continue;
    }
    if (list.notFoundAs.length > 0) out(`  (404 under ${list.notFoundAs.join(', ')})`);
    printTable(
      ['ID', 'NAME', 'DELETED'],
      list.items.map((item) => [item.id, item.name, item.deleted ? 'deleted' : null]),
    );
  }
}

/** Registers `whoami`, `discover`, `raw`, `counts` and `products` on the `superoffice` group. */
export function registerDiagnosticCommands(superoffice: Command, globals: () => GlobalOptions): void {
  superoffice
    .command('whoami <connection>')
    .description("the API user's associate id and name, and which source said so")
    .option('--json', 'print JSON')
    .action(async (connection: string, options: { json?: boolean }) => {
      await withSuperOffice(globals(), connection, async ({ api, options: connectionOptions }) => {
        const identity = await identifyApiUser(api, connectionOptions.apiAssociateId);
        if (options.json) printJson(identity);
        else printIdentity(identity);
      });
    });

  superoffice
    .command('discover <connection>')
    .description('all user-defined fields of Contact, Person and Sale, and the lists the tenant uses')
    .option('--lists <names>', 'more list names to read, comma-separated (e.g. SaleType)', parseList, [])
    .option('--json', 'print JSON')
    .action(async (connection: string, options: { lists: string[]; json?: boolean }) => {
      await withSuperOffice(globals(), connection, async ({ api }) => {
        const discovery = await discoverTenant(api, { extraLists: options.lists });
        if (options.json) printJson(discovery);
        else printDiscovery(discovery);
      });
    });

  superoffice
    .command('raw <connection> <method> <path>')
    .description(
      `one WebAPI call, answer printed as received (method: ${RAW_METHODS.join(', ')}; path such as Contact/1)`,
    )
    .option('--data <json>', 'JSON body for POST, PUT and PATCH')
    .option(
      '--content-type <type>',
      'Content-Type of the body (default: merge/JSON patch for PATCH, else JSON)',
    )
    .option('--headers', 'print the response headers too')
    .option('--out <file>', 'also save the body exactly as received to this file')
    .addHelpText('after', '\nExits 1 when the answer is not a 2xx or 3xx; the answer is printed either way.')
    .action(
      async (
        connection: string,
        methodText: string,
        path: string,
        options: { data?: string; contentType?: string; headers?: boolean; out?: string },
      ) => {
        const method = parseRawMethod(methodText);
        const data = options.data === undefined ? undefined : parseRawData(options.data);
        await withSuperOffice(globals(), connection, async ({ api }) => {
          const response = await sendRaw(api, {
            method,
            path,
            ...(data !== undefined && { data }),
            ...(options.contentType !== undefined && { contentType: options.contentType }),
          });
          if (response.retriedAfterSessionRenewal) {
            process.stderr.write(
              'note: the first attempt was refused (401/421); sent again with a renewed session\n',
            );
          }
          process.stdout.write(formatRawResponse(response, { headers: options.headers === true }));
          if (options.out !== undefined) {
            writeFileSync(options.out, response.bodyBytes);
            process.stderr.write(`body saved to ${options.out} (${response.bodyBytes.length} bytes)\n`);
          }
          if (response.status >= 400) process.exitCode = 1;
        });
      },
    );

  superoffice
    .command('counts <connection> <entity> [filter]')
    .description(
      `how many Contact, Person or Sale records match an archive filter, e.g. "associateId eq 485"`,
    )
    .option('--json', 'print JSON')
    .action(
      async (
        connection: string,
        entityName: string,
        filter: string | undefined,
        options: { json?: boolean },
      ) => {
        const entity = requireEntityType(entityName);
        await withSuperOffice(globals(), connection, async ({ api }) => {
          const count = await countRecords(api, entity, { filter });
          if (options.json) printJson({ entity, filter: filter ?? null, count });
          else process.stdout.write(`${entity}${filter === undefined ? '' : ` where ${filter}`}: ${count}\n`);
        });
      },
    );

  superoffice
    .command('products <connection>')
    .description('the ProductFamily list items')
    .option('--include-deleted', 'also list deleted items')
    .option('--json', 'print JSON')
    .action(async (connection: string, options: { includeDeleted?: boolean; json?: boolean }) => {
      await withSuperOffice(globals(), connection, async ({ api }) => {
        const items = await productFamilies(api, { includeDeleted: options.includeDeleted === true });
        if (options.json) printJson(items);
        else if (items.length === 0) process.stdout.write('The ProductFamily list has no items.\n');
        else
          printTable(
            ['ID', 'NAME', 'TOOLTIP', 'DELETED'],
            items.map((item) => [item.id, item.name, item.tooltip, item.deleted ? 'deleted' : null]),
          );
      });
    });
}
