/**
 * The shared vendor HTTP loop (src/connectors/shared/vendor-http.ts) on its own, against a scripted local
 * server and a test vendor whose hooks record what the loop asked of them. Backoff and Retry-After waits go
 * through the injected `sleep`, which records the wait and returns at once, and jitter is fixed at the middle
 * (random() = 0.5), so the waits are exact and no test waits for them in real time.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import {
  VendorApiError,
  VendorAuthError,
  VendorWriteAmbiguousError,
} from '../../../src/connectors/shared/api-error.ts';
import type { VendorApiErrorOptions } from '../../../src/connectors/shared/api-error.ts';
import { VendorHttpClient, bearerAttempt } from '../../../src/connectors/shared/vendor-http.ts';
import type {
  BearerSession,
  Query,
  VendorHttpHooks,
  VendorHttpLimits,
  VendorRequest,
} from '../../../src/connectors/shared/vendor-http.ts';
import type { Sleep } from '../../../src/connectors/shared/abortable.ts';
import { sleep as timerSleep } from '../../../src/connectors/shared/abortable.ts';
import { InProcessApiBudgets } from '../../../src/connectors/shared/api-budget.ts';
import { withCallSignal } from '../../../src/connectors/shared/call-signal.ts';
import type { ApiBudgets } from '../../../src/ports/api-budget.ts';
import type { ApiCallRecorder } from '../../../src/ports/connector.ts';
import { eventually } from '../../support/eventually.ts';
import { ManualClock } from '../../support/manual-clock.ts';
import { startScriptedServer, unreachableUrl } from './scripted-server.ts';
import type { ScriptedAnswer, ScriptedServer } from './scripted-server.ts';
import { recordedWaits } from '../../support/recorded-waits.ts';

/** A call of the test vendor: a path below the session's API base. */
interface TestCall extends VendorRequest {
  readonly path: string;
  readonly query?: Query;
}

/** The test vendor's API error. */
class TestApiError extends VendorApiError {
  constructor(message: string, options: VendorApiErrorOptions) {
    super('TEST_API_ERROR', message, options);
  }
}

/** The test vendor's auth error: what a 401 becomes when a fresh session was refused too. */
class TestAuthError extends VendorAuthError {
  constructor(message: string, status: number) {
    super('TEST_AUTH_FAILED', message, { status });
  }
}

type ApiCall = Parameters<ApiCallRecorder['record']>[0];

/** What the loop asked of the test vendor's hooks. */
interface HookLog {
  sessions: number;
  /** Attempts the loop prepared: each is sent right after it was prepared. */
  prepared: number;
  /** The access token each re-authentication was given as rejected. */
  readonly reauthenticated: string[];
  /** The API base each rediscovery was given as current. */
  readonly rediscovered: string[];
  unreachable: number;
  /** Every answer handed to errorFromResponse, with its extra. */
  readonly errorAnswers: { status: number; retryAfterMs: number | undefined }[];
}

/** Which optional hooks the test vendor has; each defaults to present. */
interface OptionalHooks {
  readonly reauthenticate?: boolean;
  readonly rediscover?: boolean;
  readonly onUnreachable?: boolean;
}

interface HarnessOptions {
  readonly limits?: Partial<VendorHttpLimits>;
  /** Replaces the recorded waits (e.g. to abort inside one, or to hold a pause open). */
  readonly sleep?: Sleep;
  /** The process's budgets, to share them between two clients of one connection. */
  readonly apiBudgets?: ApiBudgets;
  readonly hooks?: OptionalHooks;
  /** The API base of the first session; default the scripted server's `/api/`. */
  readonly apiBaseUrl?: string;
}

/** A client of the test vendor wired to a scripted server, with everything it did recorded. */
interface Harness {
  readonly client: VendorHttpClient<TestCall, BearerSession>;
  readonly server: ScriptedServer;
  readonly clock: ManualClock;
  readonly apiCalls: ApiCall[];
  /** Every wait the loop asked for (backoff and Retry-After), in ms. */
  readonly sleeps: number[];
  readonly hooks: HookLog;
}

/**
 * Generous, so that only the tests that script a hung request ever see a timeout; a fast bucket, so that it
 * never holds a call back in real time (the bucket is tested on its own, with injected time).
 */
