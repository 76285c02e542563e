/**
 * The EspoCRM and Advoware simulators as `crmsync sandbox` runs them, and the lines that tell a user how to
 * reach them: URLs, the API users' credentials, the environment variables of a connection
 * (`espoCrmEnv()`, `advowareEnv()`), and a few commands to try.
 */
import { ADVOWARE_ENV_VARIABLES } from '../connectors/advoware/options.ts';
import { startAdvowareSimulator } from '../simulators/advoware/index.ts';
import type { AdvowareCredentials, AdvowareSimulator } from '../simulators/advoware/index.ts';
import { ESPOCRM_ENV_VARIABLES } from '../connectors/espocrm/options.ts';
import { HUMAN_USERS, startEspoCrmSimulator } from '../simulators/espocrm/index.ts';
import type { EspoCrmSimulator } from '../simulators/espocrm/index.ts';
import type { Logger } from '../ports/logger.ts';
import { listening, persistPath } from './simulator-start.ts';

/** Where and how to run one simulator. */
export interface VendorSimulatorSettings {
  /** 0 picks a free port. */
  readonly port: number;
  /** Start with demo data. */
  readonly seed: boolean;
  /** JSON file keeping the data across restarts; relative to the working directory. */
  readonly persistFile?: string | undefined;
  /** How to pick another port, for the error a taken port gives (default: the `crmsync sandbox` option). */
  readonly portRemedy?: string;
}

/** The EspoCRM simulator's settings: the API user's keys (default the simulator's own) and webhook period. */
export interface EspoCrmSimulatorSettings extends VendorSimulatorSettings {
  readonly apiKey?: string | undefined;
  readonly secretKey?: string | undefined;
  /** Period of the webhook job; default the vendor's 2 minutes. */
  readonly webhookIntervalMs?: number | undefined;
}

/** The Advoware simulator's settings: the credentials it accepts (default the simulator's own). */
export interface AdvowareSimulatorSettings extends VendorSimulatorSettings {
  readonly credentials?: Partial<AdvowareCredentials> | undefined;
}

/** Starts the EspoCRM simulator (webhook queue on the vendor's 2-minute schedule unless set). */
export function startEspoCrmSandbox(
  settings: EspoCrmSimulatorSettings,
  deps: { readonly logger: Logger },
): Promise<EspoCrmSimulator> {
  const persistFile = persistPath(settings.persistFile);
  return listening('EspoCRM', settings.port, settings.portRemedy ?? 'choose another --espocrm-port', () =>
    startEspoCrmSimulator({
      port: settings.port,
      seed: settings.seed,
      logger: deps.logger.child({ component: 'espocrm-simulator' }),
      ...(persistFile !== undefined && { persistFile }),
      ...(settings.apiKey !== undefined && { apiKey: settings.apiKey }),
      ...(settings.secretKey !== undefined && { secretKey: settings.secretKey }),
      ...(settings.webhookIntervalMs !== undefined && { webhookIntervalMs: settings.webhookIntervalMs }),
    }),
  );
}

/** Starts the Advoware simulator (with a few hundred Beteiligte when seeded). */
export function startAdvowareSandbox(
  settings: AdvowareSimulatorSettings,
  deps: { readonly logger: Logger },
): Promise<AdvowareSimulator> {
  const persistFile = persistPath(settings.persistFile);
  return listening('Advoware', settings.port, settings.portRemedy ?? 'choose another --advoware-port', () =>
    startAdvowareSimulator({
      port: settings.port,
      seed: settings.seed,
      logger: deps.logger.child({ component: 'advoware-simulator' }),
      ...(persistFile !== undefined && { persistFile }),
      ...(settings.credentials !== undefined && { credentials: settings.credentials }),
    }),
  );
}

/** How to reach a running EspoCRM simulator. */
export function espoCrmInstructions(simulator: EspoCrmSimulator): string[] {
  const { url } = simulator;
  const { apiKey, secretKey, userName } = simulator.credentials;
  return [
    `API:                ${url}/api/v1/   (admin API under ${url}/_sim/)`,
    `API user:           ${userName}, API key ${apiKey}, HMAC secret key ${secretKey}`,
    `human users:        ${HUMAN_USERS.map((user) => user.userName).join(', ')}`,
    '',
    'environment for a crmsync config (options: espoCrmEnv()):',
    `  export ${ESPOCRM_ENV_VARIABLES.baseUrl}=${url}`,
    `  export ${ESPOCRM_ENV_VARIABLES.apiKey}=${apiKey}`,
    `  export ${ESPOCRM_ENV_VARIABLES.secretKey}=${secretKey}`,
    '',
    'try it:',
    `  curl -s -H 'X-Api-Key: ${apiKey}' '${url}/api/v1/CBeteiligte?maxSize=5&select=name,advowareId'`,
    `  curl -s -X POST -H 'content-type: application/json' -d '{"name":"Neu GmbH"}' ${url}/_sim/act/anna/Account`,
    `  curl -s -X POST ${url}/_sim/webhooks/run    # deliver queued webhooks now instead of every 2 minutes`,
  ];
}

/** How to reach a running Advoware simulator. */
export function advowareInstructions(simulator: AdvowareSimulator): string[] {
  const { url, configuratorUrl, credentials } = simulator;
  return [
    `configurator:       ${configuratorUrl}?Kanzlei=${credentials.kanzlei}`,
    `API (connector):    ${simulator.connectorBaseUrl}api/v1/advonet/Beteiligte   (admin API under ${url}/_sim/)`,
    `token endpoint:     ${simulator.securityGatewayUrl}api/v1/Token (HMAC-SHA512 signed request)`,
    `credentials:        Kanzlei ${credentials.kanzlei}, database ${credentials.database}, user ${credentials.user},`,
    `                    password ${credentials.password}, App-ID ${credentials.appId}, API key ${credentials.apiKey}`,
    '',
    'environment for a crmsync config (options: advowareEnv()):',
    `  export ${ADVOWARE_ENV_VARIABLES.configuratorUrl}=${configuratorUrl}`,
    `  export ${ADVOWARE_ENV_VARIABLES.kanzlei}=${credentials.kanzlei}`,
    `  export ${ADVOWARE_ENV_VARIABLES.database}=${credentials.database}`,
    `  export ${ADVOWARE_ENV_VARIABLES.user}=${credentials.user}`,
    `  export ${ADVOWARE_ENV_VARIABLES.password}=${credentials.password}`,
    `  export ${ADVOWARE_ENV_VARIABLES.appId}=${credentials.appId}`,
    `  export ${ADVOWARE_ENV_VARIABLES.apiKey}=${credentials.apiKey}`,
    '',
    'try it:',
    `  curl -s '${configuratorUrl}?Kanzlei=${credentials.kanzlei}'`,
    `  curl -s ${url}/_sim/requests    # request counts per route`,
    `  curl -s -X POST -H 'content-type: application/json' -d '{"name":"Kanzlei Muster","vorname":""}' ${url}/_sim/act/anna/Beteiligte`,
  ];
}
