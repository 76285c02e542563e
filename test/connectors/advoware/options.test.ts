/** Options of an advoware connection: defaults, validation, and advowareEnv(). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveEnvRefs } from '../../../src/config/secrets.ts';
import {
  DEFAULT_CONFIGURATOR_URL,
  advowareEnv,
  advowareOptionsSchema,
} from '../../../src/connectors/advoware/options.ts';

const environment = {
  ADVOWARE_KANZLEI: 'KANZLEI1',
  ADVOWARE_DATABASE: 'ADVO',
  ADVOWARE_USER: 'ABC',
  ADVOWARE_PASSWORD: 'pw',
  ADVOWARE_APP_ID: 'app-123',
  ADVOWARE_API_KEY: Buffer.from('key').toString('base64'),
};

describe('advoware options', () => {
  it('reads the ADVOWARE_* variables and applies the defaults', () => {
    const { value, problems } = resolveEnvRefs(advowareEnv(environment), environment);
    assert.deepEqual(problems, []);
    const options = advowareOptionsSchema.parse(value);
    assert.equal(options.kanzlei, 'KANZLEI1');
    assert.equal(options.configuratorUrl, DEFAULT_CONFIGURATOR_URL);
    assert.equal(options.role, 2);
    assert.equal(options.product, 64);
    assert.equal(options.betNrField, 'betNr');
    assert.equal(options.requestsPerSecond, 5);
    assert.deepEqual(options.kommKzHints, { mobil: 3 });
    assert.equal(options.webhookSecret, undefined);
  });

  it('takes the configurator override and webhook secret when set', () => {
    const withOptional = {
      ...environment,
      ADVOWARE_CONFIGURATOR_URL: 'http://127.0.0.1:9000/AdvonetConfigurator/api/Url',
      ADVOWARE_WEBHOOK_SECRET: 'a-secret-of-sixteen-chars',
    };
    const options = advowareOptionsSchema.parse(
      resolveEnvRefs(advowareEnv(withOptional), withOptional).value,
    );
    assert.equal(options.configuratorUrl, 'http://127.0.0.1:9000/AdvonetConfigurator/api/Url');
    assert.equal(options.webhookSecret, 'a-secret-of-sixteen-chars');
  });

  it('names every missing required variable with its path', () => {
    const { ADVOWARE_PASSWORD: _password, ADVOWARE_API_KEY: _key, ...partial } = environment;
    const { problems } = resolveEnvRefs(advowareEnv(partial), partial, ['connections', 'advo', 'options']);
    assert.deepEqual(problems.map((problem) => problem.path).sort(), [
      'connections.advo.options.apiKey',
      'connections.advo.options.password',
    ]);
    assert.ok(problems.every((problem) => /ADVOWARE_(PASSWORD|API_KEY)/.test(problem.message)));
  });

  it('rejects an API key that is not base64 and a kommKz hint out of range', () => {
    const base = { kanzlei: 'K', database: 'D', user: 'U', password: 'p', appId: 'a' };
    const badKey = advowareOptionsSchema.safeParse({ ...base, apiKey: 'not base64!' });
    assert.equal(badKey.success, false);
    assert.match(JSON.stringify(badKey.error?.issues), /standard base64/);
    const badHint = advowareOptionsSchema.safeParse({ ...base, apiKey: 'a2V5', kommKzHints: { mobil: 13 } });
    assert.equal(badHint.success, false);
  });
});