const LIMITS: VendorHttpLimits = {
  requestsPerSecond: 1_000,
  maxRetries: 2,
  maxRateLimitWaitMs: 10_000,
  requestTimeoutMs: 5_000,
};
/** Short enough that a hung request fails fast; the tests never measure it. */
const SHORT_TIMEOUT_MS = 50;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Hooks like a real vendor's: bearer sessions, POST is not idempotent, 401 maps to the auth error. */
function testHooks(
  server: ScriptedServer,
  first: BearerSession,
  optional: OptionalHooks,
  log: HookLog,
): VendorHttpHooks<TestCall, BearerSession> {
  let issued = 1;
  return {
    session: () => {
      log.sessions += 1;
      return Promise.resolve(first);
    },
    prepare: (call, session) => {
      log.prepared += 1;
      return bearerAttempt(session, call.path, call.query);
    },
    isIdempotent: (call) => call.method !== 'POST',
    ...(optional.reauthenticate !== false && {
      reauthenticate: (rejected: BearerSession) => {
        log.reauthenticated.push(rejected.accessToken);
        issued += 1;
        return Promise.resolve({ ...rejected, accessToken: `tok-${issued}` });
      },
    }),
    ...(optional.rediscover !== false && {
      rediscover: (current: BearerSession) => {
        log.rediscovered.push(current.apiBaseUrl);
        return Promise.resolve({ ...current, apiBaseUrl: `${server.url}/moved/` });
      },
    }),
    ...(optional.onUnreachable !== false && {
      onUnreachable: () => {
        log.unreachable += 1;
        return Promise.resolve();
      },
    }),
    errorFromResponse: (call, response, extra) => {
      log.errorAnswers.push({ status: response.status, retryAfterMs: extra.retryAfterMs });
      if (response.status === 401) return new TestAuthError(`${call.route} answered 401`, 401);
      return new TestApiError(`${call.route} answered ${response.status}`, {
        status: response.status,
        route: call.route,
        ...extra,
      });
    },
    apiError: (call, message, options) => new TestApiError(message, { ...options, route: call.route }),
  };
}

/** Starts a scripted server answering `answers` and a client of the test vendor in front of it. */
async function harness(answers: ScriptedAnswer[], options: HarnessOptions = {}): Promise<Harness> {
  const server = await startScriptedServer(...answers);
  cleanups.push(() => server.close());
  const clock = new ManualClock();
  const apiCalls: ApiCall[] = [];
  const { waits: sleeps, random, sleep } = recordedWaits();
  const hooks: HookLog = {
    sessions: 0,
    prepared: 0,
    reauthenticated: [],
    rediscovered: [],
    unreachable: 0,
    errorAnswers: [],
  };
  const first = { accessToken: 'tok-1', apiBaseUrl: options.apiBaseUrl ?? `${server.url}/api/` };
  const client = new VendorHttpClient<TestCall, BearerSession>(
    {
      connection: 'test',
      options: { ...LIMITS, ...options.limits },
      clock,
      apiCalls: { record: (call) => apiCalls.push(call) },
      random,
      sleep: options.sleep ?? sleep,
      ...(options.apiBudgets !== undefined && { apiBudgets: options.apiBudgets }),
    },
    testHooks(server, first, options.hooks ?? {}, hooks),
  );
  cleanups.push(() => client.close());
  return { client, server, clock, apiCalls, sleeps, hooks };
}

const getContact: TestCall = { method: 'GET', route: 'GET Contact/:id', path: 'Contact/5' };
const postContact: TestCall = {
  method: 'POST',
  route: 'POST Contact',
  path: 'Contact',
  body: { name: 'ACME' },
};

const ok: ScriptedAnswer = { status: 200, body: { id: 5 } };
const answered = (status: number, headers?: Record<string, string>): ScriptedAnswer => ({
  status,
  ...(headers !== undefined && { headers }),
  body: { message: `status ${status}` },
});
const statusesOf = (h: Harness) => h.apiCalls.map((call) => call.status);
const authorizationsOf = (h: Harness) => h.server.requests.map((request) => request.headers.authorization);

/** Asserts that `promise` rejects with an error of `type` and returns it for further checks. */
async function rejection<E extends Error>(
  promise: Promise<unknown>,
  type: new (...args: never[]) => E,
): Promise<E> {
  const error = await promise.then(
    () => assert.fail(`expected a ${type.name}, but the call succeeded`),
    (reason: unknown) => reason,
  );
  assert.ok(error instanceof type, `expected a ${type.name}, got ${String(error)}`);
  return error;
}

