/**
 * `crmsync sandbox`: starts the vendor simulators with demo data on this machine and prints how to reach
 * them, then runs until SIGINT/SIGTERM. Today the SuperOffice simulator; the EspoCRM and Advoware simulators
 * join the same list later.
 */
import type { Command } from 'commander';
import { InputError } from '../../core/errors.ts';
import { startSuperOfficeSimulator } from '../../connectors/superoffice/simulator/index.ts';
import { installShutdownHandlers } from '../../engine/worker-pool.ts';
import type { GlobalOptions } from '../context.ts';
import { createLogger } from '../logging.ts';

/** One running simulator as the sandbox sees it. */
interface RunningSimulator {
  readonly name: string;
  /** Lines telling a user how to reach it. */
  readonly instructions: readonly string[];
  close(): Promise<void>;
}

/** Options of `crmsync sandbox`. */
interface SandboxOptions {
  readonly superofficePort: number;
  readonly seed: boolean;
  readonly persist?: string;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new InputError(
      'CLI_BAD_PORT',
      `--superoffice-port: expected a port number 0..65535, got "${value}"`,
    );
  return port;
}

async function startSuperOffice(options: SandboxOptions): Promise<RunningSimulator> {
  const sim = await startSuperOfficeSimulator({
    port: options.superofficePort,
    seed: options.seed,
    // Webhook delivery failures and simulator bugs are worth seeing while playing with the sandbox.
    logger: createLogger('info'),
    ...(options.persist !== undefined && { persistFile: options.persist }),
  });
  const { clientId, clientSecret, refreshToken, contextIdentifier } = sim.credentials;
  const tokenQuery = new URLSearchParams({
    grant_type: 'refresh_token',
    client_id: clientId,
    client_secret: clientSecret,
    refresh_token: refreshToken,
  });
  return {
    name: 'SuperOffice',
    instructions: [
      `auth host / admin:  ${sim.url}   (admin API under ${sim.url}/_sim/)`,
      `tenant API:         ${sim.webapiUrl}v1/`,
      `credentials:        client id ${clientId}, client secret ${clientSecret}, refresh token ${refreshToken}`,
      `                    API user associate 528; human users RKAB (485), RCGO (486), WACK (700)`,
      '',
      'environment for a crmsync config (options.authBaseUrl points the connector at the simulator):',
      `  export SO_CLIENT_ID=${clientId}`,
      `  export SO_CLIENT_SECRET=${clientSecret}`,
      `  export SO_REFRESH_TOKEN=${refreshToken}`,
      `  export SO_CONTEXT_IDENTIFIER=${contextIdentifier}`,
      '  export SO_ENVIRONMENT=sod',
      `  export SO_AUTH_BASE_URL=${sim.url}`,
      '',
      'try it:',
      `  curl -s ${sim.url}/api/state/${contextIdentifier}`,
      `  curl -s -X POST '${sim.url}/login/common/oauth/tokens?${tokenQuery.toString()}'`,
      `  curl -s -H "Authorization: Bearer <access_token>" '${sim.webapiUrl}v1/Contact?$top=5'`,
      `  curl -s -X POST -H 'content-type: application/json' -d '{"Name":"Neu GmbH"}' ${sim.url}/_sim/act/RKAB/Contact`,
    ],
    close: () => sim.close(),
  };
}

/** Registers `crmsync sandbox`. */
export function registerSandboxCommand(program: Command, _globals: () => GlobalOptions): void {
  program
    .command('sandbox')
    .description('run the vendor simulators with demo data on this machine until stopped')
    .option('--superoffice-port <port>', 'port of the SuperOffice simulator (0: any free port)', parsePort, 0)
    .option('--no-seed', 'start without the demo companies, persons and sales')
    .option('--persist <file>', 'keep the simulated data in this JSON file across restarts')
    .action(async (options: SandboxOptions) => {
      const simulators: RunningSimulator[] = [];
      try {
        simulators.push(await startSuperOffice(options));
      } catch (error) {
        await Promise.all(simulators.map((simulator) => simulator.close()));
        throw error;
      }
      for (const simulator of simulators) {
        process.stdout.write(`\n== ${simulator.name} simulator ==\n${simulator.instructions.join('\n')}\n`);
      }
      process.stdout.write('\nRunning; press Ctrl+C to stop.\n');
      await new Promise<void>((resolve) => {
        installShutdownHandlers(async () => {
          await Promise.all(simulators.map((simulator) => simulator.close()));
          resolve();
        });
      });
    });
}
