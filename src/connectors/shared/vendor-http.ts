/**
 * The HTTP client loop every vendor connector shares (undici), one instance per connection. Per call: take a
 * token of the connection's budget (the ApiBudget port: a token bucket and a pause shared by every caller of
 * the connection), send one attempt with the vendor's URL and authentication, then:
 * - 5xx, timeouts, connection errors: retry with backoff where repeating is safe: the vendor (or the call
 *   itself) calls it idempotent, or it never left (the connection could not be opened). A call that is not
 *   idempotent (a POST) is never repeated once sent, it could create a record twice: no answer or a 5xx
 *   makes it a VendorWriteAmbiguousError (`VENDOR_WRITE_AMBIGUOUS`, retryable). No answer after all: the
 *   vendor's `onUnreachable`, then (for an idempotent call) its API error with status 0 (retryable);
 * - 401, when the vendor can re-authenticate: a new session once and retry (a 401 was not processed, so even a
 *   POST may be sent again); a second 401 is the vendor's error whatever the call expects;
 * - 421 Misdirected Request, when the vendor can rediscover its host: once, and retry;
 * - 429, and a 5xx with `Retry-After`: pause the whole connection until the vendor's time is up (every caller
 *   waits, not only this one) and retry while this call's total wait stays within `maxRateLimitWaitMs` (a 429
 *   was not processed, so even a POST is sent again); beyond it, the vendor's error with the wait as
 *   `retryAfterMs`, and no pause: the job queue's retry waits instead of a caller;
 * - 2xx and the statuses the call expects: the answer; anything else: the vendor's typed error.
 * The abort signal of the port call (./call-signal.ts) stops the budget wait, the request and the backoff at
 * once, with the signal's reason. Every attempt is reported to the ApiCallRecorder by route template
 * (./http-exchange.ts).
 *
 * What differs between vendors is a {@link VendorHttpHooks} object, never a copy of this loop.
 */
import { Agent } from 'undici';
import { backoffDelay } from '../../core/backoff.ts';
import type { BackoffPolicy } from '../../core/backoff.ts';
import { parseRetryAfter } from '../../core/retry-after.ts';
import type { JsonObject, JsonValue } from '../../core/types.ts';
import type { ApiBudget, ApiBudgets } from '../../ports/api-budget.ts';
import type { Clock } from '../../ports/clock.ts';
import type { ApiCallRecorder } from '../../ports/connector.ts';
import { abortable, sleep } from './abortable.ts';
import type { Sleep } from './abortable.ts';
import { InProcessApiBudgets } from './api-budget.ts';
import { VendorWriteAmbiguousError } from './api-error.ts';
import { currentCallSignal } from './call-signal.ts';
import { isJsonObject } from './casing.ts';
import { exchange, headerValue, parseJsonOrText, transportOf } from './http-exchange.ts';
import type { HttpTransport, ResponseHeaders } from './http-exchange.ts';

/** Backoff of transient failures within one call: 250 ms, 500 ms, 1 s ... capped at 5 s. */
const RETRY_BACKOFF: BackoffPolicy = { baseMs: 250, maxMs: 5_000, jitter: 0.2 };
/** Wait after a 429 without a readable Retry-After. */
const DEFAULT_RETRY_AFTER_MS = 1_000;
/** The least a 429 is waited, whatever its Retry-After says. */
const MIN_RETRY_AFTER_MS = 250;
/** Keep idle connections to the vendor open this long, so that a burst of calls reuses them. */
const KEEP_ALIVE_MS = 10_000;

/** HTTP methods of the vendor APIs. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** What every vendor call has; each vendor adds how it is addressed (path, query). */
export interface VendorRequest<Method extends HttpMethod = HttpMethod> {
  readonly method: Method;
  /** The route template for metrics and messages, e.g. `GET Contact/:id`. */
  readonly route: string;
  /** Sent as JSON. */
  readonly body?: JsonValue;
  /** Content-Type of the body (default `application/json`). */
  readonly contentType?: string;
  /** Extra request headers, lowercase names (e.g. `if-unmodified-since`). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Non-2xx statuses the caller handles itself (e.g. 404 -> null, 412 -> StaleWriteError). */
  readonly expect?: readonly number[];
  /** Safe to repeat whatever its method says (an RPC read sent as a POST); default: the vendor's rule. */
  readonly idempotent?: boolean;
  /**
   * Never send this call a second time after a wait (429, 5xx, timeout): its body was built from a read just
   * before (a read-modify-write, or a write guarded by a compare), and after a wait that read may be stale,
   * so resending could overwrite what someone saved meanwhile. The call fails with the vendor's retryable
   * error instead (`retryAfterMs` after a 429), and the caller reads again.
   */
  readonly singleAttempt?: boolean;
  /**
   * The caller took this call's budget token already ({@link VendorHttpClient.takeBudget}), before the read
   * its body is built from: the call is then sent without waiting for the budget, so no rate-limit pause falls
   * between that read and this write. Only the first attempt; a retry waits as usual.
   */
  readonly budgetTaken?: boolean;
}

