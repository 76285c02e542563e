/**
 * The `crmsync` command as an operator runs it: a real child process, real config files, a real SQLite file.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { openSqliteBackend } from '../../src/adapters/sqlite/index.ts';
import { makeTempDir } from '../support/temp-dir.ts';

const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const ENTRY = new URL('../../src/index.ts', import.meta.url).href;
const run = promisify(execFile);

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function crmsync(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

describe('crmsync CLI', () => {
  const temp = makeTempDir('crmsync-cli-');
  let goodConfig = '';
  let dbPath = '';
  before(() => {
    dbPath = join(temp.path, 'crmsync.db');
    goodConfig = join(temp.path, 'good.config.ts');
    writeFileSync(
      goodConfig,
      `import { defineConfig, env } from '${ENTRY}';
export default defineConfig({
  store: { kind: 'sqlite', path: ${JSON.stringify(dbPath)} },
  connections: {
    source: { connector: 'generic', options: { secret: env('CLI_TEST_SECRET') } },
    lonely: { connector: 'generic', options: { secret: 'another-secret-0123456789' } },
  },
  flows: { watch: { type: 'inspect', connections: ['source'] } },
});\n`,
    );
  });
  after(() => temp.remove());

  it('prints help for every command and exits 0', async () => {
    const root = await crmsync(['--help']);
    assert.equal(root.code, 0);
    for (const command of ['serve', 'jobs', 'doctor'])
      assert.match(root.stdout, new RegExp(`\\b${command}\\b`));
    const jobs = await crmsync(['jobs', '--help']);
    assert.equal(jobs.code, 0);
    for (const command of ['list', 'show', 'replay'])
      assert.match(jobs.stdout, new RegExp(`\\b${command}\\b`));
    assert.equal((await crmsync(['jobs', 'list', '--help'])).code, 0);
  });

  it('refuses an invalid config with every problem and its path, exit code 2', async () => {
    const bad = join(temp.path, 'bad.config.ts');
    writeFileSync(
      bad,
      `export default {
  server: { port: 'eighty' },
  queue: { maxAttempts: 0 },
  connections: { source: { connector: 'generic', options: { secret: 'short' } } },
  flows: { watch: { type: 'teleport', connections: ['nowhere'] } },
};\n`,
    );
    const result = await crmsync(['serve', '--config', bad]);
    assert.equal(result.code, 2, result.stderr);
    for (const path of [
      'server.port',
      'queue.maxAttempts',
      'connections.source.options.secret',
      'flows.watch.connections.0',
      'flows.watch.type',
    ]) {
      assert.ok(result.stderr.includes(`- ${path}:`), `stderr names ${path}:\n${result.stderr}`);
    }
  });

  it('doctor gives one verdict per line, warns about an unused connection, never shows secrets', async () => {
    const secret = 'cli-secret-value-0123456789';
    const result = await crmsync(['doctor', '--config', goodConfig], { CLI_TEST_SECRET: secret });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /^ok\s+config\s/m);
    assert.match(result.stdout, /^ok\s+store\s.*sqlite/m);
    assert.match(result.stdout, /^ok\s+connection source\s/m);
    assert.match(result.stdout, /^WARN\s+connection lonely\s.*no flow/m);
    assert.ok(!result.stdout.includes(secret), 'secret not printed');

    const json = await crmsync(['doctor', '--config', goodConfig, '--json'], { CLI_TEST_SECRET: secret });
    const report = JSON.parse(json.stdout) as { ok: boolean; checks: { name: string; verdict: string }[] };
    assert.equal(report.ok, true);
  });

  it('doctor fails with exit code 1 and names the unset variable', async () => {
    const result = await crmsync(['doctor', '--config', goodConfig], { CLI_TEST_SECRET: '' });
    assert.equal(result.code, 1);
    assert.match(
      result.stdout,
      /^FAIL\s+config\s+connections\.source\.options\.secret: environment variable CLI_TEST_SECRET is not set/m,
    );
  });

  it("doctor checks every enrich flow's enricher and fails when it is unreachable", async () => {
    const config = join(temp.path, 'enrich.config.ts');
    writeFileSync(
      config,
      `import { defineConfig } from '${ENTRY}';
export default defineConfig({
  store: { kind: 'sqlite', path: ${JSON.stringify(join(temp.path, 'enrich.db'))} },
  connections: {
    so: {
      connector: 'superoffice',
      options: {
        clientId: 'id', clientSecret: 'secret', refreshToken: 'token', contextIdentifier: 'Cust1',
        authBaseUrl: 'http://127.0.0.1:9', requestTimeoutMs: 1000, maxRetries: 0,
      },
    },
  },
  flows: {
    local: { type: 'enrich', connections: ['so'] },
    remote: {
      type: 'enrich',
      connections: ['so'],
      enricher: { provider: 'http', url: 'http://127.0.0.1:9/enrich', timeoutMs: 1000, maxRetries: 0 },
    },
  },
});\n`,
    );
    const result = await crmsync(['doctor', '--config', config]);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /^ok\s+enricher of local\s+rules: /m);
    assert.match(result.stdout, /^FAIL\s+enricher of remote\s+http: /m);
  });

  it('lists, shows and replays DEAD jobs', async () => {
    const env = { CLI_TEST_SECRET: 'cli-secret-value-0123456789' };
    const backend = openSqliteBackend({ path: dbPath, durability: 'process' });
    let deadId = '';
    try {
      const first = await backend.queue.enqueue({
        flow: 'watch',
        recordKey: 'watch|source/Contact/1',
        payload: { n: 1 },
      });
      await backend.queue.enqueue({ flow: 'watch', recordKey: 'watch|source/Contact/2', payload: { n: 2 } });
      const job = await backend.queue.dequeue({ workerId: 'test', leaseMs: 60_000 });
      assert.equal(job?.id, first.jobId);
      const runId = await backend.store.runs.start({
        jobId: job.id,
        flow: 'watch',
        ref: { connection: 'source', entityType: 'Contact', id: '1' },
        attempt: 1,
        startedAt: Date.now(),
      });
      const ref = { connection: 'source', entityType: 'Contact', id: '1' };
      await backend.store.runs.recordIntent(runId, [{ ref, field: 'name', before: null, after: 'Acme' }]);
      await backend.store.runs.finish(runId, {
        outcome: 'FAILED',
        error: { code: 'BOOM', message: 'exploded' },
        finishedAt: Date.now(),
      });
      await backend.queue.fail(job.id, job.leaseToken, {
        error: { code: 'BOOM', message: 'exploded' },
        retryable: false,
      });
      deadId = job.id;
    } finally {
      await backend.close();
    }

    const listed = await crmsync(['jobs', 'list', '--config', goodConfig, '--state', 'dead', '--json'], env);
    assert.equal(listed.code, 0, listed.stderr);
    const dead = JSON.parse(listed.stdout) as { id: string; state: string }[];
    assert.deepEqual(
      dead.map((job) => [job.id, job.state]),
      [[deadId, 'DEAD']],
    );

    const table = await crmsync(['jobs', 'list', '--config', goodConfig], env);
    assert.match(table.stdout, /^ID\s+STATE\s+FLOW\s+RECORD/m);
    assert.match(table.stdout, /DEAD\s+watch\s+source\/Contact\/1\s+1\/5.*BOOM: exploded/);
    const runs = await crmsync(['runs', 'list', '--config', goodConfig, '--record', 'source/Contact/1'], env);
    assert.match(
      runs.stdout,
      /FAILED\s+BOOM: exploded\s+1 attempted\s/,
      'a failed run shows the writes it attempted',
    );

    const shown = await crmsync(['jobs', 'show', deadId, '--config', goodConfig, '--json'], env);
    const detail = JSON.parse(shown.stdout) as {
      job: { id: string };
      runs: { outcome: string; error: { code: string } }[];
    };
    assert.equal(detail.job.id, deadId);
    assert.deepEqual(
      detail.runs.map((runItem) => [runItem.outcome, runItem.error.code]),
      [['FAILED', 'BOOM']],
    );

    const missing = await crmsync(['jobs', 'show', 'no-such-job', '--config', goodConfig], env);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /No job with id no-such-job/);

    const badState = await crmsync(['jobs', 'list', '--config', goodConfig, '--state', 'sleeping'], env);
    assert.equal(badState.code, 2);
    assert.match(badState.stderr, /--state: unknown state SLEEPING/);

    const replayed = await crmsync(['jobs', 'replay', deadId, '--config', goodConfig, '--json'], env);
    assert.equal(replayed.code, 0, replayed.stderr);
    const [again] = JSON.parse(replayed.stdout) as { id: string; state: string; attempts: number }[];
    assert.deepEqual([again?.id, again?.state, again?.attempts], [deadId, 'PENDING', 0]);
  });
  it('runs list shows what happened to which record, by name, filtered by outcome, record and age', async () => {
    const env = { CLI_TEST_SECRET: 'cli-secret-value-0123456789' };
    const backend = openSqliteBackend({ path: dbPath, durability: 'process' });
    try {
      const ref = { connection: 'source', entityType: 'Contact', id: '77' };
      const finished = async (outcome: 'COMPLETED' | 'SKIPPED', reason: string) => {
        const runId = await backend.store.runs.start({
          jobId: '900',
          flow: 'watch',
          ref,
          attempt: 1,
          startedAt: Date.now(),
        });
        await backend.store.runs.setNames(runId, { displayName: 'Bremer Abenteuerland', ownerName: 'RKAB' });
        await backend.store.runs.finish(runId, { outcome, reason, apiCalls: 2, finishedAt: Date.now() });
      };
      await finished('COMPLETED', 'enriched: wrote vertical');
      await finished('SKIPPED', 'echo: made by the API user');
    } finally {
      await backend.close();
    }
    const table = await crmsync(
      ['runs', 'list', '--config', goodConfig, '--record', 'source/Contact/77'],
      env,
    );
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^ID\s+STARTED\s+FLOW\s+RECORD\s+NAME\s+OWNER\s+OUTCOME\s+REASON/m);
    assert.match(table.stdout, /Bremer Abenteuerland\s+RKAB\s+SKIPPED\s+echo: made by the API user/);

    const skipped = await crmsync(
      ['runs', 'list', '--config', goodConfig, '--outcome', 'skipped', '--since', '1h', '--json'],
      env,
    );
    const runs = JSON.parse(skipped.stdout) as { outcome: string; displayName: string; apiCalls: number }[];
    assert.deepEqual(
      runs.map((run) => [run.outcome, run.displayName, run.apiCalls]),
      [['SKIPPED', 'Bremer Abenteuerland', 2]],
    );

    const clustered = await crmsync(
      ['runs', 'list', '--config', goodConfig, '--record', 'source/Contact/77', '--clusters'],
      env,
    );
    assert.match(
      clustered.stdout,
      /Bremer Abenteuerland\s+RKAB\s+COMPLETED\s+1 COMPLETED, 1 SKIPPED\s+enriched: wrote vertical/,
      'the success outshines the echo skipped after it',
    );

    const bad = await crmsync(['runs', 'list', '--config', goodConfig, '--since', 'yesterday'], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--since: expected a duration such as 30m, 6h or 2d/);
  });
});