describe('VendorHttpClient answers', () => {
  it('returns a 2xx answer with its status, headers and parsed JSON body', async () => {
    const h = await harness([{ status: 200, headers: { 'x-request-id': 'r-1' }, body: { id: 5 } }]);
    const response = await h.client.send(getContact);
    assert.equal(response.status, 200);
    assert.equal(response.headers['x-request-id'], 'r-1');
    assert.deepEqual(response.body, { id: 5 });
    assert.equal(h.server.requests[0]?.path, '/api/Contact/5');
  });

  it('reports every attempt to the ApiCallRecorder by connection, route template, method and status', async () => {
    const h = await harness([answered(503), ok]);
    await h.client.send(getContact);
    assert.deepEqual(
      h.apiCalls.map(({ durationMs: _, ...call }) => call),
      [
        { connection: 'test', route: 'GET Contact/:id', method: 'GET', status: 503 },
        { connection: 'test', route: 'GET Contact/:id', method: 'GET', status: 200 },
      ],
    );
    for (const call of h.apiCalls) assert.ok(call.durationMs >= 0);
  });

  it('asks the vendor for a session once per call, not once per attempt', async () => {
    const h = await harness([answered(503), answered(503), ok]);
    await h.client.send(getContact);
    assert.equal(h.server.requests.length, 3);
    assert.equal(h.hooks.sessions, 1);
  });

  it("sends the query, the JSON body and the call's headers, with the vendor's auth header winning", async () => {
    const h = await harness([ok]);
    await h.client.send({
      method: 'PUT',
      route: 'PUT Contact/:id',
      path: 'Contact/5',
      query: { select: 'name', skip: undefined },
      body: { name: 'ACME' },
      headers: { authorization: 'Bearer forged', 'if-match': '"7"' },
    });
    const [request] = h.server.requests;
    assert.equal(request?.path, '/api/Contact/5?select=name');
    assert.equal(request.headers.authorization, 'Bearer tok-1');
    assert.equal(request.headers['if-match'], '"7"');
    assert.equal(request.headers.accept, 'application/json');
    assert.equal(request.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(request.body), { name: 'ACME' });
  });

  it("sends a body with the call's own content type", async () => {
    const h = await harness([ok]);
    await h.client.send({ ...postContact, contentType: 'application/merge-patch+json' });
    assert.equal(h.server.requests[0]?.headers['content-type'], 'application/merge-patch+json');
  });

  it('reads an empty answer as null and an answer that is not JSON as its text', async () => {
    const h = await harness([{ status: 204 }, { status: 200, text: '<html>maintenance</html>' }]);
    assert.equal((await h.client.send(getContact)).body, null);
    assert.equal((await h.client.send(getContact)).body, '<html>maintenance</html>');
  });

  it('returns a non-2xx status the call expects as an answer, not an error', async () => {
    const h = await harness([answered(404)]);
    const response = await h.client.send({ ...getContact, expect: [404] });
    assert.equal(response.status, 404);
    assert.deepEqual(h.hooks.errorAnswers, []);
  });

  it('json() returns the JSON object of the answer', async () => {
    const h = await harness([ok]);
    assert.deepEqual(await h.client.json(getContact), { id: 5 });
  });

  it("json() throws the vendor's non-retryable API error for a body that is not an object", async () => {
    const h = await harness([{ status: 200, body: [1, 2] }]);
    const error = await rejection(h.client.json(getContact), TestApiError);
    assert.equal(error.status, 200);
    assert.equal(error.retryable, false);
    assert.match(error.message, /GET Contact\/:id answered 200 without a JSON object/);
  });

  it('throws at once, unsent and unreported, when a call cannot be built', async () => {
    const h = await harness([ok]);
    await rejection(h.client.send({ ...getContact, path: 'http://[not-a-host' }), TypeError);
    assert.equal(h.server.requests.length, 0);
    assert.deepEqual(h.apiCalls, []);
  });
});