/** A vendor answer: status, headers and the parsed JSON body (null when empty, text when not JSON). */
export interface VendorResponse {
  readonly status: number;
  readonly headers: ResponseHeaders;
  readonly body: JsonValue | null;
}

/** The limits every vendor's connection options carry (defaults in each vendor's options.ts). */
export interface VendorHttpLimits {
  /** Token bucket rate (and burst) of the connection's budget. */
  readonly requestsPerSecond: number;
  /** Retries of transient failures of idempotent calls, per call. */
  readonly maxRetries: number;
  /** Total Retry-After wait per call before a 429 becomes an error. */
  readonly maxRateLimitWaitMs: number;
  /** Timeout for the response headers and again for the body. */
  readonly requestTimeoutMs: number;
}

/** What a vendor client needs; vendors with tokens add the connector state. */
export interface VendorClientDeps<Options extends VendorHttpLimits = VendorHttpLimits> {
  readonly connection: string;
  readonly options: Options;
  readonly clock: Clock;
  readonly apiCalls: ApiCallRecorder;
  /** The request budgets of the process (default: one of the client's own, in process). */
  readonly apiBudgets?: ApiBudgets;
  /** Jitter source of retry backoff (default Math.random). */
  readonly random?: () => number;
  /** Waits for Retry-After pauses and backoff (default a timer); tests record them instead. */
  readonly sleep?: Sleep;
}

/** Where one attempt goes and the vendor's own headers for it. */
export interface PreparedAttempt {
  readonly url: string | URL;
  /** Authentication and vendor headers; sent after the call's headers, so a call cannot override them. */
  readonly headers: Readonly<Record<string, string>>;
}

/** The query of a call; undefined values are left out. */
export type Query = Readonly<Record<string, string | number | undefined>>;

/** What OAuth-style vendors address and authenticate an attempt with: a bearer token and the API base. */
export interface BearerSession {
  readonly accessToken: string;
  /** The API base URL, ending in `/`. */
  readonly apiBaseUrl: string;
}

/**
 * An attempt at `path` (relative to the session's API base, or absolute) with `query` set and
 * `Authorization: Bearer`, plus the vendor's `headers`.
 */
export function bearerAttempt(
  session: BearerSession,
  path: string,
  query: Query = {},
  headers: Readonly<Record<string, string>> = {},
): PreparedAttempt {
  const url = new URL(path, session.apiBaseUrl);
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined) url.searchParams.set(name, String(value));
  }
  return { url: url.toString(), headers: { authorization: `Bearer ${session.accessToken}`, ...headers } };
}

/**
 * A vendor's differences from the shared loop. `Session` is what an attempt is addressed and authenticated
 * with (a token and the tenant's base URL), `void` for static credentials.
 */
export interface VendorHttpHooks<Call extends VendorRequest, Session> {
  /** The session of a call's first attempt (cached, or fetched when needed). */
  session(): Promise<Session>;
  /**
   * URL and headers of one attempt. Runs outside the attempt: a call that cannot be built is a bug and
   * throws at once, it is neither retried nor reported as a vendor call.
   */
  prepare(call: Call, session: Session): PreparedAttempt;
  /** Whether a failed attempt of `call` may be repeated without risk of doing the work twice. */
  isIdempotent(call: Call): boolean;
  /** 401: a new session to retry once with (the rejected one is given). Absent: a 401 is an error answer. */
  reauthenticate?(rejected: Session): Promise<Session>;
  /** 421: the session for the vendor's current host, to retry once with. Absent: a 421 is an error answer. */
  rediscover?(current: Session): Promise<Session>;
  /** A call gives up without an answer: e.g. forget a cached host, so that the next call looks it up again. */
  onUnreachable?(): Promise<void>;
  /** The typed error of an answer the loop does not accept; `retryAfterMs` after a 429 beyond the budget. */
  errorFromResponse(call: Call, response: VendorResponse, extra: { retryAfterMs?: number }): Error;
  /** The vendor's API error without a usable answer: none at all (status 0) or a body that is not an object. */
  apiError(
    call: Call,
    message: string,
    options: { status: number; retryable: boolean; cause?: Error },
  ): Error;
}

