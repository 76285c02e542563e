/** The `sandbox` section of the config: defaults, and the checks of the connection its webhook feeds. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULTS, env, validateConfig } from '../../src/config/index.ts';
import type { FlowTypeSchema } from '../../src/config/index.ts';
import { genericConnector } from '../../src/connectors/generic/index.ts';
import { superofficeConnector } from '../../src/connectors/superoffice/index.ts';
import { ConfigError } from '../../src/core/errors.ts';
import { inspectOptionsSchema } from '../../src/engine/flows/inspect.ts';
import type { ConnectorFactory } from '../../src/ports/connector.ts';

const connectors = new Map<string, ConnectorFactory<unknown>>([
  [genericConnector.kind, genericConnector],
  [superofficeConnector.kind, superofficeConnector],
]);
const flowTypes = new Map<string, FlowTypeSchema>([
  ['inspect', { type: 'inspect', optionsSchema: inspectOptionsSchema }],
]);
const options = { connectors, flowTypes, cwd: '/srv/app', environment: {} };

const SECRET = 'sandbox-test-webhook-secret-0123';
const superoffice = (extra: Record<string, unknown> = {}) => ({
  connector: 'superoffice',
  options: {
    clientId: 'config-test-client',
    clientSecret: 'config-test-client-secret',
    refreshToken: 'config-test-refresh-token',
    contextIdentifier: 'Cust4711',
    ...extra,
  },
});

function problemsOf(raw: unknown): Map<string, string> {
  try {
    validateConfig(raw, options, 'test');
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return new Map(error.problems.map((problem) => [problem.path, problem.message]));
  }
  assert.fail('config was accepted');
}

const WEBHOOK_PATH = 'sandbox.superoffice.webhook.connection';

describe('config: sandbox', () => {
  it('is absent unless configured, and applies every default to an empty superoffice section', () => {
    assert.equal(validateConfig({}, options, 'test').sandbox, undefined);
    const config = validateConfig({ sandbox: { superoffice: {} } }, options, 'test');
    assert.deepEqual(config.sandbox, {
      superoffice: {
        port: DEFAULTS.sandbox.superoffice.port,
        seed: true,
        traffic: { enabled: true, intervalMs: 3_000, users: ['RKAB', 'RCGO', 'WACK'], seed: 1 },
      },
    });
  });

  it('accepts a webhook for a superoffice connection with a webhookSecret and defaults its events', () => {
    const config = validateConfig(
      {
        connections: { so: superoffice({ webhookSecret: SECRET }) },
        sandbox: { superoffice: { port: 0, webhook: { connection: 'so' }, traffic: { enabled: false } } },
      },
      options,
      'test',
    );
    assert.deepEqual(config.sandbox?.superoffice?.webhook, {
      connection: 'so',
      events: ['contact.created', 'contact.changed', 'person.created', 'person.changed'],
    });
    assert.equal(config.sandbox?.superoffice?.traffic.enabled, false);
  });

  it('reports a webhook connection that does not exist, with its path', () => {
    const problems = problemsOf({ sandbox: { superoffice: { webhook: { connection: 'ghost' } } } });
    assert.match(problems.get(WEBHOOK_PATH) ?? '', /no connection named "ghost"/);
  });

  it('reports a webhook connection of another connector', () => {
    const problems = problemsOf({
      connections: { demo: { connector: 'generic', options: { secret: SECRET } } },
      sandbox: { superoffice: { webhook: { connection: 'demo' } } },
    });
    assert.match(problems.get(WEBHOOK_PATH) ?? '', /uses the generic connector.*superoffice connection/);
  });

  it('reports a webhook connection without webhookSecret', () => {
    const problems = problemsOf({
      connections: { so: superoffice() },
      sandbox: { superoffice: { webhook: { connection: 'so' } } },
    });
    assert.match(problems.get(WEBHOOK_PATH) ?? '', /has no webhookSecret/);
  });

  it('reports an unset webhookSecret variable once, at the connection, not again at the sandbox', () => {
    const problems = problemsOf({
      connections: { so: superoffice({ webhookSecret: env('SANDBOX_TEST_UNSET_SECRET') }) },
      sandbox: { superoffice: { webhook: { connection: 'so' } } },
    });
    assert.deepEqual([...problems.keys()], ['connections.so.options.webhookSecret']);
  });

  it('lists sandbox problems together with problems of other sections', () => {
    const problems = problemsOf({
      server: { port: 'eighty' },
      sandbox: {
        superoffice: {
          port: 70_000,
          webhook: { connection: 'ghost' },
          traffic: { users: [], intervalMs: 1 },
          colour: 'blue',
        },
      },
    });
    assert.deepEqual([...problems.keys()].sort(), [
      'sandbox.superoffice',
      'sandbox.superoffice.port',
      'sandbox.superoffice.traffic.intervalMs',
      'sandbox.superoffice.traffic.users',
      WEBHOOK_PATH,
      'server.port',
    ]);
    assert.match(problems.get('sandbox.superoffice') ?? '', /colour/);
  });
});
