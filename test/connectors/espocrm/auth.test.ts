/**
 * EspoCRM request authentication: the X-Hmac-Authorization value against one computed independently with
 * node:crypto from the reference's formula (§1), the signed path rules, and the API key header.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  apiBaseUrl,
  authHeaders,
  hmacAuthorization,
  resourcePath,
} from '../../../src/connectors/espocrm/auth.ts';

const API_KEY = '7f2c9d4e1a8b3c6d5e0f9a8b7c6d5e4f';
const SECRET_KEY = '0a1b2c3d4e5f60718293a4b5c6d7e8f9';

/** base64( apiKey + ":" + hex(HMAC_SHA256(secretKey, METHOD + " " + path)) ), straight from the reference. */
function referenceHeader(method: string, path: string): string {
  const digest = createHmac('sha256', SECRET_KEY).update(`${method} ${path}`).digest('hex');
  return Buffer.from(`${API_KEY}:${digest}`).toString('base64');
}

describe('espocrm auth', () => {
  it('builds X-Hmac-Authorization exactly as the reference formula does', () => {
    for (const [method, path] of [
      ['GET', '/Account/5564764442a6d024c'],
      ['POST', '/Lead/action/convert'],
      ['PATCH', '/CBeteiligte/66a1b2c3d4e5f6789'],
    ] as const) {
      assert.equal(hmacAuthorization(method, path, API_KEY, SECRET_KEY), referenceHeader(method, path));
    }
  });

  it('signs the path after /api/v1 with its leading slash, without the query, lower-case hex', () => {
    const base = apiBaseUrl('https://crm.example.com');
    const url = new URL('Account?maxSize=20&where%5B0%5D%5Btype%5D=equals', base);
    assert.equal(resourcePath(url, base), '/Account');
    const headers = authHeaders({ mode: 'hmac', apiKey: API_KEY, secretKey: SECRET_KEY }, 'get', url, base);
    assert.deepEqual(headers, { 'x-hmac-authorization': referenceHeader('GET', '/Account') });
    const [value = ''] = Object.values(headers);
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    assert.match(decoded, /^[0-9a-f]{32}:[0-9a-f]{64}$/);
  });

  it('signs the same path for a site installed in a folder', () => {
    const base = apiBaseUrl('https://example.com/espo');
    assert.equal(base.toString(), 'https://example.com/espo/api/v1/');
    assert.equal(resourcePath(new URL('App/user', base), base), '/App/user');
    assert.throws(() => resourcePath(new URL('https://example.com/other/api/v1/App/user'), base), TypeError);
  });

  it('sends the key alone in X-Api-Key mode', () => {
    const base = apiBaseUrl('https://crm.example.com');
    assert.deepEqual(
      authHeaders({ mode: 'apiKey', apiKey: API_KEY }, 'GET', new URL('App/user', base), base),
      {
        'x-api-key': API_KEY,
      },
    );
  });
});