describe('VendorHttpClient transient failures', () => {
  it('retries a 5xx of an idempotent call with growing backoff', async () => {
    const h = await harness([answered(500), answered(502), ok], { limits: { maxRetries: 3 } });
    const response = await h.client.send(getContact);
    assert.equal(response.status, 200);
    assert.deepEqual(h.sleeps, [250, 500]);
    assert.deepEqual(statusesOf(h), [500, 502, 200]);
  });

  it("throws the vendor's retryable error of the last 5xx once maxRetries are spent", async () => {
    const h = await harness([answered(503), answered(503), answered(503)], { limits: { maxRetries: 2 } });
    const error = await rejection(h.client.send(getContact), TestApiError);
    assert.equal(error.status, 503);
    assert.equal(error.retryable, true);
    assert.deepEqual(h.sleeps, [250, 500]);
    assert.equal(h.server.requests.length, 3);
    assert.equal(h.hooks.unreachable, 0, 'a 5xx is an answer: the host was reached');
  });

  it('never repeats a POST after a 5xx: it is ambiguous, retryable, with the status kept', async () => {
    const h = await harness([answered(503), ok]);
    const error = await rejection(h.client.send(postContact), VendorWriteAmbiguousError);
    assert.equal(error.code, 'VENDOR_WRITE_AMBIGUOUS');
    assert.equal(error.retryable, true);
    assert.equal(error.status, 503);
    assert.equal(error.route, 'POST Contact');
    assert.equal(h.server.requests.length, 1);
    assert.deepEqual(h.sleeps, []);
    assert.deepEqual(h.hooks.errorAnswers, [], "not the vendor's plain 5xx error");
  });

  it('retries a POST the call marks idempotent (an RPC read) like a GET', async () => {
    const h = await harness([answered(503), ok]);
    const response = await h.client.send({ ...postContact, idempotent: true });
    assert.equal(response.status, 200);
    assert.deepEqual(h.sleeps, [250]);
  });

  it('retries an idempotent call that timed out, reporting the timeout as status "error"', async () => {
    const h = await harness(['hang', ok], { limits: { requestTimeoutMs: SHORT_TIMEOUT_MS } });
    const response = await h.client.send(getContact);
    assert.equal(response.status, 200);
    assert.deepEqual(statusesOf(h), ['error', 200]);
    assert.deepEqual(h.sleeps, [250]);
  });

  it('never repeats a POST that timed out: onUnreachable, then an ambiguous status-0 error', async () => {
    const h = await harness(['hang', ok], { limits: { requestTimeoutMs: SHORT_TIMEOUT_MS } });
    const error = await rejection(h.client.send(postContact), VendorWriteAmbiguousError);
    assert.equal(error.status, 0);
    assert.equal(error.retryable, true);
    assert.ok(error.cause instanceof Error, 'the timeout is kept as the cause');
    assert.equal(h.server.requests.length, 1);
    assert.equal(h.hooks.unreachable, 1);
  });

  it('retries an idempotent call after the connection dropped without an answer', async () => {
    const h = await harness(['drop', ok]);
    const response = await h.client.send(getContact);
    assert.equal(response.status, 200);
    assert.deepEqual(statusesOf(h), ['error', 200]);
    assert.equal(h.hooks.unreachable, 0);
  });

  it('never repeats a POST whose connection dropped: onUnreachable, then an ambiguous status-0 error', async () => {
    const h = await harness(['drop', ok]);
    const error = await rejection(h.client.send(postContact), VendorWriteAmbiguousError);
    assert.equal(error.status, 0);
    assert.equal(error.retryable, true);
    assert.equal(h.server.requests.length, 1);
    assert.equal(h.hooks.unreachable, 1);
  });

  it('calls onUnreachable once and throws a retryable status-0 error when the host cannot be reached', async () => {
    const h = await harness([], { apiBaseUrl: `${await unreachableUrl()}/api/`, limits: { maxRetries: 2 } });
    const error = await rejection(h.client.send(getContact), TestApiError);
    assert.equal(error.status, 0);
    assert.equal(error.retryable, true);
    assert.equal(error.route, 'GET Contact/:id');
    assert.match(error.message, /^GET Contact\/:id failed: /);
    assert.deepEqual(statusesOf(h), ['error', 'error', 'error']);
    assert.deepEqual(h.sleeps, [250, 500]);
    assert.equal(h.hooks.unreachable, 1);
  });

  it('still throws the status-0 error for a vendor without an onUnreachable hook', async () => {
    const h = await harness([], {
      apiBaseUrl: `${await unreachableUrl()}/api/`,
      limits: { maxRetries: 0 },
      hooks: { onUnreachable: false },
    });
    const error = await rejection(h.client.send(getContact), TestApiError);
    assert.equal(error.status, 0);
  });
});

