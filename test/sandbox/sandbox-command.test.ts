/**
 * `crmsync sandbox` as an operator runs it: a child process that starts the vendor simulators, prints how
 * to reach it, answers on the printed URL, and ends cleanly on SIGTERM; with `--traffic`, simulated users
 * work in it. The command is registered on a bare commander program here, as main.ts does.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { eventually } from '../support/eventually.ts';

const SANDBOX = fileURLToPath(new URL('../../src/cli/commands/sandbox.ts', import.meta.url));

/** Runs `crmsync sandbox <args>` in a child process; `output()` is what it wrote so far. */
function runSandbox(args: readonly string[]) {
  const script = [
    "import { Command } from 'commander';",
    `import { registerSandboxCommand } from ${JSON.stringify(SANDBOX)};`,
    "const program = new Command('crmsync');",
    'registerSandboxCommand(program, () => ({}));',
    `await program.parseAsync(${JSON.stringify(['sandbox', ...args])}, { from: 'user' });`,
  ].join('\n');
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('../../', import.meta.url)),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

test('crmsync sandbox prints the simulator URL and credentials, serves, and stops on SIGTERM', async () => {
  const { child, exited, output } = runSandbox(['--superoffice-port', '0', '--no-seed']);
  try {
    const url = await eventually(() => /auth host \/ admin:\s+(http:\/\/\S+)/.exec(output())?.[1], {
      timeoutMs: 15_000,
    });
    assert.match(output(), /export SO_CLIENT_ID=crmsync-sim-client/);
    assert.match(output(), /export SO_REFRESH_TOKEN=crmsync-sim-refresh-token/);
    assert.match(output(), /curl -s http:\/\/127\.0\.0\.1:\d+\/api\/state\/Cust12345/);
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

test('crmsync sandbox --traffic lets the simulated users work and logs each action', async () => {
  const { child, exited, output } = runSandbox(['--superoffice-port', '0', '--traffic', '20']);
  try {
    await eventually(() => (output().match(/"component":"traffic","action":/g)?.length ?? 0) >= 3, {
      timeoutMs: 15_000,
    });
    assert.match(output(), /"action":"create-company","entity":"Contact","id":\d+,"user":"(RKAB|RCGO|WACK)"/);
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

test('crmsync sandbox starts the EspoCRM and Advoware simulators too, with seeded demo data', async () => {
  const { child, exited, output } = runSandbox([
    '--superoffice-port',
    '0',
    '--espocrm-port',
    '0',
    '--advoware-port',
    '0',
  ]);
  try {
    await eventually(() => output().includes('Running; press Ctrl+C to stop.'), { timeoutMs: 20_000 });
    assert.match(output(), /== SuperOffice simulator ==/);
    const espoSection = output().slice(output().indexOf('== EspoCRM simulator =='));
    const espoApi = /API:\s+(http:\/\/\S+\/api\/v1\/)/.exec(espoSection)?.[1];
    const apiKey = /export ESPOCRM_API_KEY=(\S+)/.exec(output())?.[1];
    assert.ok(espoApi !== undefined && apiKey !== undefined, output());
    const list = (await (
      await fetch(`${espoApi}CBeteiligte?maxSize=1`, { headers: { 'X-Api-Key': apiKey } })
    ).json()) as { total: number };
    assert.ok(list.total >= 100, `EspoCRM CBeteiligte: ${list.total}`);

    const configurator = /configurator:\s+(http:\/\/\S+)/.exec(output())?.[1];
    assert.ok(configurator !== undefined, output());
    const urls = (await (await fetch(configurator)).json()) as { connectorUrl: string };
    assert.match(urls.connectorUrl, /^http:\/\/127\.0\.0\.1:\d+\/.*\/$/);
    const admin = new URL('/_sim/state', configurator);
    const state = (await (await fetch(admin)).json()) as {
      counts: { beteiligte: number; withKommunikation: number };
    };
    assert.ok(state.counts.beteiligte >= 200, `Advoware Beteiligte: ${state.counts.beteiligte}`);
    assert.ok(state.counts.withKommunikation > 0, 'some Beteiligte have communications');
    assert.match(output(), /export ADVOWARE_API_KEY=\S+/);
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
