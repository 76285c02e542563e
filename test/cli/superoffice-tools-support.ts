/**
 * The world of the `crmsync superoffice ...` tool tests: a SuperOffice simulator over HTTP, a config file with
 * a `so` connection pointing at it (plus a generic connection and optional enrich flows), a SQLite store in a
 * temp folder, and `run()`, which runs the real `crmsync` program in-process and captures its output and
 * exit code.
 */
import { after, before } from 'node:test';
import type { JsonObject } from '../../src/core/types.ts';
import type { Clock } from '../../src/ports/clock.ts';
import {
  simulatorConnectionOptions,
  startSuperOfficeSimulator,
} from '../../src/simulators/superoffice/index.ts';
import type { SuperOfficeSimulator } from '../../src/simulators/superoffice/index.ts';
import { runWithConfig, writeCrmsyncConfig } from '../support/run-cli.ts';
import type { CliResult } from '../support/run-cli.ts';
import { simAdmin } from '../support/sim-admin.ts';
import { makeTempDir } from '../support/temp-dir.ts';
import type { TempDir } from '../support/temp-dir.ts';

/** Options of {@link startToolsWorld}. */
export interface ToolsWorldOptions {
  /** Demo records in the simulator (default true). */
  readonly seed?: boolean;
  /** The `flows` section of the config, as TypeScript source (default none). */
  readonly flows?: string;
  /** Extra options of the `so` connection, as TypeScript source (e.g. `apiAssociateId: 999,`). */
  readonly connectionExtras?: string;
  /** The simulator's clock (record dates), default the system clock. */
  readonly clock?: Clock;
}

/** A running world; `close()` stops the simulator and removes the temp folder. */
export interface ToolsWorld {
  readonly sim: SuperOfficeSimulator;
  readonly temp: TempDir;
  readonly configPath: string;
  readonly dbPath: string;
  /** Runs `crmsync --config <config> ...args`. */
  run(args: readonly string[]): Promise<CliResult>;
  /** Calls the simulator's admin API and returns its JSON answer (asserts a 2xx). */
  admin(method: string, path: string, body?: unknown): Promise<JsonObject>;
  /** The simulator's tenant dump (`/_sim/state` → tenant). */
  tenant(): Promise<TenantDump>;
  close(): Promise<void>;
}

/** The parts of the tenant dump the tests read (internal record shapes of the simulator). */
export interface TenantDump {
  readonly contacts: {
    contactId: number;
    name: string;
    department: string;
    associateId: number;
    createdDate: number;
    updatedDate: number;
    udf: Record<string, string>;
  }[];
  readonly sales: { saleId: number; heading: string; contactId: number; saledate: number }[];
}

/** Starts a simulator and writes the config. */
export async function startToolsWorld(options: ToolsWorldOptions = {}): Promise<ToolsWorld> {
  const sim = await startSuperOfficeSimulator({
    port: 0,
    seed: options.seed ?? true,
    ...(options.clock !== undefined && { clock: options.clock }),
  });
  const temp = makeTempDir('crmsync-so-tools-');
  const soOptions = `...${JSON.stringify(simulatorConnectionOptions(sim))}, ${options.connectionExtras ?? ''}`;
  const { configPath, dbPath } = writeCrmsyncConfig(
    temp.path,
    `connections: {
    so: { connector: 'superoffice', options: { ${soOptions} } },
    plain: { connector: 'generic', options: { secret: 'generic-secret-0123456789' } },
  },
  ${options.flows === undefined ? '' : `flows: ${options.flows},`}`,
  );
  const admin = (method: string, path: string, body?: unknown) => simAdmin(sim, method, path, body);
  return {
    sim,
    temp,
    configPath,
    dbPath,
    run: (args) => runWithConfig(configPath, args),
    admin,
    tenant: async () => (await admin('GET', 'state'))['tenant'] as unknown as TenantDump,
    close: async () => {
      await sim.close();
      temp.remove();
    },
  };
}

/**
 * Starts a world before the tests of the enclosing `describe` and closes it after them; call it in the
 * describe's body. The returned function gives the world inside the tests.
 */
export function useToolsWorld(options: ToolsWorldOptions = {}): () => ToolsWorld {
  let world: ToolsWorld | undefined;
  before(async () => {
    world = await startToolsWorld(options);
  });
  after(() => world?.close());
  return () => {
    if (world === undefined) throw new Error('the tools world is used before it started');
    return world;
  };
}