describe('VendorHttpClient 429 rate limit', () => {
  it('waits Retry-After seconds and sends the call again', async () => {
    const h = await harness([answered(429, { 'retry-after': '2' }), ok]);
    const response = await h.client.send(getContact);
    assert.equal(response.status, 200);
    assert.deepEqual(h.sleeps, [2_000]);
    assert.deepEqual(statusesOf(h), [429, 200]);
  });

  it('waits until a Retry-After HTTP-date, measured on the injected clock', async () => {
    const h = await harness([]);
    h.server.script(answered(429, { 'retry-after': new Date(h.clock.now() + 3_000).toUTCString() }), ok);
    await h.client.send(getContact);
    assert.deepEqual(h.sleeps, [3_000]);
  });

  it('waits one second when Retry-After is missing or unreadable', async () => {
    const h = await harness([answered(429), answered(429, { 'retry-after': 'soon' }), ok]);
    await h.client.send(getContact);
    assert.deepEqual(h.sleeps, [1_000, 1_000]);
  });

  it('sends even a POST again after a 429, which the vendor did not process', async () => {
    const h = await harness([answered(429, { 'retry-after': '1' }), ok]);
    const response = await h.client.send(postContact);
    assert.equal(response.status, 200);
    assert.deepEqual(
      h.server.requests.map((request) => request.method),
      ['POST', 'POST'],
    );
  });

  it('throws a retryable error with retryAfterMs once the waits would exceed maxRateLimitWaitMs', async () => {
    const h = await harness(
      [answered(429, { 'retry-after': '3' }), answered(429, { 'retry-after': '3' }), ok],
      { limits: { maxRateLimitWaitMs: 5_000 } },
    );
    const error = await rejection(h.client.send(getContact), TestApiError);
    assert.equal(error.status, 429);
    assert.equal(error.retryable, true);
    assert.equal(error.retryAfterMs, 3_000);
    assert.deepEqual(h.sleeps, [3_000], 'the first wait fits the budget, the second would not');
    assert.deepEqual(h.hooks.errorAnswers, [{ status: 429, retryAfterMs: 3_000 }]);
  });

  it('never sends a single-attempt call again: a 429 or a 5xx hands the retry to the caller', async () => {
    const putContact: TestCall = {
      ...getContact,
      method: 'PUT',
      body: { name: 'read just before' },
      singleAttempt: true,
    };
    const limited = await harness([answered(429, { 'retry-after': '2' }), ok]);
    const error = await rejection(limited.client.send(putContact), TestApiError);
    assert.deepEqual([error.status, error.retryable, error.retryAfterMs], [429, true, 2_000]);
    assert.deepEqual(statusesOf(limited), [429], 'sent once: after the wait its body could be stale');
    const failing = await harness([answered(503), ok], { limits: { maxRetries: 3 } });
    await assert.rejects(failing.client.send(putContact));
    assert.deepEqual(statusesOf(failing), [503]);
  });

  it('a call whose budget token was taken before its read is sent without taking another', async () => {
    let takes = 0;
    const counting: ApiBudgets = {
      forConnection: (connection, limits) => {
        const budget = new InProcessApiBudgets({ clock: new ManualClock(0) }).forConnection(
          connection,
          limits,
        );
        return {
          take: (signal) => {
            takes += 1;
            return budget.take(signal);
          },
          pauseUntil: (untilMs) => budget.pauseUntil(untilMs),
        };
      },
    };
    const h = await harness([ok, ok], { apiBudgets: counting });
    await h.client.takeBudget();
    await h.client.send({ ...getContact, budgetTaken: true });
    assert.equal(takes, 1, "the token taken before the read is the write's");
    await h.client.send(getContact);
    assert.equal(takes, 2);
  });

  it('does not wait at all when a single Retry-After is beyond the budget', async () => {
    const h = await harness([answered(429, { 'retry-after': '60' })], {
      limits: { maxRateLimitWaitMs: 5_000 },
    });
    const error = await rejection(h.client.send(getContact), TestApiError);
    assert.equal(error.retryAfterMs, 60_000);
    assert.deepEqual(h.sleeps, []);
  });

  it('gives up on a vendor that keeps answering 429 with Retry-After: 0', async () => {
    const zeroWait = answered(429, { 'retry-after': '0' });
    const h = await harness([...Array.from({ length: 30 }, () => zeroWait), ok]);
    await rejection(h.client.send(getContact), TestApiError);
    assert.ok(h.server.requests.length < 30, `sent ${h.server.requests.length} times`);
  });
});

