/**
 * The `openai` enricher against a fake chat-completions server: the request (path, auth, model, messages,
 * strict JSON-schema response_format), parsing of the message content, the shared error mapping, a local
 * model server without a key, and `check()`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createEnricher, enricherConfigSchema } from '../../src/enrichment/index.ts';
import type { Enricher } from '../../src/ports/enricher.ts';
import type { Logger } from '../../src/ports/logger.ts';
import { jsonBody, startFakeServer } from './fake-server.ts';
import type { FakeServer, Reply } from './fake-server.ts';
import {
  SAMPLE_ANSWER,
  SAMPLE_REQUEST,
  TEST_API_KEY,
  describeTransportScenarios,
  recordingLogger,
  rejectsWithCode,
} from './transport-scenarios.ts';

const logger = recordingLogger();
const MODEL = 'gpt-test-mini';

function openAiEnricher(
  origin: string,
  settings: Record<string, unknown> = {},
  log: Logger = logger,
): Enricher {
  const config = enricherConfigSchema.parse({
    provider: 'openai',
    baseUrl: `${origin}/v1/`,
    model: MODEL,
    ...settings,
  });
  return createEnricher(config, { logger: log });
}

/** A chat completion whose message content is `content` (JSON-encoded unless it is a string). */
function completion(content: unknown, extra: { finish_reason?: string; refusal?: string } = {}): Reply {
  return {
    status: 200,
    body: {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      model: MODEL,
      choices: [
        {
          index: 0,
          finish_reason: extra.finish_reason ?? 'stop',
          message: {
            role: 'assistant',
            content: typeof content === 'string' ? content : JSON.stringify(content),
            ...(extra.refusal !== undefined && { refusal: extra.refusal }),
          },
        },
      ],
    },
  };
}

describeTransportScenarios({ name: 'openai', makeEnricher: openAiEnricher, successReply: completion });

describe('openai enricher: chat-completions request', () => {
  let server: FakeServer;
  before(async () => {
    server = await startFakeServer(completion(SAMPLE_ANSWER));
  });
  after(() => server.close());

  it('POSTs {baseUrl}/chat/completions with the model, the facts and a strict JSON schema', async () => {
    const enricher = openAiEnricher(server.origin, { apiKey: TEST_API_KEY });
    try {
      assert.deepEqual(await enricher.enrich(SAMPLE_REQUEST), SAMPLE_ANSWER);
    } finally {
      await enricher.close();
    }
    const request = server.requests.at(-1);
    assert.equal(request?.method, 'POST');
    assert.equal(request?.url, '/v1/chat/completions');
    assert.equal(request?.headers.authorization, `Bearer ${TEST_API_KEY}`);
    const body = jsonBody(request) as {
      model: string;
      temperature: number;
      messages: { role: string; content: string }[];
      response_format: {
        type: string;
        json_schema: {
          name: string;
          strict: boolean;
          schema: {
            required: string[];
            additionalProperties: boolean;
            properties: Record<string, { enum?: unknown[] }>;
          };
        };
      };
    };
    assert.equal(body.model, MODEL);
    assert.equal(body.temperature, 0);
    assert.deepEqual(
      body.messages.map((message) => message.role),
      ['system', 'user'],
    );
    const facts = body.messages[1]?.content ?? '';
    assert.match(facts, /"Leisure & Tourism","Healthcare","Logistics"/);
    assert.match(facts, /Elbtal Kliniken GmbH/);
    assert.match(facts, /Einkaufsleiterin/);
    assert.match(facts, /Language of summary and openers: de/);
    assert.equal(body.response_format.type, 'json_schema');
    assert.equal(body.response_format.json_schema.strict, true);
    const schema = body.response_format.json_schema.schema;
    assert.equal(schema.additionalProperties, false);
    assert.deepEqual(schema.required, ['vertical', 'summary', 'companyOpener', 'personOpener']);
    assert.deepEqual(schema.properties['vertical']?.enum, [...SAMPLE_REQUEST.verticals, null]);
  });

  it('sends no Authorization header to a local model server without apiKey, and a custom system prompt', async () => {
    server.script(completion(SAMPLE_ANSWER));
    const enricher = openAiEnricher(server.origin, { systemPrompt: 'Antworte knapp.', temperature: 0.3 });
    try {
      await enricher.enrich(SAMPLE_REQUEST);
    } finally {
      await enricher.close();
    }
    const request = server.requests.at(-1);
    assert.equal(request?.headers.authorization, undefined);
    const body = jsonBody(request) as { temperature: number; messages: { content: string }[] };
    assert.equal(body.temperature, 0.3);
    assert.equal(body.messages[0]?.content, 'Antworte knapp.');
  });

  it('tells the model there is no person, and forces personOpener to null in the schema', async () => {
    server.script(completion({ ...SAMPLE_ANSWER, personOpener: null }));
    const enricher = openAiEnricher(server.origin);
    const { person: _person, ...companyOnly } = SAMPLE_REQUEST;
    try {
      assert.equal((await enricher.enrich(companyOnly)).personOpener, null);
    } finally {
      await enricher.close();
    }
    const body = jsonBody(server.requests.at(-1)) as {
      messages: { content: string }[];
      response_format: { json_schema: { schema: { properties: Record<string, { type: unknown }> } } };
    };
    assert.match(body.messages[1]?.content ?? '', /No person is given/);
    assert.equal(body.response_format.json_schema.schema.properties['personOpener']?.type, 'null');
  });
});

