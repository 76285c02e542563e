/**
 * The Beteiligte demo's half of the sandbox (`sandbox.beteiligte`): the EspoCRM and Advoware simulators that a
 * `sync` flow between the two connections it names runs against, and their simulated users.
 *
 * - The simulators accept exactly the connections' credentials (EspoCRM API key and HMAC secret, Advoware's
 *   Kanzlei, user, password, App-ID and API key), so the config and the simulators always match.
 * - EspoCRM delivers `CBeteiligte.create`, `.update` and `.delete` webhooks to the espocrm connection's route
 *   (`/webhooks/<connection>?event=<event>`, as `crmsync espocrm webhook register` sets them). EspoCRM makes
 *   each webhook's secretKey itself, so the webhooks are found (persisted ones by their URL's route and event)
 *   or created before crmsync starts, and their secretKeys go into the connection's `webhookSecrets`. Until
 *   crmsync listens they point at a dead port; {@link RunningBeteiligteSandbox.connect} points them at crmsync.
 *   No `skipOwn`: the echoes of crmsync's own writes are delivered too, and the log shows them SKIPPED `echo`.
 * - Advoware has no webhooks for Beteiligte: the flow's re-check and discovery find its changes.
 */
import type { BeteiligteSandboxConfig, Config, ConnectionConfig } from '../config/index.ts';
import type { AdvowareOptions } from '../connectors/advoware/options.ts';
import type { EspoCrmOptions } from '../connectors/espocrm/options.ts';
import { targetUrlFor } from '../connectors/espocrm/webhook-events.ts';
import { ConfigError } from '../core/errors.ts';
import type { Logger } from '../ports/logger.ts';
import type { AdvowareSimulator } from '../simulators/advoware/index.ts';
import type { EspoCrmSimulator } from '../simulators/espocrm/index.ts';
import { BeteiligteTrafficGenerator } from './beteiligte-traffic.ts';
import { callSimulator } from './simulator-http.ts';
import { startAdvowareSandbox, startEspoCrmSandbox } from './vendor-simulators.ts';
import { webhookTargetUrl } from './webhook-target.ts';

/** The EspoCRM webhook events of the Beteiligte flow. */
export const BETEILIGTE_WEBHOOK_EVENTS = ['CBeteiligte.create', 'CBeteiligte.update', 'CBeteiligte.delete'];

/** Where webhooks point until crmsync listens: the discard port, so nothing is delivered anywhere else. */
const NOT_YET_LISTENING = 'http://127.0.0.1:9';

/** The running simulators of `sandbox.beteiligte`. */
export interface RunningBeteiligteSandbox {
  readonly espocrm: EspoCrmSimulator;
  readonly advoware: AdvowareSimulator;
  /** The two connections pointed at the simulators (EspoCRM's with the webhooks' secretKeys). */
  readonly connections: readonly ConnectionConfig[];
  /** Points the webhooks at crmsync (listening at `serverUrl`) and starts the traffic, as configured. */
  connect(serverUrl: string): Promise<void>;
  /** Stops the simulated users; waits for an action in progress. */
  stopTraffic(): Promise<void>;
  /** Stops the traffic and both simulators. Safe to call twice. */
  close(): Promise<void>;
}

/** A webhook of the simulator, as its API lists it. */
interface ListedWebhook {
  readonly id: string;
  readonly event: string;
  readonly url: string;
  readonly secretKey: string;
}

/** Starts the simulators of `settings` for `config`'s connections; see the module comment. */
export async function startBeteiligteSandbox(
  settings: BeteiligteSandboxConfig,
  config: Config,
  deps: { readonly logger: Logger },
): Promise<RunningBeteiligteSandbox> {
  const logger = deps.logger.child({ component: 'sandbox' });
  const espoConnection = connectionOf(config, settings.espocrm.connection, 'espocrm');
  const advoConnection = connectionOf(config, settings.advoware.connection, 'advoware');
  const espoOptions = espoConnection.options as EspoCrmOptions;
  const advoOptions = advoConnection.options as AdvowareOptions;
  if (espoOptions.auth.mode === 'password')
    throw new ConfigError(
      `The EspoCRM simulator serves connection "${espoConnection.name}" with an API user.`,
      [
        {
          path: `connections.${espoConnection.name}.options.auth`,
          message:
            "use { mode: 'hmac', apiKey, secretKey } or { mode: 'apiKey', apiKey } for sandbox.beteiligte",
        },
      ],
    );
  const { auth } = espoOptions;

  const espocrm = await startEspoCrmSandbox(
    {
      port: settings.espocrm.port,
      seed: false,
      persistFile: settings.espocrm.persistFile,
      portRemedy: 'set sandbox.beteiligte.espocrm.port to a free port',
      apiKey: auth.apiKey,
      secretKey: auth.mode === 'hmac' ? auth.secretKey : undefined,
      webhookIntervalMs: settings.espocrm.webhookIntervalMs,
    },
    deps,
  );
  let advoware: AdvowareSimulator | undefined;
  try {
    advoware = await startAdvowareSandbox(
      {
        port: settings.advoware.port,
        seed: false,
        persistFile: settings.advoware.persistFile,
        portRemedy: 'set sandbox.beteiligte.advoware.port to a free port',
        credentials: {
          kanzlei: advoOptions.kanzlei,
          database: advoOptions.database,
          user: advoOptions.user,
          role: advoOptions.role,
          password: advoOptions.password,
          appId: advoOptions.appId,
          apiKey: advoOptions.apiKey,
        },
      },
      deps,
    );
    logger.info({ simulator: 'espocrm', url: espocrm.url }, 'sandbox: simulator started');
    logger.info({ simulator: 'advoware', url: advoware.url }, 'sandbox: simulator started');
    const webhooks = await ensureWebhooks(espocrm, auth.apiKey, espoConnection.name);
    return running(settings, {
      espocrm,
      advoware,
      webhooks,
      espoConnection,
      advoConnection,
      logger,
      trafficLogger: deps.logger,
      apiKey: auth.apiKey,
    });
  } catch (error) {
    await advoware?.close();
    await espocrm.close();
    throw error;
  }
}

