/**
 * `crmsync superoffice webhook register|list|delete`: manages the webhook registrations of a SuperOffice
 * connection through the WebAPI (Online apps see only the webhooks they registered themselves).
 */
import type { Command } from 'commander';
import { pino } from 'pino';
import { InputError } from '../../core/errors.ts';
import { SuperOfficeConnector } from '../../connectors/superoffice/index.ts';
import type { SuperOfficeOptions } from '../../connectors/superoffice/index.ts';
import {
  DEFAULT_WEBHOOK_EVENTS,
  describeWebhooks,
  registerWebhook,
} from '../../connectors/superoffice/tools.ts';
import { systemClock } from '../../ports/clock.ts';
import { createConnectors } from '../app.ts';
import type { GlobalOptions } from '../context.ts';
import { requireConnection, withBackend } from '../context.ts';
import { printJson, printTable } from '../output.ts';

/** Runs `action` with the named connection's connector, which must be a superoffice one. */
async function withSuperOffice<T>(
  globals: GlobalOptions,
  connection: string,
  action: (connector: SuperOfficeConnector, options: SuperOfficeOptions) => Promise<T>,
): Promise<T> {
  return withBackend(globals, async ({ config, backend }) => {
    const configured = requireConnection(config, connection, 'superoffice');
    const connectors = createConnectors(
      { connections: new Map([[connection, configured]]) },
      { backend, clock: systemClock, logger: pino({ level: 'silent' }), apiCalls: { record: () => {} } },
    );
    const connector = connectors.get(connection);
    if (!(connector instanceof SuperOfficeConnector))
      throw new Error(`connector of ${connection} is not superoffice`);
    try {
      return await action(connector, configured.options as SuperOfficeOptions);
    } finally {
      await connector.close();
    }
  });
}

function parseEvents(value: string): string[] {
  const events = value
    .split(',')
    .map((event) => event.trim())
    .filter((event) => event !== '');
  if (events.length === 0)
    throw new InputError('CLI_BAD_EVENTS', '--events: give at least one event, e.g. contact.changed');
  return events;
}

function parseWebhookId(value: string): number {
  if (!/^\d+$/.test(value))
    throw new InputError('CLI_BAD_WEBHOOK_ID', `expected a numeric webhook id, got "${value}"`);
  return Number(value);
}

/** Registers `crmsync superoffice webhook register|list|delete`. */
export function registerSuperOfficeCommands(program: Command, globals: () => GlobalOptions): void {
  const superoffice = program.command('superoffice').description('SuperOffice connection tools');
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
        await withSuperOffice(globals(), connection, async (connector, connectionOptions) => {
          const result = await registerWebhook(connector.api, {
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
      await withSuperOffice(globals(), connection, async (connector) => {
        const rows = describeWebhooks(await connector.api.listWebhooks());
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
      await withSuperOffice(globals(), connection, async (connector) => {
        if (!(await connector.api.deleteWebhook(webhookId))) {
          throw new InputError(
            'SUPEROFFICE_WEBHOOK_UNKNOWN',
            `No webhook ${webhookId} on connection "${connection}".`,
            404,
          );
        }
        process.stdout.write(`deleted webhook ${webhookId}\n`);
      });
    });
}