describe('openai enricher: message content', () => {
  let server: FakeServer;
  let enricher: Enricher;
  before(async () => {
    server = await startFakeServer();
    enricher = openAiEnricher(server.origin, { maxRetries: 0 });
  });
  after(async () => {
    await enricher.close();
    await server.close();
  });

  it('unwraps JSON a local model put in a Markdown code fence', async () => {
    server.script(completion(`\`\`\`json\n${JSON.stringify(SAMPLE_ANSWER)}\n\`\`\``));
    assert.deepEqual(await enricher.enrich(SAMPLE_REQUEST), SAMPLE_ANSWER);
  });

  it('answers content that is not JSON with ENRICHER_BAD_RESPONSE', async () => {
    server.script(completion('Die Firma ist ein Krankenhaus.'));
    const error = await rejectsWithCode(enricher.enrich(SAMPLE_REQUEST), 'ENRICHER_BAD_RESPONSE');
    assert.match(error.message, /message content with a body that is not JSON: Die Firma/);
  });

  it('reports a refusal, a cut-off answer and a body without choices as ENRICHER_BAD_RESPONSE', async () => {
    server.script(completion('', { refusal: 'I cannot help with that.' }));
    assert.match(
      (await rejectsWithCode(enricher.enrich(SAMPLE_REQUEST), 'ENRICHER_BAD_RESPONSE')).message,
      /refused: I cannot help/,
    );
    server.script(completion('{"vertical": "Heal', { finish_reason: 'length' }));
    assert.match(
      (await rejectsWithCode(enricher.enrich(SAMPLE_REQUEST), 'ENRICHER_BAD_RESPONSE')).message,
      /cut off/,
    );
    server.script({ status: 200, body: { object: 'error' } });
    assert.match(
      (await rejectsWithCode(enricher.enrich(SAMPLE_REQUEST), 'ENRICHER_BAD_RESPONSE')).message,
      /not a chat completion.*choices/,
    );
  });
});

describe('openai enricher: check()', () => {
  let server: FakeServer;
  let enricher: Enricher;
  before(async () => {
    server = await startFakeServer();
    enricher = openAiEnricher(server.origin, { apiKey: TEST_API_KEY });
  });
  after(async () => {
    await enricher.close();
    await server.close();
  });

  it('lists {baseUrl}/models and says whether the model is there', async () => {
    server.script({ status: 200, body: { object: 'list', data: [{ id: MODEL }, { id: 'other' }] } });
    const found = await enricher.check();
    assert.equal(found.ok, true);
    assert.match(found.message, /model gpt-test-mini is available/);
    assert.equal(server.requests.at(-1)?.url, '/v1/models');
    assert.equal(server.requests.at(-1)?.headers.authorization, `Bearer ${TEST_API_KEY}`);
    server.script({ status: 200, body: { object: 'list', data: [{ id: 'other' }] } });
    assert.match((await enricher.check()).message, /not listed/);
  });

  it('is not ok when the key is refused', async () => {
    server.script({ status: 401, body: { error: { message: 'Incorrect API key provided' } } });
    assert.equal((await enricher.check()).ok, false);
  });
});
