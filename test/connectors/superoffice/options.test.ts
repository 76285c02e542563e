import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateConfig } from '../../../src/config/index.ts';
import { ConfigError } from '../../../src/core/errors.ts';
import { superOfficeEnv } from '../../../src/connectors/superoffice/options.ts';
import { connectorFactories, flowTypes } from '../../../src/cli/registry.ts';

const base = { connectors: connectorFactories, flowTypes, cwd: '/srv/app' };

function load(environment: NodeJS.ProcessEnv) {
  const raw = { connections: { so: { connector: 'superoffice', options: superOfficeEnv(environment) } } };
  return validateConfig(raw, { ...base, environment }, 'test');
}

const seedEnvironment = {
  SO_CLIENT_ID: 'client-1',
  SO_CLIENT_SECRET: 'secret-1',
  SO_REFRESH_TOKEN: 'refresh-1',
  SO_CONTEXT_IDENTIFIER: 'Cust26720',
};

describe('superoffice options from the environment', () => {
  it("reads the seeds' SO_* variables, and online3 means the online environment", () => {
    const config = load({ ...seedEnvironment, SO_ENVIRONMENT: 'online3', SO_REDIRECT_URI: 'https://x/cb' });
    const options = config.connections.get('so')?.options as Record<string, unknown>;
    assert.equal(options['clientId'], 'client-1');
    assert.equal(options['contextIdentifier'], 'Cust26720');
    assert.equal(options['environment'], 'online');
    assert.equal(options['redirectUri'], 'https://x/cb');
    assert.equal(options['authBaseUrl'], undefined);
    assert.equal(options['requestsPerSecond'], 10);
  });

  it('takes the auth host override, webhook credentials and API user id when set', () => {
    const config = load({
      ...seedEnvironment,
      SO_AUTH_BASE_URL: 'http://127.0.0.1:9000',
      SO_WEBHOOK_SECRET: 'a-secret-of-sixteen-chars',
      SO_API_ASSOCIATE_ID: '528',
    });
    const options = config.connections.get('so')?.options as Record<string, unknown>;
    assert.equal(options['authBaseUrl'], 'http://127.0.0.1:9000');
    assert.equal(options['webhookSecret'], 'a-secret-of-sixteen-chars');
    assert.equal(options['apiAssociateId'], 528);
    assert.equal(options['environment'], 'online');
  });

  it('names every missing required variable with its config path', () => {
    const { SO_CLIENT_SECRET: _secret, SO_REFRESH_TOKEN: _token, ...partial } = seedEnvironment;
    assert.throws(
      () => load(partial),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        const messages = error.problems.map((problem) => `${problem.path}: ${problem.message}`);
        assert.ok(messages.some((m) => /connections\.so\.options\.clientSecret: .*SO_CLIENT_SECRET/.test(m)));
        assert.ok(messages.some((m) => /connections\.so\.options\.refreshToken: .*SO_REFRESH_TOKEN/.test(m)));
        return true;
      },
    );
  });
});
