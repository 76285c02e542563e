/**
 * The sandbox: vendor simulators that `crmsync serve` starts in-process when the config has a `sandbox`
 * section (the demo of `npm start`), and that `crmsync sandbox` runs on their own.
 *
 * In `crmsync serve` the order is:
 * 1. {@link startSandbox} starts the simulators before crmsync, so a connection bound to a simulator
 *    (`sandbox.superoffice.webhook.connection`) can be pointed at it: the returned `config` has that
 *    connection's `authBaseUrl` set to the simulator's address (which port 0 only decides now).
 * 2. crmsync starts with that config and listens.
 * 3. {@link RunningSandbox.connect} registers the simulator's webhook at crmsync's URL (the simulator
 *    test-posts to it, so crmsync must listen first) and starts the simulated users' traffic.
 * 4. On shutdown: {@link RunningSandbox.stopTraffic}, then crmsync drains its jobs (which may still call the
 *    simulator), then {@link RunningSandbox.close}.
 */
import type { Config, ConnectionConfig } from '../config/index.ts';
import type { SuperOfficeSandboxConfig } from '../config/schema.ts';
import type { SuperOfficeSimulator } from '../simulators/superoffice/index.ts';
import type { SuperOfficeOptions } from '../connectors/superoffice/options.ts';
import { ConfigError } from '../core/errors.ts';
import type { Logger } from '../ports/logger.ts';
import { startSandboxSimulator } from './superoffice.ts';
import { TrafficGenerator } from './traffic.ts';
import { ensureSimulatorWebhook } from './webhook-registration.ts';

export { SandboxError } from './errors.ts';
export type { SandboxErrorCode } from './errors.ts';
export { startSandboxSimulator, superOfficeInstructions } from './superoffice.ts';
export type { SuperOfficeSimulatorSettings } from './superoffice.ts';
export { TrafficGenerator } from './traffic.ts';
export type { PerformedAction, TrafficGeneratorOptions } from './traffic.ts';
export { TRAFFIC_ACTIONS, TrafficPlanner, websiteOf } from './traffic-plan.ts';
export type { PlannedAction, TrafficActionKind } from './traffic-plan.ts';
export { ensureSimulatorWebhook } from './webhook-registration.ts';
export type { SimulatorWebhook, WebhookRegistrationOutcome } from './webhook-registration.ts';

/** The running simulators of a config's `sandbox` section. */
export interface RunningSandbox {
  /** The config to start crmsync with: connections bound to a simulator point at it. */
  readonly config: Config;
  /** The SuperOffice simulator. */
  readonly superoffice: SuperOfficeSimulator;
  /**
   * Once crmsync listens at `serverUrl` (e.g. `http://127.0.0.1:8787`): registers the webhook (idempotent)
   * and starts the traffic, as configured. A second call registers again but starts no second traffic.
   */
  connect(serverUrl: string): Promise<void>;
  /** Stops the simulated users; waits for an action in progress. */
  stopTraffic(): Promise<void>;
  /** Stops the traffic and the simulators. Safe to call twice. */
  close(): Promise<void>;
}

/** The name of the sandbox's webhook registration for `connection` (the key of its idempotency). */
export function sandboxWebhookName(connection: string): string {
  return `crmsync-sandbox-${connection}`;
}

/**
 * The URL the simulator delivers to: crmsync's own address, with a wildcard bind address (`0.0.0.0`, `::`)
 * replaced by loopback, since the simulator runs on the same machine.
 */
export function webhookTargetUrl(serverUrl: string, connection: string): string {
  const url = new URL(`/webhooks/${encodeURIComponent(connection)}`, serverUrl);
  if (url.hostname === '0.0.0.0') url.hostname = '127.0.0.1';
  if (url.hostname === '[::]') url.hostname = '[::1]';
  return url.toString();
}

/** `connection` with its `authBaseUrl` replaced. */
function pointedAt(connection: ConnectionConfig, authBaseUrl: string): ConnectionConfig {
  return { ...connection, options: { ...(connection.options as SuperOfficeOptions), authBaseUrl } };
}

/**
 * Starts the simulators of `config.sandbox`, or returns null when it configures none. See the module comment
 * for what happens next.
 */
export async function startSandbox(
  config: Config,
  deps: { readonly logger: Logger },
): Promise<RunningSandbox | null> {
  const settings = config.sandbox?.superoffice;
  if (settings === undefined) return null;
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

  let running = config;
  if (bound !== undefined && (bound.options as SuperOfficeOptions).authBaseUrl !== simulator.url) {
    const connections = new Map(config.connections);
    connections.set(bound.name, pointedAt(bound, simulator.url));
    running = { ...config, connections };
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
    config: running,
    superoffice: simulator,
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
