/**
 * `crmsync webhook send`: signs and sends a webhook to a running `crmsync serve` for a connection of the
 * generic connector, as the source system would. For trying a setup end to end and for demos.
 */
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { InputError } from '../../core/errors.ts';
import type { GenericOptions } from '../../connectors/generic/index.ts';
import { signGenericWebhook } from '../../connectors/generic/index.ts';
import type { GlobalOptions } from '../context.ts';
import { loadCliConfig, requireConnection } from '../context.ts';
import { printJson } from '../output.ts';

function parseField(value: string, previous: Record<string, string>): Record<string, string> {
  const equals = value.indexOf('=');
  if (equals <= 0) throw new InputError('CLI_BAD_FIELD', `--field: expected name=value, got "${value}"`);
  return { ...previous, [value.slice(0, equals)]: value.slice(equals + 1) };
}

/** Registers `crmsync webhook send`. */
export function registerWebhookCommands(program: Command, globals: () => GlobalOptions): void {
  const webhook = program.command('webhook').description('send test webhooks to a running server');
  webhook
    .command('send <connection> <entityType> <recordId>')
    .description('sign and POST one change event for a generic connection to the running server')
    .option('--kind <kind>', 'created, updated or deleted', 'updated')
    .option('--event-id <id>', 'vendor event id (default: a random UUID)')
    .option('--field <name=value>', 'a changed field with its new value (repeatable)', parseField, {})
    .option('--url <url>', 'server base URL (default: from server.host and server.port)')
    .option('--json', 'print the JSON answer only')
    .action(
      async (
        connection: string,
        entityType: string,
        recordId: string,
        options: {
          kind: string;
          eventId?: string;
          field: Record<string, string>;
          url?: string;
          json?: boolean;
        },
      ) => {
        const config = await loadCliConfig(globals());
        const configured = requireConnection(config, connection, 'generic');
        if (!['created', 'updated', 'deleted'].includes(options.kind)) {
          throw new InputError(
            'CLI_BAD_KIND',
            `--kind: expected created, updated or deleted, got "${options.kind}"`,
          );
        }
        const secret = (configured.options as GenericOptions).secret;
        const body = Buffer.from(
          JSON.stringify({
            events: [
              {
                id: options.eventId ?? randomUUID(),
                entityType,
                recordId,
                kind: options.kind,
                occurredAt: new Date().toISOString(),
                changedFields: Object.keys(options.field),
                data: options.field,
              },
            ],
          }),
        );
        const base = options.url ?? `http://${config.server.host}:${config.server.port}`;
        const response = await fetch(`${base}/webhooks/${encodeURIComponent(connection)}`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-crmsync-signature': signGenericWebhook(secret, body),
          },
          body,
        });
        const answer = await response.json();
        if (options.json) printJson(answer);
        else process.stdout.write(`${response.status} ${JSON.stringify(answer)}\n`);
        if (!response.ok) process.exitCode = 1;
      },
    );
}
