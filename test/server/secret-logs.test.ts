// No secret reaches the log at any level. The server runs at every pino level with a generic, a SuperOffice
// (shared-token mode) and an EspoCRM connection and a bearer token; requests carry the configured secrets in
// every place a client may put them (Authorization, the shared-token header, ?token=, API key headers,
// signature headers), accepted, refused, malformed for the HTTP parser, too large, and failing to commit; the
// whole log output is then searched for each secret, as text and as logged bytes.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { espocrmConnector, espoCrmOptionsSchema } from '../../src/connectors/espocrm/index.ts';
import { superofficeConnector } from '../../src/connectors/superoffice/index.ts';
import { systemClock } from '../../src/ports/clock.ts';
import { eventually } from '../support/eventually.ts';
import { openRaw } from '../support/raw-http.ts';
import { testOptions } from '../connectors/superoffice/support.ts';
import { SECRET, startTestServer } from './harness.ts';
import type { TestServer } from './harness.ts';

const SERVER_TOKEN = 'server-bearer-token-7f3a9c1e';
const SO_TOKEN = 'so-shared-token-b81d4e20aa';
const ESPO_SECRET = 'espo-webhook-secret-c0ffee42';
const ESPO_API_KEY = 'espo-api-key-9d8c7b6a5f';
const SECRETS = [SECRET, SERVER_TOKEN, SO_TOKEN, ESPO_SECRET, ESPO_API_KEY];
const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

/**
 * The forms a secret can take in a JSON log line: as text, and as a logged Buffer's bytes (pino writes a
 * Buffer as `{"type":"Buffer","data":[...]}`; fastify's default handler logged raw requests that way), base64
 * or hex.
 */
function encodings(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  return [secret, [...bytes].join(','), bytes.toString('base64'), bytes.toString('hex')];
}

/** Every header a secret might travel in, each carrying one. */
const SECRET_HEADERS: Record<string, string> = {
  authorization: `Bearer ${SERVER_TOKEN}`,
  'x-webhook-token': SO_TOKEN,
  'x-api-key': ESPO_API_KEY,
  'x-crmsync-signature': SECRET,
  'x-superoffice-signature': SO_TOKEN,
  signature: ESPO_SECRET,
  'x-hmac-authorization': ESPO_API_KEY,
  'espo-authorization': ESPO_SECRET,
};

function startServer(level: string, sink: Writable): Promise<TestServer> {
  const logger = pino({ level }, sink);
  return startTestServer({
    token: SERVER_TOKEN,
    host: '0.0.0.0',
    logger,
    bodyLimitBytes: 4_096,
    routes: new Map([
      ['source', ['sync']],
      ['so', ['sync']],
      ['espo', ['sync']],
    ]),
    connectors: ({ backend, metrics }) => {
      const common = { clock: systemClock, logger, apiCalls: metrics, state: backend.store.connectorState };
      return new Map([
        [
          'so',
          superofficeConnector.create({
            ...common,
            connection: 'so',
            options: testOptions('http://127.0.0.1:9', { webhookToken: SO_TOKEN }),
          }),
        ],
        [
          'espo',
          espocrmConnector.create({
            ...common,
            connection: 'espo',
            options: espoCrmOptionsSchema.parse({
              baseUrl: 'http://127.0.0.1:9',
              auth: { mode: 'apiKey', apiKey: ESPO_API_KEY },
              webhookSecrets: ESPO_SECRET,
            }),
          }),
        ],
      ]);
    },
  });
}

/** Sends every kind of request, each with secrets in it. */
async function sendEverything(server: TestServer): Promise<void> {
  const query = `?token=${SO_TOKEN}&apiKey=${ESPO_API_KEY}`;
  const contact = JSON.stringify({ Event: 'contact.changed', Entity: 'contact', PrimaryKey: 7 });
  const post = (path: string, body: string, headers: Record<string, string> = SECRET_HEADERS) =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
  // Accepted, a dead letter, refused (401), unknown connection and route (404), too large (413).
  assert.equal((await post(`/webhooks/so${query}`, contact)).status, 200);
  assert.equal((await post(`/webhooks/so${query}`, '{"broken":')).status, 200);
  assert.equal((await post('/webhooks/so', contact, { 'x-webhook-token': `${SO_TOKEN}-wrong` })).status, 401);
  assert.equal((await post(`/webhooks/espo${query}`, '[{"id":"a"}]')).status, 401);
  assert.equal((await post(`/webhooks/source${query}`, '{}')).status, 401);
  assert.equal((await post(`/webhooks/nope${query}`, '{}')).status, 404);
  assert.equal((await fetch(`${server.url}/nowhere${query}`, { headers: SECRET_HEADERS })).status, 404);
  assert.equal((await post(`/webhooks/so${query}`, `"${'x'.repeat(5_000)}"`)).status, 413);
  // Operator routes with the right and a wrong bearer token.
  assert.equal((await fetch(`${server.url}/metrics${query}`, { headers: SECRET_HEADERS })).status, 200);
  const wrongBearer = { ...SECRET_HEADERS, authorization: `Bearer ${SERVER_TOKEN}x` };
  assert.equal((await fetch(`${server.url}/metrics`, { headers: wrongBearer })).status, 401);
  // A commit that fails (503 and an error log line).
  server.queue.failCommits = true;
  assert.equal((await post(`/webhooks/so${query}`, contact.replace('7', '8'))).status, 503);
  server.queue.failCommits = false;
  // Requests the HTTP parser refuses: fastify's default handler logged their raw bytes at trace.
  const headerLines = Object.entries(SECRET_HEADERS)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  for (const raw of [
    `GET /metrics${query} HTTP/1.1\r\nHost: crmsync\r\n${headerLines}Bad Header Line\r\n\r\n`,
    `GET /metrics${query} HTTP/1.1\r\nHost: crmsync\r\n${headerLines}X-Big: ${'x'.repeat(20_000)}\r\n\r\n`,
  ]) {
    const connection = await openRaw(server.url);
    connection.send(raw);
    await eventually(() => connection.closed());
  }
}

describe('secrets in the log', () => {
  for (const level of LEVELS) {
    it(`writes none of the configured secrets at level ${level}`, async () => {
      let logged = '';
      const sink = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          logged += chunk.toString('utf8');
          callback();
        },
      });
      const server = await startServer(level, sink);
      try {
        await sendEverything(server);
      } finally {
        await server.close();
      }
      if (level === 'debug' || level === 'trace') {
        assert.match(logged, /"msg":"request refused"/, 'the debug lines were written');
        assert.match(logged, /"msg":"malformed request refused"/, 'the parser errors were logged');
      }
      for (const secret of SECRETS) {
        for (const form of encodings(secret))
          assert.ok(!logged.includes(form), `the ${level} log contains ${secret} (as ${form})`);
      }
    });
  }
});
