/** The espocrm options schema and espoCrmEnv(): defaults, auth modes, webhook secrets in each form. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveEnvRefs } from '../../../src/config/secrets.ts';
import { espoCrmEnv, espoCrmOptionsSchema } from '../../../src/connectors/espocrm/options.ts';

const SECRET_A = '5f4dcc3b5aa765d61d8327deb882cf99';
const SECRET_B = 'e99a18c428cb38d5f260853678922e03';

describe('espocrm options', () => {
  it('applies defaults and normalises the site URL', () => {
    const options = espoCrmOptionsSchema.parse({
      baseUrl: 'https://crm.example.com/api/v1/',
      auth: { mode: 'apiKey', apiKey: 'key' },
    });
    assert.equal(options.baseUrl, 'https://crm.example.com');
    assert.equal(options.pageSize, 200);
    assert.equal(options.whereEncoding, 'searchParams');
    assert.equal(options.acceptLegacySignature, true);
    assert.deepEqual(options.entities, {});
  });

  it('reads webhook secrets as one secret, a map, or "id:secret,id:secret"', () => {
    const parse = (webhookSecrets: unknown) =>
      espoCrmOptionsSchema.parse({
        baseUrl: 'https://x.example',
        auth: { mode: 'apiKey', apiKey: 'k' },
        webhookSecrets,
      }).webhookSecrets;
    assert.equal(parse(SECRET_A), SECRET_A);
    assert.deepEqual(parse({ a1: SECRET_A }), { a1: SECRET_A });
    assert.deepEqual(parse(` a1:${SECRET_A}, b2:${SECRET_B} ,`), { a1: SECRET_A, b2: SECRET_B });
    for (const wrong of ['short', `a1:${SECRET_A},:${SECRET_B}`, `a1:short`, `a1:${SECRET_A},${SECRET_B}`]) {
      assert.equal(
        espoCrmOptionsSchema.safeParse({
          baseUrl: 'https://x.example',
          auth: { mode: 'apiKey', apiKey: 'k' },
          webhookSecrets: wrong,
        }).success,
        false,
        wrong,
      );
    }
  });

  it('rejects unknown keys, a page size over 200 and an HMAC auth without secret key', () => {
    const base = { baseUrl: 'https://x.example', auth: { mode: 'apiKey', apiKey: 'k' } };
    assert.equal(espoCrmOptionsSchema.safeParse({ ...base, pageSize: 201 }).success, false);
    assert.equal(espoCrmOptionsSchema.safeParse({ ...base, apikey: 'k' }).success, false);
    assert.equal(
      espoCrmOptionsSchema.safeParse({ ...base, auth: { mode: 'hmac', apiKey: 'k' } }).success,
      false,
    );
    assert.equal(espoCrmOptionsSchema.safeParse({ ...base, entities: { 'C/x': {} } }).success, false);
  });

  it('espoCrmEnv picks HMAC when ESPOCRM_SECRET_KEY is set and reports unset required variables', () => {
    const environment = {
      ESPOCRM_URL: 'https://crm.example.com',
      ESPOCRM_API_KEY: 'api-key',
      ESPOCRM_SECRET_KEY: 'secret-key',
      ESPOCRM_WEBHOOK_SECRET: `a1:${SECRET_A}`,
    };
    const resolved = resolveEnvRefs(espoCrmEnv(environment), environment);
    assert.deepEqual(resolved.problems, []);
    const options = espoCrmOptionsSchema.parse(resolved.value);
    assert.deepEqual(options.auth, { mode: 'hmac', apiKey: 'api-key', secretKey: 'secret-key' });
    assert.deepEqual(options.webhookSecrets, { a1: SECRET_A });

    const keyOnly = resolveEnvRefs(espoCrmEnv({ ESPOCRM_API_KEY: 'k' }), { ESPOCRM_API_KEY: 'k' });
    assert.deepEqual(
      keyOnly.problems.map((problem) => problem.path),
      ['baseUrl'],
    );
    assert.deepEqual((keyOnly.value as { auth: unknown }).auth, { mode: 'apiKey', apiKey: 'k' });
    assert.equal('webhookSecrets' in (keyOnly.value as object), false);
  });

  it('espoCrmEnv signs in as a user when there is no API key but ESPOCRM_USERNAME, and wants the password', () => {
    const environment = { ESPOCRM_URL: 'https://crm.example.com', ESPOCRM_USERNAME: 'admin' };
    const resolved = resolveEnvRefs(espoCrmEnv(environment), environment);
    assert.deepEqual(
      resolved.problems.map((problem) => problem.path),
      ['auth.password'],
    );
    const complete = { ...environment, ESPOCRM_PASSWORD: 'pw' };
    const options = espoCrmOptionsSchema.parse(resolveEnvRefs(espoCrmEnv(complete), complete).value);
    assert.deepEqual(options.auth, { mode: 'password', username: 'admin', password: 'pw' });
    assert.throws(() =>
      espoCrmOptionsSchema.parse({ ...options, auth: { mode: 'password', username: 'a:b', password: 'pw' } }),
    );
  });
});
