/**
 * The `http` enricher against a fake Company-Explorer-style service: the request contract (method, path,
 * auth, body), the shared error mapping, and `check()`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createEnricher, enricherConfigSchema } from '../../src/enrichment/index.ts';
import type { Enricher } from '../../src/ports/enricher.ts';
import type { Logger } from '../../src/ports/logger.ts';
import { jsonBody, startFakeServer } from './fake-server.ts';
import type { FakeServer } from './fake-server.ts';
import {
  SAMPLE_ANSWER,
  SAMPLE_REQUEST,
  TEST_API_KEY,
  describeTransportScenarios,
  recordingLogger,
} from './transport-scenarios.ts';

const logger = recordingLogger();

function httpEnricher(
  origin: string,
  settings: Record<string, unknown> = {},
  log: Logger = logger,
): Enricher {
  const config = enricherConfigSchema.parse({ provider: 'http', url: `${origin}/api/enrich`, ...settings });
  return createEnricher(config, { logger: log });
}

describeTransportScenarios({
  name: 'http',
  makeEnricher: httpEnricher,
  successReply: (answer) => ({ status: 200, body: answer }),
});

describe('http enricher: request contract', () => {
  let server: FakeServer;
  let enricher: Enricher;
  before(async () => {
    server = await startFakeServer({ status: 200, body: { ...SAMPLE_ANSWER, confidence: 0.9 } });
    enricher = httpEnricher(server.origin, { apiKey: TEST_API_KEY, headers: { 'X-Tenant': 'Cust26720' } });
  });
  after(async () => {
    await enricher.close();
    await server.close();
  });

  it('POSTs the documented JSON with Bearer auth and extra headers, and ignores unknown answer keys', async () => {
    const result = await enricher.enrich(SAMPLE_REQUEST);
    assert.deepEqual(result, SAMPLE_ANSWER);
    const request = server.requests.at(-1);
    assert.equal(request?.method, 'POST');
    assert.equal(request?.url, '/api/enrich');
    assert.equal(request?.headers.authorization, `Bearer ${TEST_API_KEY}`);
    assert.equal(request?.headers['x-tenant'], 'Cust26720');
    assert.match(String(request?.headers['content-type']), /^application\/json/);
    assert.deepEqual(jsonBody(request), {
      company: SAMPLE_REQUEST.company,
      person: SAMPLE_REQUEST.person,
      verticals: SAMPLE_REQUEST.verticals,
      language: 'de',
    });
  });

  it('leaves out person for a company-only request', async () => {
    const { person: _person, ...companyOnly } = SAMPLE_REQUEST;
    await enricher.enrich(companyOnly);
    assert.equal('person' in jsonBody(server.requests.at(-1)), false);
  });

  it('sends no Authorization header without an apiKey', async () => {
    const open = httpEnricher(server.origin);
    try {
      await open.enrich(SAMPLE_REQUEST);
      assert.equal(server.requests.at(-1)?.headers.authorization, undefined);
    } finally {
      await open.close();
    }
  });
});

describe('http enricher: check()', () => {
  let server: FakeServer;
  before(async () => {
    server = await startFakeServer();
  });
  after(() => server.close());

  it('is ok when healthUrl answers 2xx, not ok when it answers 5xx', async () => {
    const enricher = httpEnricher(server.origin, { healthUrl: `${server.origin}/health` });
    try {
      server.script({ status: 200, body: { status: 'up' } });
      assert.equal((await enricher.check()).ok, true);
      assert.equal(server.requests.at(-1)?.url, '/health');
      assert.equal(server.requests.at(-1)?.method, 'GET');
      server.script({ status: 503, body: 'down' });
      assert.equal((await enricher.check()).ok, false);
    } finally {
      await enricher.close();
    }
  });

  it('without healthUrl accepts a 405 to GET as reachable, but not a 401', async () => {
    const enricher = httpEnricher(server.origin, { apiKey: TEST_API_KEY });
    try {
      server.script({ status: 405 });
      const reachable = await enricher.check();
      assert.equal(reachable.ok, true);
      assert.match(reachable.message, /healthUrl/);
      server.script({ status: 401 });
      const refused = await enricher.check();
      assert.equal(refused.ok, false);
      assert.match(refused.message, /credentials/);
    } finally {
      await enricher.close();
    }
  });
});
