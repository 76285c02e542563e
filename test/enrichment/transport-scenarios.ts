/**
 * The error mapping both HTTP-based enrichers share (src/enrichment/json-http.ts), run against each of them
 * with a fake server: retries after 5xx, 429 with Retry-After, 401 rejected, non-JSON bodies, timeouts,
 * aborts, verticals outside the list, and that neither secrets nor keys end up in logs or messages.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { EnricherError } from '../../src/core/errors.ts';
import type { Enricher, EnrichmentRequest, EnrichmentResult } from '../../src/ports/enricher.ts';
import type { Logger } from '../../src/ports/logger.ts';
import { eventually } from '../support/eventually.ts';
import { startFakeServer } from './fake-server.ts';
import type { FakeServer, Reply } from './fake-server.ts';

/** The API key the scenarios configure; it must never appear in logs or error messages. */
export const TEST_API_KEY = 'sk-test-0123456789-secret';

/** A company request with a person, offering the simulator's verticals. */
export const SAMPLE_REQUEST: EnrichmentRequest = {
  company: {
    name: 'Elbtal Kliniken GmbH',
    urls: ['https://www.elbtal-kliniken.example'],
    country: 'Deutschland',
    saleHeadings: ['Wartung OMNIE 12 Monate'],
  },
  person: { firstName: 'Anna', lastName: 'Müller', jobTitle: 'Einkaufsleiterin' },
  verticals: ['Leisure & Tourism', 'Healthcare', 'Logistics'],
  language: 'de',
};

/** A result as a service would send it. */
export const SAMPLE_ANSWER: EnrichmentResult = {
  vertical: 'Healthcare',
  summary: 'Elbtal Kliniken betreibt Krankenhäuser im Elbtal.',
  companyOpener: 'Wie entlasten Sie Ihre Stationen?',
  personOpener: 'Frau Müller, als Einkaufsleiterin kennen Sie das Thema.',
};

/** One log line, as recorded by {@link recordingLogger}. */
export interface LogEntry {
  readonly level: string;
  /** The line's fields besides level and message, as pino wrote them (errors serialised). */
  readonly object: object;
  readonly message: string | undefined;
}

/**
 * The real logger (pino, at every level) writing into `entries` instead of stdout, so tests can look for
 * secrets in exactly what would be logged.
 */
export function recordingLogger(entries: LogEntry[] = []): Logger & { readonly entries: LogEntry[] } {
  const destination = {
    write: (line: string) => {
      const { level, msg, ...object } = JSON.parse(line) as { level: number; msg?: string };
      entries.push({ level: pino.levels.labels[level] ?? String(level), object, message: msg });
    },
  };
  return Object.assign(pino({ level: 'trace' }, destination), { entries });
}

/** What the scenarios need to know about a provider. */
export interface ProviderUnderTest {
  readonly name: 'http' | 'openai';
  /** Creates the enricher against the fake server, with the given transport settings. */
  makeEnricher(
    origin: string,
    settings: { timeoutMs?: number; maxRetries?: number; maxRetryAfterMs?: number; apiKey?: string },
    logger: Logger,
  ): Enricher;
  /** The provider's success reply carrying `answer`. */
  successReply(answer: unknown): Reply;
}

