/**
 * Running the real `crmsync` program in-process, as the CLI tests do: a config file in a temp folder and
 * {@link runCrmsync}, which captures what the program prints and its exit code.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, silenceSqliteExperimentalWarning } from '../../src/cli/main.ts';

/** The package entry a config file imports `defineConfig` from. */
const ENTRY = new URL('../../src/index.ts', import.meta.url).href;

// As the real `crmsync` does, so that the warning does not land in the first captured stderr.
silenceSqliteExperimentalWarning();

/** What one CLI run printed, and its exit code. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
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

/** The files of a config written by {@link writeCrmsyncConfig}. */
export interface ConfigFiles {
  /** `<dir>/crmsync.config.ts`. */
  readonly configPath: string;
  /** `<dir>/crmsync.db`, the SQLite store the config names. */
  readonly dbPath: string;
}

/**
 * Writes `<dir>/crmsync.config.ts`: `defineConfig` with a SQLite store in `dir` and `members`, the rest of
 * the config object as TypeScript source (e.g. `connections: { so: { connector: 'superoffice', ... } },`).
 */
export function writeCrmsyncConfig(dir: string, members: string): ConfigFiles {
  const configPath = join(dir, 'crmsync.config.ts');
  const dbPath = join(dir, 'crmsync.db');
  writeFileSync(
    configPath,
    `import { defineConfig } from '${ENTRY}';
export default defineConfig({
  store: { kind: 'sqlite', path: ${JSON.stringify(dbPath)} },
  ${members}
});\n`,
  );
  return { configPath, dbPath };
}

/** `crmsync --config <configPath> ...args`. */
export function runWithConfig(configPath: string, args: readonly string[]): Promise<CliResult> {
  return runCrmsync(['--config', configPath, ...args]);
}