function running(
  settings: BeteiligteSandboxConfig,
  parts: {
    readonly espocrm: EspoCrmSimulator;
    readonly advoware: AdvowareSimulator;
    readonly webhooks: readonly ListedWebhook[];
    readonly espoConnection: ConnectionConfig;
    readonly advoConnection: ConnectionConfig;
    readonly apiKey: string;
    readonly logger: Logger;
    /** The generator adds its own `component`. */
    readonly trafficLogger: Logger;
  },
): RunningBeteiligteSandbox {
  const { espocrm, advoware, webhooks, espoConnection, advoConnection, apiKey, logger, trafficLogger } =
    parts;
  const connections: ConnectionConfig[] = [
    {
      ...espoConnection,
      options: {
        ...(espoConnection.options as EspoCrmOptions),
        baseUrl: espocrm.url,
        webhookSecrets: Object.fromEntries(webhooks.map((webhook) => [webhook.id, webhook.secretKey])),
      },
    },
    {
      ...advoConnection,
      options: { ...(advoConnection.options as AdvowareOptions), configuratorUrl: advoware.configuratorUrl },
    },
  ];
  let traffic: BeteiligteTrafficGenerator | undefined;
  let closing: Promise<void> | undefined;
  const stopTraffic = async () => {
    await traffic?.stop();
  };
  return {
    espocrm,
    advoware,
    connections,
    async connect(serverUrl) {
      const route = webhookTargetUrl(serverUrl, espoConnection.name);
      for (const webhook of webhooks) {
        const url = targetUrlFor(route, webhook.event);
        if (webhook.url !== url)
          await callSimulator({
            method: 'PUT',
            url: `${espocrm.url}/api/v1/Webhook/${webhook.id}`,
            headers: { 'x-api-key': apiKey },
            body: { url },
          });
      }
      logger.info(
        { connection: espoConnection.name, events: webhooks.map((webhook) => webhook.event), url: route },
        'sandbox: EspoCRM webhooks point at crmsync',
      );
      if (settings.traffic.enabled && traffic === undefined) {
        traffic = new BeteiligteTrafficGenerator({
          espocrm: { url: espocrm.url, apiKey },
          advoware: { url: advoware.url },
          seed: settings.traffic.seed,
          conflictChance: settings.traffic.conflictChance,
          intervalMs: settings.traffic.intervalMs,
          logger: trafficLogger,
        });
        traffic.start();
      }
    },
    stopTraffic,
    close() {
      closing ??= (async () => {
        await stopTraffic();
        await espocrm.close();
        await advoware.close();
        logger.info({ simulator: 'espocrm' }, 'sandbox: simulator stopped');
        logger.info({ simulator: 'advoware' }, 'sandbox: simulator stopped');
      })();
      return closing;
    },
  };
}

function connectionOf(config: Config, name: string, connector: string): ConnectionConfig {
  const connection = config.connections.get(name);
  // The config check reports a missing or mismatched connection; this guards programmatic callers.
  if (connection?.connector !== connector)
    throw new ConfigError(`sandbox.beteiligte needs an ${connector} connection named "${name}".`, [
      { path: `sandbox.beteiligte.${connector}.connection`, message: `no ${connector} connection "${name}"` },
    ]);
  return connection;
}

/**
 * The Beteiligte webhooks of the API user for `connection`: those the simulator has persisted (found by event
 * and by the route their URL names, whatever port crmsync had then), the missing ones created.
 */
async function ensureWebhooks(
  espocrm: EspoCrmSimulator,
  apiKey: string,
  connection: string,
): Promise<ListedWebhook[]> {
  const headers = { 'x-api-key': apiKey };
  const listed = (await callSimulator({ method: 'GET', url: `${espocrm.url}/api/v1/Webhook`, headers })) as {
    list: ListedWebhook[];
  };
  const route = new URL(webhookTargetUrl(NOT_YET_LISTENING, connection)).pathname;
  const found: ListedWebhook[] = [];
  for (const event of BETEILIGTE_WEBHOOK_EVENTS) {
    const existing = listed.list.find((webhook) => {
      const url = new URL(webhook.url);
      return webhook.event === event && url.pathname === route && url.searchParams.get('event') === event;
    });
    found.push(
      existing ??
        ((await callSimulator({
          method: 'POST',
          url: `${espocrm.url}/api/v1/Webhook`,
          headers,
          body: { event, url: targetUrlFor(webhookTargetUrl(NOT_YET_LISTENING, connection), event) },
        })) as ListedWebhook),
    );
  }
  return found;
}