describe('VendorHttpClient authentication and host', () => {
  it('on a 401 re-authenticates once with the rejected session and repeats the call with the new one', async () => {
    const h = await harness([answered(401), ok]);
    const response = await h.client.send(getContact);
    assert.equal(response.status, 200);
    assert.deepEqual(h.hooks.reauthenticated, ['tok-1']);
    assert.deepEqual(authorizationsOf(h), ['Bearer tok-1', 'Bearer tok-2']);
    assert.deepEqual(h.sleeps, [], 'a new session needs no backoff');
  });

  it('repeats even a POST after a 401, which the vendor did not process', async () => {
    const h = await harness([answered(401), ok]);
    await h.client.send(postContact);
    assert.equal(h.server.requests.length, 2);
    assert.deepEqual(JSON.parse(h.server.requests[1]?.body ?? ''), { name: 'ACME' });
  });

  it("throws the vendor's auth error on a second 401, after one re-authentication", async () => {
    const h = await harness([answered(401), answered(401), ok]);
    await rejection(h.client.send(getContact), TestAuthError);
    assert.deepEqual(h.hooks.reauthenticated, ['tok-1']);
    assert.deepEqual(authorizationsOf(h), ['Bearer tok-1', 'Bearer tok-2']);
  });

  it("throws the vendor's error on a 401 at once when the vendor cannot re-authenticate", async () => {
    const h = await harness([answered(401), ok], { hooks: { reauthenticate: false } });
    await rejection(h.client.send(getContact), TestAuthError);
    assert.equal(h.server.requests.length, 1);
  });

  it("on a 421 rediscovers the host once and sends the call to the vendor's current host", async () => {
    const h = await harness([answered(421), ok]);
    const response = await h.client.send(getContact);
    assert.equal(response.status, 200);
    assert.deepEqual(h.hooks.rediscovered, [`${h.server.url}/api/`]);
    assert.deepEqual(
      h.server.requests.map((request) => request.path),
      ['/api/Contact/5', '/moved/Contact/5'],
    );
  });

  it("throws the vendor's error on a second 421, after one rediscovery", async () => {
    const h = await harness([answered(421), answered(421), ok]);
    const error = await rejection(h.client.send(getContact), TestApiError);
    assert.equal(error.status, 421);
    assert.equal(h.hooks.rediscovered.length, 1);
    assert.equal(h.server.requests.length, 2);
  });

  it("throws the vendor's error on a 421 at once when the vendor cannot rediscover", async () => {
    const h = await harness([answered(421), ok], { hooks: { rediscover: false } });
    const error = await rejection(h.client.send(getContact), TestApiError);
    assert.equal(error.status, 421);
    assert.equal(h.server.requests.length, 1);
  });
});

describe('VendorHttpClient other error answers', () => {
  it('hands any other 4xx to errorFromResponse without a retry, even for an idempotent call', async () => {
    const h = await harness([answered(404), ok]);
    const error = await rejection(h.client.send(getContact), TestApiError);
    assert.equal(error.status, 404);
    assert.equal(error.retryable, false);
    assert.deepEqual(h.hooks.errorAnswers, [{ status: 404, retryAfterMs: undefined }]);
    assert.equal(h.server.requests.length, 1);
    assert.deepEqual(h.sleeps, []);
  });
});

