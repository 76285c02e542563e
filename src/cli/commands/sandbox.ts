/**
 * `crmsync sandbox`: starts the vendor simulators (SuperOffice, EspoCRM, Advoware) with demo data on this
 * machine and prints how to reach them, then runs until SIGINT/SIGTERM. The SuperOffice simulator and its
 * simulated users are those `crmsync serve` runs for a config's `sandbox` section (src/sandbox/).
 */
import type { Command } from 'commander';
import { DEFAULTS } from '../../config/index.ts';
import { InputError } from '../../core/errors.ts';
import { installShutdownHandlers } from '../../engine/worker-pool.ts';
import type { Logger } from '../../ports/logger.ts';
import { startSandboxSimulator, superOfficeInstructions, TrafficGenerator } from '../../sandbox/index.ts';
import {
  advowareInstructions,
  espoCrmInstructions,
  startAdvowareSandbox,
  startEspoCrmSandbox,
} from '../../sandbox/vendor-simulators.ts';
import type { GlobalOptions } from '../context.ts';
import { createLogger } from '../logging.ts';

/** One running simulator as the sandbox command sees it. */
interface RunningSimulator {
  readonly name: string;
  /** Lines telling a user how to reach it. */
  readonly instructions: readonly string[];
  close(): Promise<void>;
}

/** Options of `crmsync sandbox`. */
interface SandboxOptions {
  readonly superofficePort: number;
  readonly espocrmPort: number;
  readonly advowarePort: number;
  readonly seed: boolean;
  readonly persist?: string;
  /** Milliseconds between simulated user actions; absent: no traffic. */
  readonly traffic?: number;
}

/** A parser of the port option `--<name>-port`. */
function portOption(name: string): (value: string) => number {
  return (value) => {
    const port = Number(value);
    if (!Number.isInteger(port) || port < 0 || port > 65_535)
      throw new InputError('CLI_BAD_PORT', `--${name}-port: expected a port number 0..65535, got "${value}"`);
    return port;
  };
}

/** The persist file of one simulator: `--persist data.json` keeps each vendor in `data.<vendor>.json`. */
function persistFileOf(options: SandboxOptions, vendor: string): string | undefined {
  return options.persist?.replace(/(\.json)?$/, `.${vendor}.json`);
}

async function startEspoCrm(options: SandboxOptions, logger: Logger): Promise<RunningSimulator> {
  const simulator = await startEspoCrmSandbox(
    { port: options.espocrmPort, seed: options.seed, persistFile: persistFileOf(options, 'espocrm') },
    { logger },
  );
  return { name: 'EspoCRM', instructions: espoCrmInstructions(simulator), close: () => simulator.close() };
}

async function startAdvoware(options: SandboxOptions, logger: Logger): Promise<RunningSimulator> {
  const simulator = await startAdvowareSandbox(
    { port: options.advowarePort, seed: options.seed, persistFile: persistFileOf(options, 'advoware') },
    { logger },
  );
  return { name: 'Advoware', instructions: advowareInstructions(simulator), close: () => simulator.close() };
}

function parseInterval(value: string): number {
  const interval = Number(value);
  if (!Number.isInteger(interval) || interval < 10)
    throw new InputError('CLI_BAD_INTERVAL', `--traffic: expected milliseconds (10 or more), got "${value}"`);
  return interval;
}

async function startSuperOffice(options: SandboxOptions, logger: Logger): Promise<RunningSimulator> {
  const simulator = await startSandboxSimulator(
    { port: options.superofficePort, seed: options.seed, persistFile: options.persist },
    { logger },
  );
  const defaults = DEFAULTS.sandbox.superoffice.traffic;
  const traffic =
    options.traffic === undefined
      ? undefined
      : new TrafficGenerator({
          simulatorUrl: simulator.url,
          users: defaults.users,
          seed: defaults.seed,
          intervalMs: options.traffic,
          logger,
        });
  try {
    await traffic?.start();
  } catch (error) {
    await simulator.close();
    throw error;
  }
  return {
    name: 'SuperOffice',
    instructions: superOfficeInstructions(simulator),
    close: async () => {
      await traffic?.stop();
      await simulator.close();
    },
  };
}

/** Registers `crmsync sandbox`. */
export function registerSandboxCommand(program: Command, _globals: () => GlobalOptions): void {
  program
    .command('sandbox')
    .description('run the vendor simulators with demo data on this machine until stopped')
    .option(
      '--superoffice-port <port>',
      'port of the SuperOffice simulator (0: any free port)',
      portOption('superoffice'),
      0,
    )
    .option(
      '--espocrm-port <port>',
      'port of the EspoCRM simulator (0: any free port)',
      portOption('espocrm'),
      0,
    )
    .option(
      '--advoware-port <port>',
      'port of the Advoware simulator (0: any free port)',
      portOption('advoware'),
      0,
    )
    .option('--no-seed', 'start without demo data')
    .option(
      '--persist <file>',
      'keep the simulated data across restarts (SuperOffice in this JSON file, the others next to it)',
    )
    .option(
      '--traffic [ms]',
      `simulated users create and edit companies and persons every ms (default ${DEFAULTS.sandbox.superoffice.traffic.intervalMs})`,
      parseInterval,
    )
    .action(async (raw: Omit<SandboxOptions, 'traffic'> & { traffic?: number | true }) => {
      const options: SandboxOptions = {
        ...raw,
        traffic: raw.traffic === true ? DEFAULTS.sandbox.superoffice.traffic.intervalMs : raw.traffic,
      };
      // Webhook delivery failures, simulator bugs and the traffic's actions are worth seeing in a sandbox.
      const logger = createLogger('info');
      const simulators: RunningSimulator[] = [];
      try {
        simulators.push(await startSuperOffice(options, logger));
        simulators.push(await startEspoCrm(options, logger));
        simulators.push(await startAdvoware(options, logger));
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
