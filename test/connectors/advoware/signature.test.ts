/**
 * The token request signature (reference §3): the public test vector, recomputed here independently with
 * node:crypto, and the request body built around it.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { advowareOptionsSchema } from '../../../src/connectors/advoware/options.ts';
import {
  requestTimestamp,
  signTokenRequest,
  tokenRequestBody,
} from '../../../src/connectors/advoware/signature.ts';

const VECTOR = {
  apiKey: Buffer.from('test-secret-key', 'utf8').toString('base64'),
  appId: 'app-123',
  nonce: 'nonce-abc',
  timestamp: '2026-08-30T00:00:00.000Z',
  product: 64,
  expected: 'o7rz9KmoXZs550HfzO6ffiG17XwiPmlBHlksUYKZ3jcfolELow51Fw5KlrQqCK5y41aIValDjrh1iQ2GZ2WtqQ==',
};

/** The construction written out again, without the code under test. */
function independentSignature(message: string, base64Key: string): string {
  return createHmac('sha512', Buffer.from(base64Key, 'base64')).update(message).digest('base64');
}

describe('advoware token signature', () => {
  it('reproduces the reference test vector', () => {
    const computed = independentSignature(
      `${VECTOR.product}:${VECTOR.appId}:${VECTOR.nonce}:${VECTOR.timestamp}`,
      VECTOR.apiKey,
    );
    assert.equal(computed, VECTOR.expected, 'the vector itself, recomputed with node:crypto');
    assert.equal(signTokenRequest(VECTOR), VECTOR.expected);
    assert.equal(signTokenRequest(VECTOR).length, 88);
  });

  it('signs with the decoded key, not the base64 text', () => {
    const withText = createHmac('sha512', VECTOR.apiKey)
      .update(`${VECTOR.product}:${VECTOR.appId}:${VECTOR.nonce}:${VECTOR.timestamp}`)
      .digest('base64');
    assert.notEqual(signTokenRequest(VECTOR), withText);
  });

  it('formats RequestTimeStamp like the vendor example: UTC, seven fraction digits, Z', () => {
    assert.equal(requestTimestamp(Date.UTC(2021, 0, 29, 14, 4, 26, 795)), '2021-01-29T14:04:26.7950000Z');
    assert.match(requestTimestamp(Date.now()), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/);
  });

  it('builds the PascalCase body and signs exactly the timestamp it sends', () => {
    const options = advowareOptionsSchema.parse({
      kanzlei: 'KANZLEI1',
      database: 'ADVO',
      user: 'ABC',
      password: 'pw-secret',
      appId: VECTOR.appId,
      apiKey: VECTOR.apiKey,
    });
    const body = tokenRequestBody(options, { nonce: VECTOR.nonce, timestamp: VECTOR.timestamp });
    assert.deepEqual(body, {
      AppID: 'app-123',
      Kanzlei: 'KANZLEI1',
      Database: 'ADVO',
      User: 'ABC',
      Role: 2,
      Product: 64,
      Password: 'pw-secret',
      Nonce: 'nonce-abc',
      HMAC512Signature: VECTOR.expected,
      RequestTimeStamp: VECTOR.timestamp,
    });
    const random = tokenRequestBody(options, { timestamp: VECTOR.timestamp });
    const nonce = random['Nonce'];
    assert.ok(typeof nonce === 'string');
    assert.match(nonce, /^[0-9a-f-]{36}$/, 'a random UUID nonce by default');
    assert.equal(
      random['HMAC512Signature'],
      independentSignature(`64:app-123:${nonce}:${VECTOR.timestamp}`, VECTOR.apiKey),
    );
  });
});
