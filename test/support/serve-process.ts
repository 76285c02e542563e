/**
 * Runs `crmsync serve` as a child process, as an operator would, and waits until it listens. Used by the
 * end-to-end tests and bench/ingest.ts. The child is a real process so that it can be killed with SIGKILL.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** A running `crmsync serve`. */
export interface ServeProcess {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything the process wrote so far (stdout and stderr). */
  output(): string;
  /** Sends `signal` and resolves with the exit code (or the signal name) once the process has ended. */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/** Starts `crmsync serve --config <configFile> ...args` and resolves once it logs that it listens. */
export function startServe(options: {
  configFile: string;
  args?: readonly string[];
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}): Promise<ServeProcess> {
  const child = spawn(
    process.execPath,
    [CLI, 'serve', '--config', options.configFile, ...(options.args ?? [])],
    {
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  return new Promise<ServeProcess>((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop('SIGKILL');
      reject(new Error(`crmsync serve did not start within ${options.timeoutMs ?? 20_000} ms:\n${output}`));
    }, options.timeoutMs ?? 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = /"msg":"listening".*?"url":"([^"]+)"|"url":"([^"]+)".*?"msg":"listening"/.exec(output);
      const url = match?.[1] ?? match?.[2];
      if (url !== undefined) {
        clearTimeout(timer);
        resolve({ url, child, output: () => output, stop });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`crmsync serve exited (${code}) before listening:\n${output}`));
    });
  });
}

/**
 * Writes the config of the serve end-to-end tests: a generic connection `source` signed with `secret`, feeding
 * an `inspect` flow `watch` (a no-op handler), the store in `database`. Returns the config file's path.
 */
export function writeInspectConfig(dir: string, database: string, secret: string): string {
  const file = join(dir, 'crmsync.config.ts');
  const entry = new URL('../../src/index.ts', import.meta.url).href;
  writeFileSync(
    file,
    `import { defineConfig } from '${entry}';
export default defineConfig({
  server: { host: '127.0.0.1', port: 0 },
  store: { kind: 'sqlite', path: ${JSON.stringify(database)} },
  log: { level: 'info' },
  connections: { source: { connector: 'generic', options: { secret: '${secret}' } } },
  flows: { watch: { type: 'inspect', connections: ['source'] } },
});\n`,
  );
  return file;
}
