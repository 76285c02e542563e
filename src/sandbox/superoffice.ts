/**
 * The SuperOffice simulator as the sandbox runs it: started from `sandbox.superoffice` (or the options of
 * `crmsync sandbox`), with its credentials taken from the connection it serves, and the lines that tell a
 * user how to reach it.
 */
import { startSuperOfficeSimulator } from '../simulators/superoffice/index.ts';
import type { SuperOfficeSimulator, SuperOfficeSimulatorOptions } from '../simulators/superoffice/index.ts';
import type { SuperOfficeOptions } from '../connectors/superoffice/options.ts';
import type { Logger } from '../ports/logger.ts';
import { listening, persistPath } from './simulator-start.ts';

/** Where and how to run the simulator (the settings of `sandbox.superoffice` that concern the simulator). */
export interface SuperOfficeSimulatorSettings {
  /** 0 picks a free port. */
  readonly port: number;
  /** Start with the demo companies, persons and sales. */
  readonly seed: boolean;
  /** JSON file keeping the tenant across restarts; relative to the working directory. */
  readonly persistFile?: string | undefined;
}

/**
 * Starts the simulator. With `connection` (the options of the superoffice connection it serves) the
 * simulator accepts exactly that connection's client id, client secret, refresh token and tenant, so the two
 * always match; without, it uses its defaults (`crmsync-sim-client`, `Cust12345`, ...).
 */
export async function startSandboxSimulator(
  settings: SuperOfficeSimulatorSettings,
  deps: { readonly logger: Logger; readonly connection?: SuperOfficeOptions | undefined },
): Promise<SuperOfficeSimulator> {
  const { connection } = deps;
  const persistFile = persistPath(settings.persistFile);
  const options: SuperOfficeSimulatorOptions = {
    port: settings.port,
    seed: settings.seed,
    // Webhook delivery failures and simulator bugs are worth seeing in a sandbox.
    logger: deps.logger.child({ component: 'superoffice-simulator' }),
    ...(persistFile !== undefined && { persistFile }),
    ...(connection !== undefined && {
      clientId: connection.clientId,
      clientSecret: connection.clientSecret,
      refreshToken: connection.refreshToken,
      contextIdentifier: connection.contextIdentifier,
    }),
  };
  return listening('SuperOffice', settings.port, 'set sandbox.superoffice.port to a free port', () =>
    startSuperOfficeSimulator(options),
  );
}

/** How to reach a running simulator: URLs, credentials, the `SO_*` variables, and a few commands to try. */
export function superOfficeInstructions(simulator: SuperOfficeSimulator): string[] {
  const { url, webapiUrl } = simulator;
  const { clientId, clientSecret, refreshToken, contextIdentifier } = simulator.credentials;
  const tokenQuery = new URLSearchParams({
    grant_type: 'refresh_token',
    client_id: clientId,
    client_secret: clientSecret,
    refresh_token: refreshToken,
  });
  return [
    `auth host / admin:  ${url}   (admin API under ${url}/_sim/)`,
    `tenant API:         ${webapiUrl}v1/`,
    `credentials:        client id ${clientId}, client secret ${clientSecret}, refresh token ${refreshToken}`,
    `                    API user associate 528; human users RKAB (485), RCGO (486), WACK (700)`,
    '',
    'environment for a crmsync config (options.authBaseUrl points the connector at the simulator):',
    `  export SO_CLIENT_ID=${clientId}`,
    `  export SO_CLIENT_SECRET=${clientSecret}`,
    `  export SO_REFRESH_TOKEN=${refreshToken}`,
    `  export SO_CONTEXT_IDENTIFIER=${contextIdentifier}`,
    '  export SO_ENVIRONMENT=sod',
    `  export SO_AUTH_BASE_URL=${url}`,
    '',
    'try it:',
    `  curl -s ${url}/api/state/${contextIdentifier}`,
    `  curl -s -X POST '${url}/login/common/oauth/tokens?${tokenQuery.toString()}'`,
    `  curl -s -H "Authorization: Bearer <access_token>" '${webapiUrl}v1/Contact?$top=5'`,
    `  curl -s -X POST -H 'content-type: application/json' -d '{"Name":"Neu GmbH"}' ${url}/_sim/act/RKAB/Contact`,
  ];
}
