/**
 * `crmsync espocrm ...`: the operator tools of an EspoCRM connection (docs/espocrm.md). For now
 * `webhook register|list|delete`, which manage the connection's webhook registrations through the API.
 */
import type { Command } from 'commander';
import { pino } from 'pino';
import { InputError } from '../../core/errors.ts';
import { EspoCrmConnector, espocrmConnector } from '../../connectors/espocrm/index.ts';
import type { EspoCrmOptions } from '../../connectors/espocrm/index.ts';
import {
  deleteWebhook,
  describeWebhooks,
  registerWebhooks,
  validateEvents,
  webhookSecretsValue,
} from '../../connectors/espocrm/tools.ts';
import { systemClock } from '../../ports/clock.ts';
import type { GlobalOptions } from '../context.ts';
import { requireConnection, withBackend } from '../context.ts';
import { printJson, printTable } from '../output.ts';
import { parseList } from './superoffice-context.ts';

/** Runs `action` with the named connection's connector, which must be an espocrm one; closes it after. */
async function withEspoCrm<T>(
  globals: GlobalOptions,
  connection: string,
  action: (connector: EspoCrmConnector) => Promise<T>,
): Promise<T> {
  return withBackend(globals, async ({ config, backend }) => {
    const configured = requireConnection(config, connection, espocrmConnector.kind);
    const connector = espocrmConnector.create({
      connection,
      // The config loader validated these options with espocrmConnector's own schema, defaults applied.
      options: configured.options as EspoCrmOptions,
      clock: systemClock,
      logger: pino({ level: 'silent' }),
      apiCalls: { record: () => {} },
      state: backend.store.connectorState,
    });
    if (!(connector instanceof EspoCrmConnector))
      throw new Error(`connector of ${connection} is not espocrm`);
    try {
      return await action(connector);
    } finally {
      await connector.close();
    }
  });
}

function parseEvents(value: string): string[] {
  const events = parseList(value);
  validateEvents(events);
  return events;
}

function parseUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.protocol === 'http:' || url.protocol === 'https:') return url.toString();
  } catch {
    // reported below
  }
  throw new InputError(
    'CLI_BAD_URL',
    `--url: expected an http(s) URL of the crmsync receiver, got "${value}".`,
  );
}

/** The instructions printed once after new secretKeys were shown. */
function secretInstructions(connection: string, value: string): string {
  return [
    '',
    'EspoCRM generated a secretKey for each webhook. They are shown only this once:',
    `  ${value}`,
    `Add these id:secretKey pairs to the webhookSecrets of connection "${connection}": set ESPOCRM_WEBHOOK_SECRET`,
    '(append them, comma-separated, to any pairs it already holds) and use espoCrmEnv() or',
    "webhookSecrets: env('ESPOCRM_WEBHOOK_SECRET') in the config, then restart crmsync serve.",
    'Until then, deliveries of these webhooks are refused with 401; EspoCRM retries them 10 minutes apart, 4 times.',
    '',
  ].join('\n');
}

/** Registers `crmsync espocrm ...`. */
export function registerEspoCrmCommands(program: Command, globals: () => GlobalOptions): void {
  const espocrm = program.command('espocrm').description('EspoCRM connection tools');
  const webhook = espocrm.command('webhook').description('manage EspoCRM webhook registrations');

  webhook
    .command('register <connection>')
    .description('register one webhook per event, pointing at a running crmsync')
    .requiredOption(
      '--url <url>',
      'URL of the receiver, e.g. https://crm.example.com/webhooks/espocrm',
      parseUrl,
    )
    .requiredOption(
      '--events <list>',
      'comma-separated events, e.g. CBeteiligte.create,CBeteiligte.update,CBeteiligte.delete',
      parseEvents,
    )
    .option('--no-skip-own', "also deliver events caused by the API user's own writes (default: skip them)")
    .option('--json', 'print JSON (including the secretKeys)')
    .action(
      async (
        connection: string,
        options: { url: string; events: string[]; skipOwn: boolean; json?: boolean },
      ) => {
        await withEspoCrm(globals(), connection, async (connector) => {
          const result = await registerWebhooks(connector.api, connector.webhookEvents, {
            url: options.url,
            events: options.events,
            skipOwn: options.skipOwn,
          });
          const secrets = webhookSecretsValue(result.registered);
          if (options.json) {
            printJson({
              webhooks: describeWebhooks(result.registered),
              secrets: Object.fromEntries(
                result.registered.map((webhook) => [webhook.id, webhook.secretKey]),
              ),
              failed:
                result.failed === null
                  ? null
                  : { event: result.failed.event, error: result.failed.error.message },
            });
          } else {
            for (const row of describeWebhooks(result.registered)) {
              process.stdout.write(`registered webhook ${row.id} (${row.event}) -> ${row.url}\n`);
            }
            if (secrets !== '') process.stdout.write(secretInstructions(connection, secrets));
          }
          if (result.failed !== null) {
            const later = options.events.slice(options.events.indexOf(result.failed.event) + 1);
            process.stderr.write(
              `crmsync: registering ${result.failed.event} failed; ${result.registered.length} webhook(s) before it were ` +
                `registered${later.length === 0 ? '' : `, ${later.join(', ')} not tried`}.\n`,
            );
            throw result.failed.error;
          }
        });
      },
    );

  webhook
    .command('list <connection>')
    .description('list the webhooks the API user can see (secretKeys are never shown)')
    .option('--json', 'print JSON')
    .action(async (connection: string, options: { json?: boolean }) => {
      await withEspoCrm(globals(), connection, async (connector) => {
        const rows = describeWebhooks(await connector.api.listWebhooks());
        if (options.json) printJson(rows);
        else
          printTable(
            ['ID', 'EVENT', 'ACTIVE', 'SKIP OWN', 'URL'],
            rows.map((row) => [
              row.id,
              row.event,
              row.active ? 'yes' : 'no',
              row.skipOwn ? 'yes' : 'no',
              row.url,
            ]),
          );
      });
    });

  webhook
    .command('delete <connection> <id>')
    .description('delete a webhook registration')
    .action(async (connection: string, id: string) => {
      await withEspoCrm(globals(), connection, async (connector) => {
        if (!(await deleteWebhook(connector.api, connector.webhookEvents, id))) {
          throw new InputError(
            'ESPOCRM_WEBHOOK_UNKNOWN',
            `No webhook ${id} on connection "${connection}".`,
            404,
          );
        }
        process.stdout.write(`deleted webhook ${id}\n`);
      });
    });
}
