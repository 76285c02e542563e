import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { z } from 'zod';
import { ConfigError } from '../../src/core/errors.ts';
import { DEFAULTS, env, loadConfig, validateConfig } from '../../src/config/index.ts';
import type { FlowTypeSchema } from '../../src/config/index.ts';
import type { ConnectorFactory } from '../../src/ports/connector.ts';

const fakeConnector: ConnectorFactory<unknown> = {
  kind: 'fake',
  optionsSchema: z.strictObject({ secret: z.string().min(16), region: z.enum(['eu', 'us']).default('eu') }),
  create: () => {
    throw new Error('not used');
  },
};
const connectors = new Map([['fake', fakeConnector]]);
const flowTypes = new Map<string, FlowTypeSchema>([
  ['inspect', { type: 'inspect', optionsSchema: z.strictObject({}) }],
  ['counting', { type: 'counting', optionsSchema: z.strictObject({ every: z.number().int().positive() }) }],
]);
const base = { connectors, flowTypes, cwd: '/srv/app' };

function problemsOf(raw: unknown, environment: NodeJS.ProcessEnv = {}): { path: string; message: string }[] {
  try {
    validateConfig(raw, { ...base, environment }, 'test');
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    assert.equal(error.code, 'CONFIG_INVALID');
    return [...error.problems];
  }
  assert.fail('config was accepted');
}

describe('config validation', () => {
  it('applies every default to an empty config', () => {
    const config = validateConfig({}, { ...base, environment: {} }, 'test');
    assert.equal(config.server.port, DEFAULTS.server.port);
    assert.equal(config.server.host, '127.0.0.1');
    assert.equal(config.queue.maxAttempts, 5);
    assert.deepEqual(config.queue.backoff, DEFAULTS.queue.backoff);
    assert.equal(config.store.path, '/srv/app/data/crmsync.db', 'store path resolved against cwd');
    assert.equal(config.connections.size, 0);
  });

  it('defaults the server timeouts and refuses a headers timeout longer than the request timeout', () => {
    assert.deepEqual(validateConfig({}, { ...base, environment: {} }, 'test').server.timeouts, {
      headersMs: 10_000,
      requestMs: 30_000,
      keepAliveMs: 5_000,
    });
    const problems = problemsOf({ server: { timeouts: { headersMs: 5_000, requestMs: 1_000 } } });
    assert.deepEqual(
      problems.map((problem) => problem.path),
      ['server.timeouts.headersMs'],
    );
  });

  it('resolves env() references, validates connector options and remembers secrets for redaction', () => {
    const config = validateConfig(
      {
        connections: { crm: { connector: 'fake', options: { secret: env('FAKE_SECRET') } } },
        flows: { watch: { type: 'inspect', connections: ['crm'] } },
      },
      { ...base, environment: { FAKE_SECRET: 's3cr3t-value-long-enough' } },
      'test',
    );
    assert.deepEqual(config.connections.get('crm')?.options, {
      secret: 's3cr3t-value-long-enough',
      region: 'eu',
    });
    assert.deepEqual(config.flows.get('watch')?.connections, ['crm']);
    assert.deepEqual(config.secrets, ['s3cr3t-value-long-enough']);
  });

  it('reports every problem at once, each with its path', () => {
    const problems = problemsOf({
      server: { port: 'eighty', hots: 'x' },
      queue: { maxAttempts: 0 },
    });
    const paths = problems.map((problem) => problem.path).sort();
    assert.deepEqual(paths, ['queue.maxAttempts', 'server', 'server.port']);
    assert.match(problems.find((problem) => problem.path === 'server')?.message ?? '', /hots/);
  });

  it('reports unset environment variables, unknown connectors, flow types and connections with paths', () => {
    const problems = problemsOf({
      connections: {
        crm: { connector: 'fake', options: { secret: env('MISSING_SECRET') } },
        other: { connector: 'nope' },
      },
      flows: {
        a: { type: 'inspect', connections: ['crm', 'ghost'] },
        b: { type: 'teleport', connections: ['crm'] },
        c: { type: 'counting', connections: ['crm'], every: -1 },
      },
    });
    const byPath = new Map(problems.map((problem) => [problem.path, problem.message]));
    assert.match(byPath.get('connections.crm.options.secret') ?? '', /MISSING_SECRET is not set/);
    assert.match(byPath.get('connections.other.connector') ?? '', /unknown connector "nope"; known: fake/);
    assert.match(byPath.get('flows.a.connections.1') ?? '', /no connection named "ghost"/);
    assert.match(byPath.get('flows.b.type') ?? '', /unknown flow type "teleport"/);
    assert.ok(
      byPath.has('flows.c.every'),
      `flow option problems carry their path: ${[...byPath.keys()].join(', ')}`,
    );
  });

  it('requires a token when the server is not bound to loopback', () => {
    const problems = problemsOf({ server: { host: '0.0.0.0' } });
    assert.deepEqual(
      problems.map((problem) => problem.path),
      ['server.token'],
    );
    validateConfig(
      { server: { host: '0.0.0.0', token: 'a-long-enough-token' } },
      { ...base, environment: {} },
      'test',
    );
    validateConfig({ server: { host: '127.0.0.5' } }, { ...base, environment: {} }, 'test');
  });
});

describe('config files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'crmsync-config-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const defineConfigUrl = new URL('../../src/index.ts', import.meta.url).href;

  it('imports a TypeScript config file and reads .env without overriding the real environment', async () => {
    writeFileSync(
      join(dir, 'crmsync.config.ts'),
      `import { defineConfig, env } from '${defineConfigUrl}';
export default defineConfig({
  server: { port: Number(env('UNUSED', '1').fallback) + 9000 },
  connections: { crm: { connector: 'fake', options: { secret: env('FROM_DOTENV') } } },
});\n`,
    );
    writeFileSync(join(dir, '.env'), 'FROM_DOTENV=value-from-dotenv-file\nCRMSYNC_TEST_PRESET=from-file\n');
    process.env['CRMSYNC_TEST_PRESET'] = 'from-environment';
    try {
      const config = await loadConfig({ connectors, flowTypes, cwd: dir });
      assert.equal(config.server.port, 9001);
      assert.deepEqual(config.connections.get('crm')?.options, {
        secret: 'value-from-dotenv-file',
        region: 'eu',
      });
      assert.equal(
        process.env['CRMSYNC_TEST_PRESET'],
        'from-environment',
        'the real environment wins over .env',
      );
    } finally {
      delete process.env['CRMSYNC_TEST_PRESET'];
      delete process.env['FROM_DOTENV'];
    }
  });

  it('names a missing file and a file without default export', async () => {
    await assert.rejects(
      loadConfig({ connectors, flowTypes, cwd: dir, file: 'nope.ts', environment: {} }),
      /does not exist/,
    );
    writeFileSync(join(dir, 'empty.config.ts'), 'export const x = 1;\n');
    await assert.rejects(
      loadConfig({ connectors, flowTypes, cwd: dir, file: 'empty.config.ts', environment: {} }),
      /no default export/,
    );
  });
});
