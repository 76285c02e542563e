/**
 * The world of the `crmsync superoffice ...` tool tests: a SuperOffice simulator over HTTP, a config file with
 * a `so` connection pointing at it (plus a generic connection and optional enrich flows), a SQLite store in a
 * temp folder, and `run()`, which runs the real `crmsync` program in-process and captures its output and
 * exit code.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before } from 'node:test';
import { join } from 'node:path';
import { runCli, silenceSqliteExperimentalWarning } from '../../src/cli/main.ts';
import type { JsonObject } from '../../src/core/types.ts';
import type { Clock } from '../../src/ports/clock.ts';
import { startSuperOfficeSimulator } from '../../src/connectors/superoffice/simulator/index.ts';
import type { SuperOfficeSimulator } from '../../src/connectors/superoffice/simulator/index.ts';
import { makeTempDir } from '../support/temp-dir.ts';
import type { TempDir } from '../support/temp-dir.ts';

const ENTRY = new URL('../../src/index.ts', import.meta.url).href;

// As the real `crmsync` does, so that the warning does not land in the first captured stderr.
silenceSqliteExperimentalWarning();

/** What one CLI run printed, and its exit code. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

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

/**
 * Runs the whole `crmsync` program in-process with stdout and stderr captured. Commands that fail without
 * throwing set `process.exitCode`; it is read and reset here, so it never leaks into the test runner's exit.
 */
export async function runCrmsync(args: readonly string[]): Promise<CliResult> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const writeOut = process.stdout.write.bind(process.stdout);
  const writeErr = process.stderr.write.bind(process.stderr);
  // The commands write strings; the test runner (in a child process) reports to its parent with binary
  // chunks on the same stdout, which must pass through untouched.
  const capture =
    (into: string[], write: typeof process.stdout.write) =>
    (chunk: string | Uint8Array, ...rest: unknown[]): boolean =>
      typeof chunk === 'string'
        ? into.push(chunk) > 0
        : (write as (...args: unknown[]) => boolean)(chunk, ...rest);
  process.stdout.write = capture(stdout, writeOut);
  process.stderr.write = capture(stderr, writeErr);
  let code: number;
  try {
    code = await runCli(args);
  } finally {
    process.stdout.write = writeOut;
    process.stderr.write = writeErr;
    process.exitCode = undefined;
  }
  return { code, stdout: stdout.join(''), stderr: stderr.join('') };
}

/** Starts a simulator and writes the config. */
export async function startToolsWorld(options: ToolsWorldOptions = {}): Promise<ToolsWorld> {
  const sim = await startSuperOfficeSimulator({
    port: 0,
    seed: options.seed ?? true,
    ...(options.clock !== undefined && { clock: options.clock }),
  });
  const temp = makeTempDir('crmsync-so-tools-');
  const configPath = join(temp.path, 'crmsync.config.ts');
  const dbPath = join(temp.path, 'crmsync.db');
  const { clientId, clientSecret, refreshToken, contextIdentifier } = sim.credentials;
  writeFileSync(
    configPath,
    `import { defineConfig } from '${ENTRY}';
export default defineConfig({
  store: { kind: 'sqlite', path: ${JSON.stringify(dbPath)} },
  connections: {
    so: {
      connector: 'superoffice',
      options: {
        clientId: ${JSON.stringify(clientId)},
        clientSecret: ${JSON.stringify(clientSecret)},
        refreshToken: ${JSON.stringify(refreshToken)},
        contextIdentifier: ${JSON.stringify(contextIdentifier)},
        authBaseUrl: ${JSON.stringify(sim.url)},
        ${options.connectionExtras ?? ''}
      },
    },
    plain: { connector: 'generic', options: { secret: 'generic-secret-0123456789' } },
  },
  ${options.flows === undefined ? '' : `flows: ${options.flows},`}
});\n`,
  );
  const admin = async (method: string, path: string, body?: unknown): Promise<JsonObject> => {
    const response = await fetch(`${sim.url}/_sim/${path}`, {
      method,
      ...(body !== undefined && {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }),
    });
    const text = await response.text();
    assert.ok(response.ok, `${method} /_sim/${path} answered ${response.status}: ${text}`);
    return JSON.parse(text) as JsonObject;
  };
  return {
    sim,
    temp,
    configPath,
    dbPath,
    run: (args) => runCrmsync(['--config', configPath, ...args]),
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