/** One attempt's outcome: an answer, or no answer (connection error, timeout). */
type Outcome = { readonly response: VendorResponse } | { readonly error: Error };

/** The HTTP client of one connection: budget, retries, re-authentication and metrics (module documentation). */
export class VendorHttpClient<Call extends VendorRequest, Session> {
  /** The connection's pool and metrics, for the vendor's calls to its auth hosts. */
  readonly transport: HttpTransport;
  readonly #limits: VendorHttpLimits;
  readonly #clock: Clock;
  readonly #hooks: VendorHttpHooks<Call, Session>;
  readonly #dispatcher: Agent;
  readonly #budget: ApiBudget;
  readonly #sleep: Sleep;
  readonly #random: () => number;

  constructor(deps: VendorClientDeps, hooks: VendorHttpHooks<Call, Session>) {
    this.#limits = deps.options;
    this.#clock = deps.clock;
    this.#hooks = hooks;
    this.#dispatcher = new Agent({ keepAliveTimeout: KEEP_ALIVE_MS });
    this.transport = transportOf({ ...deps, dispatcher: this.#dispatcher });
    this.#sleep = deps.sleep ?? sleep;
    const budgets = deps.apiBudgets ?? new InProcessApiBudgets({ clock: deps.clock, sleep: this.#sleep });
    this.#budget = budgets.forConnection(deps.connection, deps.options);
    this.#random = deps.random ?? Math.random;
  }

  /** Takes one token of the connection's budget now, for a call sent later with `budgetTaken`. */
  takeBudget(): Promise<void> {
    return this.#budget.take(currentCallSignal());
  }

  /** Sends one call with the rules of the module documentation; throws the vendor's typed errors. */
  async send(call: Call): Promise<VendorResponse> {
    const signal = currentCallSignal();
    signal?.throwIfAborted();
    const hooks = this.#hooks;
    const idempotent = call.idempotent ?? hooks.isIdempotent(call);
    let session = await abortable(hooks.session(), signal);
    let reauthenticated = false;
    let rediscovered = false;
    let rateLimitWaitMs = 0;
    let transientFailures = 0;
    let budgetTaken = call.budgetTaken === true;
    for (;;) {
      if (!budgetTaken) await this.#budget.take(signal);
      budgetTaken = false;
      const outcome = await this.#attempt(call, hooks.prepare(call, session), signal);
      if ('error' in outcome || outcome.response.status >= 500) {
        // No answer (connection error or timeout) is like a 5xx: retried when repeating it is safe.
        const retrySafe =
          call.singleAttempt !== true && (idempotent || ('error' in outcome && neverSent(outcome.error)));
        // A 5xx with Retry-After pauses the connection like a 429, within this call's wait budget.
        const asked = 'response' in outcome ? this.#retryAfterMs(outcome.response) : undefined;
        const countedMs = asked === undefined ? undefined : this.#countedWait(asked, rateLimitWaitMs);
        if (asked !== undefined && countedMs !== undefined) {
          rateLimitWaitMs += countedMs;
          await this.#pause(asked);
        }
        const waitAllowed = asked === undefined || countedMs !== undefined;
        if (retrySafe && waitAllowed && transientFailures < this.#limits.maxRetries) {
          transientFailures += 1;
          // After a pause the next take() waits it out; otherwise back off.
          if (asked === undefined) {
            await this.#sleep(backoffDelay(transientFailures, RETRY_BACKOFF, this.#random), signal);
          }
          continue;
        }
        throw await this.#transientError(call, outcome, retrySafe, asked);
      }
      const { response } = outcome;
      const { status } = response;
      if (status === 401 && hooks.reauthenticate !== undefined) {
        if (reauthenticated) throw hooks.errorFromResponse(call, response, {});
        reauthenticated = true;
        session = await abortable(hooks.reauthenticate(session), signal);
        continue;
      }
      if (status === 421 && hooks.rediscover !== undefined && !rediscovered) {
        rediscovered = true;
        session = await abortable(hooks.rediscover(session), signal);
        continue;
      }
      if (status === 429) {
        const waitMs = this.#retryAfterMs(response) ?? DEFAULT_RETRY_AFTER_MS;
        const countedMs =
          call.singleAttempt === true ? undefined : this.#countedWait(waitMs, rateLimitWaitMs);
        if (countedMs === undefined) {
          // Every caller of the connection waits out the pause; this call hands its retry to its caller.
          if (call.singleAttempt === true) await this.#pause(waitMs);
          throw hooks.errorFromResponse(call, response, { retryAfterMs: waitMs });
        }
        rateLimitWaitMs += countedMs;
        await this.#pause(waitMs);
        continue;
      }
      if ((status >= 200 && status < 300) || call.expect?.includes(status)) return response;
      throw hooks.errorFromResponse(call, response, {});
    }
  }

  /** Sends a call and returns its JSON body, which must be an object (else the vendor's API error). */
  async json(call: Call): Promise<JsonObject> {
    const response = await this.send(call);
    if (!isJsonObject(response.body)) {
      throw this.#hooks.apiError(call, `${call.route} answered ${response.status} without a JSON object.`, {
        status: response.status,
        retryable: false,
      });
    }
    return response.body;
  }

  /** Closes the connection pool. */
  async close(): Promise<void> {
    await this.#dispatcher.close();
  }

  /**
   * The error of a call that ends without a usable answer: ambiguous when it was sent and is not safe to
   * repeat; else the vendor's status-0 error (after `onUnreachable`) or its error of the 5xx.
   */
  async #transientError(
    call: Call,
    outcome: Outcome,
    retrySafe: boolean,
    retryAfterMs: number | undefined,
  ): Promise<Error> {
    const extra = retryAfterMs === undefined ? {} : { retryAfterMs };
    if ('response' in outcome) {
      const { response } = outcome;
      if (retrySafe) return this.#hooks.errorFromResponse(call, response, extra);
      return ambiguous(call, `${call.route} answered ${response.status}`, {
        status: response.status,
        ...extra,
      });
    }
    const { error } = outcome;
    await this.#hooks.onUnreachable?.();
    if (!retrySafe)
      return ambiguous(call, `${call.route} got no answer (${error.message})`, { status: 0, cause: error });
    return this.#hooks.apiError(call, `${call.route} failed: ${error.message}`, {
      status: 0,
      retryable: true,
      cause: error,
    });
  }

  /** The wait an answer's `Retry-After` asks for, in ms, or undefined without a readable one. */
  #retryAfterMs(response: VendorResponse): number | undefined {
    return parseRetryAfter(headerValue(response.headers, 'retry-after'), this.#clock.now());
  }

  /**
   * What a wait the vendor asked for counts against the call's `maxRateLimitWaitMs`, or undefined when it
   * would exceed it. A `Retry-After: 0` (or a past date) still counts as a default wait, so a vendor that keeps
   * answering that way ends in an error instead of an endless loop.
   */
  #countedWait(waitMs: number, waitedMs: number): number | undefined {
    const countedMs = Math.max(waitMs, DEFAULT_RETRY_AFTER_MS);
    return waitedMs + countedMs > this.#limits.maxRateLimitWaitMs ? undefined : countedMs;
  }

  /** Pauses the whole connection for the vendor's wait (at least a little); the next take() waits it out. */
  async #pause(waitMs: number): Promise<void> {
    await this.#budget.pauseUntil(this.#clock.now() + Math.max(waitMs, MIN_RETRY_AFTER_MS));
  }

  /** One HTTP attempt; network errors and timeouts come back as `{error}`, an abort as the signal's reason. */
  async #attempt(call: Call, prepared: PreparedAttempt, signal: AbortSignal | undefined): Promise<Outcome> {
    try {
      const answer = await exchange(this.transport, {
        method: call.method,
        url: prepared.url,
        route: call.route,
        headers: {
          accept: 'application/json',
          ...(call.body !== undefined && { 'content-type': call.contentType ?? 'application/json' }),
          ...call.headers,
          ...prepared.headers,
        },
        ...(call.body !== undefined && { body: JSON.stringify(call.body) }),
        ...(signal !== undefined && { signal }),
      });
      return {
        response: { status: answer.status, headers: answer.headers, body: parseJsonOrText(answer.text) },
      };
    } catch (error) {
      if (signal?.aborted === true) throw signal.reason;
      return { error: error instanceof Error ? error : new Error(String(error)) };
    }
  }
}

/**
 * Errors of a connection that could not be opened: the request never left, so even a POST may be sent again.
 * Anything else (a reset or timeout after the connection was open) may have reached the vendor.
 */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

function neverSent(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && NOT_SENT_CODES.has(code);
}

/** The ambiguous outcome of a sent call that is not idempotent (module documentation). */
function ambiguous(
  call: VendorRequest,
  what: string,
  options: { readonly status: number; readonly cause?: Error; readonly retryAfterMs?: number },
): VendorWriteAmbiguousError {
  return new VendorWriteAmbiguousError(
    `${what}: it may or may not have been applied, so it is not sent again; look for its result before retrying.`,
    { ...options, route: call.route },
  );
}
