/**
 * `crmsync sandbox` as an operator runs it: a child process that starts the SuperOffice simulator, prints how
 * to reach it, answers on the printed URL, and ends cleanly on SIGTERM. The command is registered on a bare
 * commander program here, because wiring it into main.ts is the lead's part.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { eventually } from '../../support/eventually.ts';

const SANDBOX = fileURLToPath(new URL('../../../src/cli/commands/sandbox.ts', import.meta.url));

test('crmsync sandbox prints the simulator URL and credentials, serves, and stops on SIGTERM', async () => {
  const script = [
    "import { Command } from 'commander';",
    `import { registerSandboxCommand } from ${JSON.stringify(SANDBOX)};`,
    "const program = new Command('crmsync');",
    'registerSandboxCommand(program, () => ({}));',
    "await program.parseAsync(['sandbox', '--superoffice-port', '0', '--no-seed'], { from: 'user' });",
  ].join('\n');
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('../../../', import.meta.url)),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const url = await eventually(() => /auth host \/ admin:\s+(http:\/\/\S+)/.exec(output)?.[1], {
      timeoutMs: 15_000,
    });
    assert.match(output, /export SO_CLIENT_ID=crmsync-sim-client/);
    assert.match(output, /export SO_REFRESH_TOKEN=crmsync-sim-refresh-token/);
    assert.match(output, /curl -s http:\/\/127\.0\.0\.1:\d+\/api\/state\/Cust12345/);
    const state = (await (await fetch(`${url}/api/state/Cust12345`)).json()) as { State: string };
    assert.equal(state.State, 'Running');
    const dump = (await (await fetch(`${url}/_sim/state`)).json()) as { tenant: { contacts: unknown[] } };
    assert.equal(dump.tenant.contacts.length, 0, '--no-seed starts without demo records');
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