/** Asserts that `promise` rejects with an EnricherError of `code` and returns it. */
export async function rejectsWithCode(promise: Promise<unknown>, code: string): Promise<EnricherError> {
  const error = await promise.then(
    () => assert.fail(`expected ${code}, but the call succeeded`),
    (reason: unknown) => reason,
  );
  assert.ok(error instanceof EnricherError, `expected an EnricherError, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
  return error;
}

/** Registers the shared scenarios for `provider`. */
export function describeTransportScenarios(provider: ProviderUnderTest): void {
  describe(`${provider.name} enricher: transport and error mapping`, () => {
    let server: FakeServer;
    const logger = recordingLogger();
    const enrichers: Enricher[] = [];
    const make = (settings: Parameters<ProviderUnderTest['makeEnricher']>[1] = {}): Enricher => {
      const enricher = provider.makeEnricher(server.origin, { apiKey: TEST_API_KEY, ...settings }, logger);
      enrichers.push(enricher);
      return enricher;
    };
    const requestCount = (() => {
      let seen = 0;
      // The count of requests since the previous call, so each scenario sees only its own.
      return () => {
        const count = server.requests.length - seen;
        seen = server.requests.length;
        return count;
      };
    })();

    before(async () => {
      server = await startFakeServer();
    });
    after(async () => {
      await Promise.all(enrichers.map((enricher) => enricher.close()));
      await server.close();
      const logged = JSON.stringify(logger.entries);
      assert.ok(!logged.includes(TEST_API_KEY), 'the API key must never be logged');
    });

    it('retries a 5xx with backoff, then succeeds', async () => {
      requestCount();
      server.script({ status: 503, body: { error: 'busy' } }, provider.successReply(SAMPLE_ANSWER));
      const result = await make({ maxRetries: 2 }).enrich(SAMPLE_REQUEST);
      assert.deepEqual(result, SAMPLE_ANSWER);
      assert.equal(requestCount(), 2);
      assert.ok(logger.entries.some((entry) => entry.level === 'warn' && /503/.test(entry.message ?? '')));
    });

    it('gives up after maxRetries 5xx answers with retryable ENRICHER_UNAVAILABLE', async () => {
      requestCount();
      server.script({ status: 502, body: 'bad gateway' });
      const error = await rejectsWithCode(
        make({ maxRetries: 1 }).enrich(SAMPLE_REQUEST),
        'ENRICHER_UNAVAILABLE',
      );
      assert.equal(error.retryable, true);
      assert.match(error.message, /502.*2 attempt/);
      assert.equal(requestCount(), 2);
    });

    it('waits for a 429 Retry-After and tries again', async () => {
      requestCount();
      server.script(
        { status: 429, headers: { 'retry-after': '0' }, body: { error: { message: 'slow down' } } },
        provider.successReply(SAMPLE_ANSWER),
      );
      assert.deepEqual(await make({ maxRetries: 1 }).enrich(SAMPLE_REQUEST), SAMPLE_ANSWER);
      assert.equal(requestCount(), 2);
    });

    it('ends a 429 with ENRICHER_UNAVAILABLE carrying retryAfterMs when retries are used up', async () => {
      requestCount();
      server.script({
        status: 429,
        headers: { 'retry-after': '0' },
        body: { error: { message: 'slow down' } },
      });
      const error = await rejectsWithCode(
        make({ maxRetries: 1 }).enrich(SAMPLE_REQUEST),
        'ENRICHER_UNAVAILABLE',
      );
      assert.equal(error.retryable, true);
      assert.equal(error.retryAfterMs, 0);
      assert.equal(requestCount(), 2);
    });

    it('leaves a long Retry-After to the queue instead of waiting in the call', async () => {
      requestCount();
      server.script({ status: 429, headers: { 'retry-after': '120' } });
      const error = await rejectsWithCode(
        make({ maxRetries: 3, maxRetryAfterMs: 5_000 }).enrich(SAMPLE_REQUEST),
        'ENRICHER_UNAVAILABLE',
      );
      assert.equal(error.retryAfterMs, 120_000);
      assert.equal(requestCount(), 1);
    });

    it('answers 401 with ENRICHER_REJECTED, not retried, without the key in the message', async () => {
      requestCount();
      server.script({ status: 401, body: { error: { message: 'Incorrect API key provided' } } });
      const error = await rejectsWithCode(
        make({ maxRetries: 2 }).enrich(SAMPLE_REQUEST),
        'ENRICHER_REJECTED',
      );
      assert.equal(error.retryable, false);
      assert.match(error.message, /401: Incorrect API key provided/);
      assert.ok(!error.message.includes(TEST_API_KEY));
      assert.equal(requestCount(), 1);
    });

    it('answers a 2xx body that is not JSON with ENRICHER_BAD_RESPONSE', async () => {
      server.script({ status: 200, body: '<html>maintenance</html>' });
      const error = await rejectsWithCode(make().enrich(SAMPLE_REQUEST), 'ENRICHER_BAD_RESPONSE');
      assert.equal(error.retryable, true);
      assert.match(error.message, /not JSON: <html>maintenance<\/html>/);
    });

    it('names the wrong fields of an answer that does not fit the contract', async () => {
      server.script(provider.successReply({ vertical: 42, summary: 'ok', companyOpener: null }));
      const error = await rejectsWithCode(make().enrich(SAMPLE_REQUEST), 'ENRICHER_BAD_RESPONSE');
      assert.match(error.message, /vertical: .*string/);
      assert.match(error.message, /personOpener/);
    });

    it('times out a server that never answers with ENRICHER_UNAVAILABLE', async () => {
      requestCount();
      server.script('hang');
      const error = await rejectsWithCode(
        make({ timeoutMs: 50, maxRetries: 1 }).enrich(SAMPLE_REQUEST),
        'ENRICHER_UNAVAILABLE',
      );
      assert.match(error.message, /no answer within 50 ms/);
      assert.equal(requestCount(), 2);
    });

    it('stops at once with the reason when the caller aborts', async () => {
      const before = server.requests.length;
      server.script('hang');
      const controller = new AbortController();
      const call = make({ timeoutMs: 60_000 }).enrich(SAMPLE_REQUEST, { signal: controller.signal });
      await eventually(() => server.requests.length > before);
      const reason = new Error('lease lost');
      controller.abort(reason);
      await assert.rejects(call, (error) => error === reason);
      requestCount();
    });

    it('an already aborted signal stops the call at once, before any request', async () => {
      const before = server.requests.length;
      server.script(provider.successReply(SAMPLE_ANSWER));
      const reason = new Error('worker stopping');
      const call = make().enrich(SAMPLE_REQUEST, { signal: AbortSignal.abort(reason) });
      await assert.rejects(call, (error) => error === reason);
      assert.equal(server.requests.length, before, 'no request reached the server');
      assert.equal((await make().enrich(SAMPLE_REQUEST)).vertical, 'Healthcare', 'the next call works');
    });

    it('drops a vertical outside the offered list and matches the list case-insensitively', async () => {
      server.script(provider.successReply({ ...SAMPLE_ANSWER, vertical: 'Aerospace' }));
      assert.equal((await make().enrich(SAMPLE_REQUEST)).vertical, null);
      server.script(provider.successReply({ ...SAMPLE_ANSWER, vertical: ' healthcare ' }));
      assert.equal((await make().enrich(SAMPLE_REQUEST)).vertical, 'Healthcare');
    });

    it('proposes no person opener for a request without a person, and reads blank texts as null', async () => {
      server.script(provider.successReply({ ...SAMPLE_ANSWER, summary: '   ' }));
      const { person: _person, ...companyOnly } = SAMPLE_REQUEST;
      const result = await make().enrich(companyOnly);
      assert.equal(result.personOpener, null);
      assert.equal(result.summary, null);
    });

    it('reports a connection error as ENRICHER_UNAVAILABLE and check() as not ok', async () => {
      const closed = await startFakeServer();
      const origin = closed.origin;
      await closed.close();
      const enricher = provider.makeEnricher(origin, { maxRetries: 0 }, logger);
      enrichers.push(enricher);
      const error = await rejectsWithCode(enricher.enrich(SAMPLE_REQUEST), 'ENRICHER_UNAVAILABLE');
      assert.match(error.message, /connection failed/);
      assert.equal((await enricher.check()).ok, false);
    });
  });
}
