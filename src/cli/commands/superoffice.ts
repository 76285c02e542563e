/**
 * `crmsync superoffice ...`: the operator tools of a SuperOffice connection (docs/superoffice-tools.md).
 * This file wires the groups and holds `webhook register|list|delete`, which manage the webhook registrations
 * through the WebAPI (Online apps see only the webhooks they registered themselves). The other tools live in
 * superoffice-*.ts next to it.
 */
import type { Command } from 'commander';
import { InputError } from '../../core/errors.ts';
import {
  DEFAULT_WEBHOOK_EVENTS,
  describeWebhooks,
  registerWebhook,
} from '../../connectors/superoffice/tools.ts';
import type { GlobalOptions } from '../context.ts';
import { printJson, printTable } from '../output.ts';
import { parseList, withSuperOffice } from './superoffice-context.ts';
import { registerDiagnosticCommands } from './superoffice-diagnose.ts';
import { registerEnrichmentCommands } from './superoffice-enrichment.ts';
import { registerReportCommands } from './superoffice-report.ts';
import { registerTestDataCommands } from './superoffice-test-data.ts';

function parseEvents(value: string): string[] {
  const events = parseList(value);
  if (events.length === 0)
    throw new InputError('CLI_BAD_EVENTS', '--events: give at least one event, e.g. contact.changed');
  return events;
}

function unknownWebhook(connection: string, webhookId: number): InputError {
  return new InputError(
    'SUPEROFFICE_WEBHOOK_UNKNOWN',
    `No webhook ${webhookId} on connection "${connection}".`,
    404,
  );
}

function parseWebhookId(value: string): number {
  if (!/^\d+$/.test(value))
    throw new InputError('CLI_BAD_WEBHOOK_ID', `expected a numeric webhook id, got "${value}"`);
  return Number(value);
}

/**
 * Registers `crmsync superoffice ...` (webhook management, diagnostics, enrichment checks, test data) and
 * `crmsync report products`.
 */
export function registerSuperOfficeCommands(program: Command, globals: () => GlobalOptions): void {
  const superoffice = program.command('superoffice').description('SuperOffice connection tools');
  registerWebhookCommands(superoffice, globals);
  registerDiagnosticCommands(superoffice, globals);
  registerEnrichmentCommands(superoffice, globals);
  registerTestDataCommands(superoffice, globals);
  registerReportCommands(program, globals);
}

/** Registers `superoffice webhook register|list|delete`. */
function registerWebhookCommands(superoffice: Command, globals: () => GlobalOptions): void {
  const webhook = superoffice.command('webhook').description('manage SuperOffice webhook registrations');

  webhook
    .command('register <connection>')
    .description('register a webhook pointing at a running crmsync (SuperOffice test-posts to it on save)')
    .requiredOption(
      '--url <targetUrl>',
      'public HTTPS URL of the receiver, e.g. https://crm.example.com/webhooks/superoffice',
    )
    .option('--events <list>', 'comma-separated events', parseEvents, [...DEFAULT_WEBHOOK_EVENTS])
    .option('--name <name>', 'registration name', 'crmsync')
    .option('--json', 'print JSON')
    .action(
      async (
        connection: string,
        options: { url: string; events: string[]; name: string; json?: boolean },
      ) => {
        await withSuperOffice(globals(), connection, async ({ api, options: connectionOptions }) => {
          const result = await registerWebhook(api, {
            targetUrl: options.url,
            events: options.events,
            name: options.name,
            configuredSecret: connectionOptions.webhookSecret,
          });
          const [row] = describeWebhooks([result.webhook]);
          if (options.json) printJson({ webhook: row, generatedSecret: result.generatedSecret });
          else process.stdout.write(`registered webhook ${row?.id} (${row?.events}) -> ${row?.targetUrl}\n`);
          if (result.generatedSecret !== null && options.json !== true) {
            process.stdout.write(
              [
                '',
                'A new webhook secret was generated. It is shown only this once:',
                `  ${result.generatedSecret}`,
                `Store it as the webhookSecret of connection "${connection}", e.g. set SO_WEBHOOK_SECRET in the`,
                "environment and write webhookSecret: env('SO_WEBHOOK_SECRET') in the config, then restart crmsync serve.",
                'Until then, signed webhooks of this registration are rejected with 401.',
                '',
              ].join('\n'),
            );
          }
        });
      },
    );

  webhook
    .command('list <connection>')
    .description('list the webhooks this app registered')
    .option('--json', 'print JSON')
    .action(async (connection: string, options: { json?: boolean }) => {
      await withSuperOffice(globals(), connection, async ({ api }) => {
        const rows = describeWebhooks(await api.listWebhooks());
        if (options.json) printJson(rows);
        else
          printTable(
            ['ID', 'NAME', 'STATE', 'EVENTS', 'TARGET'],
            rows.map((row) => [row.id, row.name, row.state, row.events, row.targetUrl]),
          );
      });
    });

  webhook
    .command('delete <connection> <id>')
    .description('delete a webhook registration')
    .action(async (connection: string, id: string) => {
      const webhookId = parseWebhookId(id);
      await withSuperOffice(globals(), connection, async ({ api }) => {
        if (!(await api.deleteWebhook(webhookId))) throw unknownWebhook(connection, webhookId);
        process.stdout.write(`deleted webhook ${webhookId}\n`);
      });
    });

  webhook
    .command('activate <connection> <id>')
    .description(
      'set a webhook Active again after TooManyErrors (SuperOffice test-posts to its target first)',
    )
    .action(async (connection: string, id: string) => {
      const webhookId = parseWebhookId(id);
      await withSuperOffice(globals(), connection, async ({ api }) => {
        const activated = await api.activateWebhook(webhookId);
        if (activated === null) throw unknownWebhook(connection, webhookId);
        process.stdout.write(`webhook ${webhookId} is ${activated.State}\n`);
      });
    });
}
