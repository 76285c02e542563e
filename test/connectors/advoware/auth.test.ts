/** Discovery answers, token answers and the typed errors of refused token requests (reference §2, §3, §7). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTokenAnswer, parseUtc } from '../../../src/connectors/advoware/auth.ts';
import { parseConfiguratorAnswer, withTrailingSlash } from '../../../src/connectors/advoware/discovery.ts';
import {
  AdvowareAuthError,
  tokenRequestFailure,
  vendorMessage,
} from '../../../src/connectors/advoware/errors.ts';

const NOW = Date.UTC(2026, 2, 1, 12, 0, 0);

describe('advoware discovery', () => {
  it('prefers connectorUrl over relayUrl and normalises the trailing slash', () => {
    assert.deepEqual(
      parseConfiguratorAnswer(
        {
          relayUrl: 'https://www2.advo-net.net:90/',
          connectorUrl: 'https://test.advo-net.org:88',
          securityGateway: 'https://security.advo-net.net/',
        },
        'K1',
      ),
      {
        apiBaseUrl: 'https://test.advo-net.org:88/',
        securityGatewayUrl: 'https://security.advo-net.net/',
        source: 'connectorUrl',
      },
    );
    const relayOnly = parseConfiguratorAnswer(
      { relayUrl: 'https://www2.advo-net.net:90//', connectorUrl: null, securityGateway: 'https://s/' },
      'K1',
    );
    assert.equal(relayOnly.apiBaseUrl, 'https://www2.advo-net.net:90/');
    assert.equal(relayOnly.source, 'relayUrl');
  });

  it('names what is missing', () => {
    assert.throws(
      () =>
        parseConfiguratorAnswer({ relayUrl: null, connectorUrl: '', securityGateway: 'https://s/' }, 'K1'),
      (error: unknown) =>
        error instanceof AdvowareAuthError &&
        error.code === 'ADVOWARE_DISCOVERY_FAILED' &&
        /connectorUrl or relayUrl/.test(error.message) &&
        /ADVOWARE_KANZLEI/.test(error.message),
    );
    assert.throws(() => parseConfiguratorAnswer('nope', 'K1'), AdvowareAuthError);
    assert.equal(withTrailingSlash('ftp://x'), null);
    assert.equal(withTrailingSlash('http://h:1/prefix'), 'http://h:1/prefix/');
  });
});

describe('advoware token answers', () => {
  it('uses expiration_utc minus the margin; a zone-less value is UTC', () => {
    const answer = { access_token: 't', expiration_utc: '2026-03-01T13:00:00.1234567' };
    assert.equal(parseUtc('2026-03-01T13:00:00'), Date.UTC(2026, 2, 1, 13, 0, 0));
    assert.deepEqual(parseTokenAnswer(answer, NOW, 120_000), {
      accessToken: 't',
      expiresAt: Date.UTC(2026, 2, 1, 13, 0, 0, 123) - 120_000,
    });
  });

  it('falls back to expires_in, then one hour, and caps the margin at half the lifetime', () => {
    assert.equal(parseTokenAnswer({ access_token: 't', expires_in: 600 }, NOW, 0).expiresAt, NOW + 600_000);
    assert.equal(parseTokenAnswer({ access_token: 't' }, NOW, 0).expiresAt, NOW + 3_600_000);
    assert.equal(
      parseTokenAnswer({ access_token: 't', expires_in: 60 }, NOW, 120_000).expiresAt,
      NOW + 30_000,
    );
  });

  it('still uses a token whose expiration_utc is past by our clock, briefly', () => {
    const skewed = parseTokenAnswer(
      { access_token: 't', expiration_utc: '2026-03-01T11:00:00Z' },
      NOW,
      120_000,
    );
    assert.equal(skewed.expiresAt, NOW + 30_000);
  });

  it('rejects an answer without access_token', () => {
    assert.throws(() => parseTokenAnswer({ expiration_utc: 'x' }, NOW, 0), AdvowareAuthError);
  });
});

describe('advoware token request failures', () => {
  const url = 'https://security.example/api/v1/Token';
  const cases: [unknown, string, boolean, RegExp][] = [
    ['Falscher Name oder falsches Kennwort', 'ADVOWARE_AUTH_FAILED', false, /ADVOWARE_PASSWORD/],
    [{ Message: 'Benutzer / Kennwort ungültig' }, 'ADVOWARE_AUTH_FAILED', false, /ADVOWARE_USER/],
    [{ message: 'Kanzlei K1 ist nicht angemeldet' }, 'ADVOWARE_CONNECTOR_OFFLINE', true, /Manager/],
    [{ error: 'Datenbank ist nicht registriert' }, 'ADVOWARE_NOT_REGISTERED', false, /ADVOWARE_DATABASE/],
    ['App ist nicht freigeschaltet', 'ADVOWARE_NOT_UNLOCKED', false, /ADVOWARE_APP_ID/],
    [
      { Message: 'Die HMAC512Signature ist ungültig' },
      'ADVOWARE_AUTH_FAILED',
      false,
      /ADVOWARE_API_KEY.*clock/,
    ],
    [{ title: 'Bad request' }, 'ADVOWARE_AUTH_FAILED', false, /ADVOWARE_API_KEY.*ADVOWARE_PASSWORD/],
  ];
  for (const [body, code, retryable, fix] of cases) {
    it(`${JSON.stringify(body)} -> ${code}`, () => {
      const error = tokenRequestFailure(url, 401, body);
      assert.equal(error.code, code);
      assert.equal(error.retryable, retryable);
      assert.match(error.message, fix);
      assert.ok(error.message.includes(vendorMessage(body)), 'the vendor words are kept');
    });
  }

  it('retries 5xx and 429 of the gateway', () => {
    assert.equal(tokenRequestFailure(url, 503, '').retryable, true);
    assert.equal(tokenRequestFailure(url, 429, null).retryable, true);
  });
});
