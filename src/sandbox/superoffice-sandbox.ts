/**
 * The SuperOffice half of the sandbox (`sandbox.superoffice`): the simulator, the connection it serves
 * pointed at it, its webhook registered at crmsync, and its simulated users.
 */
import type { Config, ConnectionConfig, SuperOfficeSandboxConfig } from '../config/index.ts';
import type { SuperOfficeOptions } from '../connectors/superoffice/options.ts';
import { ConfigError } from '../core/errors.ts';
import type { Logger } from '../ports/logger.ts';
import type { SuperOfficeSimulator } from '../simulators/superoffice/index.ts';
import { startSandboxSimulator } from './superoffice.ts';
import { TrafficGenerator } from './traffic.ts';
import { ensureSimulatorWebhook } from './webhook-registration.ts';
import { webhookTargetUrl } from './webhook-target.ts';

/** The running SuperOffice simulator of `sandbox.superoffice`. */
export interface RunningSuperOfficeSandbox {
  readonly simulator: SuperOfficeSimulator;
  /** The bound connection pointed at the simulator, when its `authBaseUrl` had to change. */
  readonly connections: readonly ConnectionConfig[];
  /** Registers the webhook at crmsync (idempotent) and starts the traffic, as configured. */
  connect(serverUrl: string): Promise<void>;
  stopTraffic(): Promise<void>;
  /** Stops the traffic and the simulator. Safe to call twice. */
  close(): Promise<void>;
}

/** The name of the sandbox's webhook registration for `connection` (the key of its idempotency). */
export function sandboxWebhookName(connection: string): string {
  return `crmsync-sandbox-${connection}`;
}

/** `connection` with its `authBaseUrl` replaced. */
function pointedAt(connection: ConnectionConfig, authBaseUrl: string): ConnectionConfig {
  return { ...connection, options: { ...(connection.options as SuperOfficeOptions), authBaseUrl } };
}

/** Starts the simulator of `settings` for `config`'s bound connection. */
export async function startSuperOfficeSandbox(
  settings: SuperOfficeSandboxConfig,
  config: Config,
  deps: { readonly logger: Logger },
): Promise<RunningSuperOfficeSandbox> {
  const logger = deps.logger.child({ component: 'sandbox' });
  const bound =
    settings.webhook === undefined ? undefined : config.connections.get(settings.webhook.connection);
  const simulator = await startSandboxSimulator(settings, {
    logger: deps.logger,
    connection: bound?.options as SuperOfficeOptions | undefined,
  });
  logger.info(
    { simulator: 'superoffice', url: simulator.url, seed: settings.seed },
    'sandbox: simulator started',
  );

  const connections: ConnectionConfig[] = [];
  if (bound !== undefined && (bound.options as SuperOfficeOptions).authBaseUrl !== simulator.url) {
    connections.push(pointedAt(bound, simulator.url));
    logger.info(
      { connection: bound.name, authBaseUrl: simulator.url },
      'sandbox: connection pointed at the simulator',
    );
  }

  let traffic: TrafficGenerator | undefined;
  let closing: Promise<void> | undefined;
  const stopTraffic = async () => {
    await traffic?.stop();
  };
  return {
    simulator,
    connections,
    async connect(serverUrl) {
      if (bound !== undefined && settings.webhook !== undefined)
        await registerWebhook(simulator, settings, bound, serverUrl, logger);
      if (settings.traffic.enabled && traffic === undefined) {
        traffic = new TrafficGenerator({
          simulatorUrl: simulator.url,
          users: settings.traffic.users,
          seed: settings.traffic.seed,
          intervalMs: settings.traffic.intervalMs,
          logger: deps.logger,
        });
        await traffic.start();
      }
    },
    stopTraffic,
    close() {
      closing ??= (async () => {
        await stopTraffic();
        await simulator.close();
        logger.info({ simulator: 'superoffice' }, 'sandbox: simulator stopped');
      })();
      return closing;
    },
  };
}

async function registerWebhook(
  simulator: SuperOfficeSimulator,
  settings: SuperOfficeSandboxConfig,
  connection: ConnectionConfig,
  serverUrl: string,
  logger: Logger,
): Promise<void> {
  const secret = (connection.options as SuperOfficeOptions).webhookSecret;
  // The config check demands a webhookSecret on the bound connection; this guards programmatic callers.
  if (secret === undefined || settings.webhook === undefined)
    throw new ConfigError(`Connection "${connection.name}" has no webhookSecret for the sandbox's webhook.`, [
      {
        path: `connections.${connection.name}.options.webhookSecret`,
        message: 'required by sandbox.superoffice.webhook',
      },
    ]);
  const targetUrl = webhookTargetUrl(serverUrl, connection.name);
  const result = await ensureSimulatorWebhook(simulator, {
    name: sandboxWebhookName(connection.name),
    targetUrl,
    events: settings.webhook.events,
    secret,
  });
  logger.info(
    { connection: connection.name, webhookId: result.webhookId, outcome: result.outcome, targetUrl },
    `sandbox: webhook ${result.outcome}`,
  );
}