describe('VendorHttpClient connection budget', () => {
  it('sends even a POST again when the connection could not be opened: it never left', async () => {
    const h = await harness([], { apiBaseUrl: `${await unreachableUrl()}/api/`, limits: { maxRetries: 2 } });
    const error = await rejection(h.client.send(postContact), TestApiError);
    assert.equal(error.status, 0);
    assert.deepEqual(statusesOf(h), ['error', 'error', 'error']);
    assert.deepEqual(h.sleeps, [250, 500]);
  });

  it('waits out a 5xx with Retry-After as a pause of the connection instead of backing off', async () => {
    const h = await harness([answered(503, { 'retry-after': '2' }), ok]);
    const response = await h.client.send(getContact);
    assert.equal(response.status, 200);
    assert.deepEqual(h.sleeps, [2_000]);
  });

  it('fails a 5xx whose Retry-After is beyond the wait budget at once, with the wait attached', async () => {
    const h = await harness([answered(503, { 'retry-after': '60' }), ok], {
      limits: { maxRateLimitWaitMs: 5_000 },
    });
    const error = await rejection(h.client.send(getContact), TestApiError);
    assert.equal(error.status, 503);
    assert.equal(error.retryAfterMs, 60_000);
    assert.deepEqual(h.sleeps, [], 'no caller waits a minute: the job retry does');
    assert.equal(h.server.requests.length, 1);
  });

  it('a 429 answered to one client pauses the other client of the same connection', async () => {
    const held = heldWaits();
    const apiBudgets = new InProcessApiBudgets({ clock: new ManualClock(), sleep: held.sleep });
    const first = await harness([answered(429, { 'retry-after': '2' }), ok], { apiBudgets });
    const second = await harness([ok], { apiBudgets });
    const throttled = first.client.send(getContact);
    await eventually(() => held.pending.length === 1);
    const waiting = second.client.send(getContact);
    await eventually(() => second.hooks.sessions === 1);
    await settle();
    assert.equal(second.hooks.prepared, 0, 'the other client waits for the pause');
    assert.deepEqual(held.waits, [2_000]);
    held.releaseAll();
    assert.equal((await waiting).status, 200);
    assert.equal((await throttled).status, 200);
    assert.equal(first.server.requests.length, 2);
  });
});

describe('VendorHttpClient abort signal', () => {
  const reason = new Error('lease lost');

  it('rejects with the reason before sending when the signal is already aborted', async () => {
    const h = await harness([ok]);
    const error = await withCallSignal(AbortSignal.abort(reason), () => h.client.send(getContact)).then(
      () => assert.fail('resolved'),
      (caught: unknown) => caught,
    );
    assert.equal(error, reason);
    assert.equal(h.server.requests.length, 0);
  });

  it('aborts a request in flight at once, with the reason, and does not retry it', async () => {
    const h = await harness(['hang', ok], { limits: { requestTimeoutMs: 60_000 } });
    const controller = new AbortController();
    const call = withCallSignal(controller.signal, () => h.client.send(getContact));
    await eventually(() => h.server.requests.length === 1);
    controller.abort(reason);
    await assert.rejects(call, (error: unknown) => error === reason);
    assert.equal(h.server.requests.length, 1);
    assert.equal(h.hooks.unreachable, 0, 'an abort says nothing about the host');
  });

  it('cuts a backoff sleep short with the reason and sends no retry', async () => {
    const controller = new AbortController();
    const h = await harness([answered(503), ok], {
      sleep: (ms, signal) => {
        controller.abort(reason);
        return timerSleep(ms, signal);
      },
    });
    const call = withCallSignal(controller.signal, () => h.client.send(getContact));
    await assert.rejects(call, (error: unknown) => error === reason);
    assert.equal(h.server.requests.length, 1);
  });

  it("stops waiting for the connection's pause with the reason; the pause holds for the others", async () => {
    const held = heldWaits();
    const h = await harness([answered(429, { 'retry-after': '2' }), ok], { sleep: held.sleep });
    const controller = new AbortController();
    const call = withCallSignal(controller.signal, () => h.client.send(getContact));
    await eventually(() => held.pending.length === 1);
    controller.abort(reason);
    await assert.rejects(call, (error: unknown) => error === reason);
    assert.equal(h.server.requests.length, 1);
    assert.equal(held.pending.length, 1, "the pause is the connection's, not the aborted caller's");
    held.releaseAll();
  });
});

/** Waits that are recorded and held until released, so a test sees callers stand still in a pause. */
function heldWaits(): {
  readonly waits: number[];
  readonly pending: (() => void)[];
  readonly sleep: Sleep;
  releaseAll(): void;
} {
  const waits: number[] = [];
  const pending: (() => void)[] = [];
  return {
    waits,
    pending,
    sleep: (ms) => {
      waits.push(ms);
      return new Promise((resolve) => pending.push(resolve));
    },
    releaseAll: () => {
      for (const release of pending.splice(0)) release();
    },
  };
}

/** Lets every promise continuation that is already due run (one turn of the event loop). */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
