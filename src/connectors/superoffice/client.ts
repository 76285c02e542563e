/**
 * The HTTP client of the SuperOffice WebAPI (undici). Per call: wait for the tenant's token bucket, send with
 * `Authorization: Bearer`, `Accept: application/json` and `Accept-Language: *` (without it list names come back
 * raw, reference §2.3), then:
 * - 401: refresh the token once and retry;
 * - 421: rediscover the tenant's host once and retry (the tenant moved, reference §2.2);
 * - 429: wait `Retry-After` and retry, while the total wait stays within `maxRateLimitWaitMs`;
 * - 5xx, timeouts, connection errors: retry with backoff, but only idempotent requests (GET, PUT, DELETE, and
 *   PATCH with If-Unmodified-Since); a POST is never repeated, it could create a record twice.
 * Every attempt is reported to the ApiCallRecorder by route template.
 */
import { Agent, request } from 'undici';
import { backoffDelay } from '../../core/backoff.ts';
import type { BackoffPolicy } from '../../core/backoff.ts';
import type { JsonValue } from '../../core/types.ts';
import type { Clock } from '../../ports/clock.ts';
import type { ApiCallRecorder } from '../../ports/connector.ts';
import type { ConnectorStateRepository } from '../../ports/store.ts';
import { TokenProvider } from './auth.ts';
import type { Session } from './auth.ts';
import { getField, isObject } from './casing.ts';
import { SuperOfficeApiError, SuperOfficeAuthError } from './errors.ts';
import type { SuperOfficeOptions } from './options.ts';
import { parseRetryAfter } from '../../core/retry-after.ts';
import { TokenBucket } from './rate-limit.ts';

/** Backoff of transient failures within one call: 250 ms, 500 ms, 1 s ... capped at 5 s. */
const RETRY_BACKOFF: BackoffPolicy = { baseMs: 250, maxMs: 5_000, jitter: 0.2 };
/** Wait after a 429 without a readable Retry-After. */
const DEFAULT_RETRY_AFTER_MS = 1_000;

/** One WebAPI call. */
export interface ApiRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path below `.../api/v1/` (e.g. `Contact/5`), or an absolute URL (an `odata.nextLink`). */
  readonly path: string;
  /** The route template for metrics, e.g. `GET Contact/:id`. */
  readonly route: string;
  readonly query?: Readonly<Record<string, string | number | undefined>>;
  readonly body?: JsonValue;
  /** Content-Type of the body (default `application/json`). */
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Non-2xx statuses the caller handles itself (e.g. 404 -> null, 412 -> StaleWriteError). */
  readonly expect?: readonly number[];
}

/** A WebAPI answer: status, headers and the parsed JSON body (null when empty). */
export interface ApiResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: JsonValue | null;
}

/** What the client needs. */
export interface SuperOfficeClientOptions {
  readonly connection: string;
  readonly options: SuperOfficeOptions;
  readonly clock: Clock;
  readonly state: ConnectorStateRepository;
  readonly apiCalls: ApiCallRecorder;
  /** Jitter source of retry backoff (default Math.random). */
  readonly random?: () => number;
  /** Waits for Retry-After and backoff (default setTimeout); tests record them instead. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Whether a failed attempt may be repeated without risk of doing the work twice. */
export function isIdempotent(method: string, headers: Readonly<Record<string, string>> = {}): boolean {
  if (method === 'GET' || method === 'PUT' || method === 'DELETE') return true;
  // A conditional PATCH cannot apply twice: after the first success the record is newer than the condition.
  return method === 'PATCH' && getField(headers, 'if-unmodified-since') !== undefined;
}

/** The WebAPI client of one connection. */
export class SuperOfficeClient {
  readonly #deps: SuperOfficeClientOptions;
  readonly #dispatcher: Agent;
  readonly #auth: TokenProvider;
  readonly #bucket: TokenBucket;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;

  constructor(deps: SuperOfficeClientOptions) {
    this.#deps = deps;
    this.#dispatcher = new Agent({ keepAliveTimeout: 10_000 });
    this.#auth = new TokenProvider({ ...deps, dispatcher: this.#dispatcher });
    this.#sleep = deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#bucket = new TokenBucket({ ratePerSecond: deps.options.requestsPerSecond });
    this.#random = deps.random ?? Math.random;
  }

  /** The current session (token, tenant base, API user's associate id); refreshes when needed. */
  session(): Promise<Session> {
    return this.#auth.session();
  }

  /** Sends one call with the retry rules of the module documentation. */
  async send(call: ApiRequest): Promise<ApiResponse> {
    const idempotent = isIdempotent(call.method, call.headers);
    let session = await this.#auth.session();
    let refreshed = false;
    let rediscovered = false;
    let rateLimitWaitMs = 0;
    let transientFailures = 0;
    for (;;) {
      await this.#bucket.take();
      const outcome = await this.#attempt(call, session);
      // Status 0: no answer (connection error or timeout); like a 5xx, it may be retried when idempotent.
      const transient = 'error' in outcome || outcome.response.status >= 500;
      if (transient && idempotent && transientFailures < this.#deps.options.maxRetries) {
        transientFailures += 1;
        await this.#sleep(backoffDelay(transientFailures, RETRY_BACKOFF, this.#random));
        continue;
      }
      if ('error' in outcome) {
        throw new SuperOfficeApiError(`${call.route} failed: ${outcome.error.message}`, {
          status: 0,
          route: call.route,
          retryable: true,
          cause: outcome.error,
        });
      }
      const response = outcome.response;
      const { status } = response;
      if (status === 401 && !refreshed) {
        refreshed = true;
        session = await this.#auth.refresh();
        continue;
      }
      if (status === 401) {
        throw new SuperOfficeAuthError(
          `${call.route} answered 401 even with a fresh access token: the API user lacks access or consent was revoked.`,
          { status },
        );
      }
      if (status === 421 && !rediscovered) {
        rediscovered = true;
        session = await this.#auth.rediscover();
        continue;
      }
      // A 429 was not processed, so even a POST may be sent again.
      if (status === 429) {
        const waitMs =
          parseRetryAfter(headerValue(response.headers, 'retry-after'), this.#deps.clock.now()) ??
          DEFAULT_RETRY_AFTER_MS;
        this.#bucket.drain();
        if (rateLimitWaitMs + waitMs <= this.#deps.options.maxRateLimitWaitMs) {
          rateLimitWaitMs += waitMs;
          await this.#sleep(waitMs);
          continue;
        }
        throw apiError(call, response, { retryAfterMs: waitMs });
      }
      if ((status >= 200 && status < 300) || status === 304 || call.expect?.includes(status)) return response;
      throw apiError(call, response);
    }
  }

  /** Sends a call and returns its JSON body, which must be an object. */
  async json(call: ApiRequest): Promise<Record<string, JsonValue>> {
    const response = await this.send(call);
    if (!isObject(response.body)) {
      throw new SuperOfficeApiError(`${call.route} answered ${response.status} without a JSON object.`, {
        status: response.status,
        route: call.route,
        retryable: false,
      });
    }
    return response.body;
  }

  /** Closes the connection pool. */
  async close(): Promise<void> {
    await this.#dispatcher.close();
  }

  /** One HTTP attempt; network errors and timeouts come back as `{error}`. */
  async #attempt(call: ApiRequest, session: Session): Promise<{ response: ApiResponse } | { error: Error }> {
    const { connection, apiCalls, options } = this.#deps;
    const url = resolveUrl(session.apiBaseUrl, call);
    const started = performance.now();
    let status: number | 'error' = 'error';
    try {
      const response = await request(url, {
        method: call.method,
        dispatcher: this.#dispatcher,
        headers: {
          authorization: `Bearer ${session.accessToken}`,
          accept: 'application/json',
          'accept-language': '*',
          ...(call.body !== undefined && { 'content-type': call.contentType ?? 'application/json' }),
          ...call.headers,
        },
        ...(call.body !== undefined && { body: JSON.stringify(call.body) }),
        headersTimeout: options.requestTimeoutMs,
        bodyTimeout: options.requestTimeoutMs,
      });
      status = response.statusCode;
      const text = await response.body.text();
      return { response: { status, headers: response.headers, body: parseBody(text) } };
    } catch (error) {
      return { error: error instanceof Error ? error : new Error(String(error)) };
    } finally {
      apiCalls.record({
        connection,
        route: call.route,
        method: call.method,
        status,
        durationMs: performance.now() - started,
      });
    }
  }
}

function resolveUrl(apiBaseUrl: string, call: ApiRequest): string {
  const url = new URL(rebase(call.path, apiBaseUrl), apiBaseUrl);
  for (const [name, value] of Object.entries(call.query ?? {})) {
    if (value !== undefined) url.searchParams.set(name, String(value));
  }
  return url.toString();
}

/**
 * An absolute URL from the vendor (an `odata.nextLink`) re-based onto the current tenant base, so that a page
 * link issued before a tenant move (421) follows the tenant to its new host.
 */
function rebase(path: string, apiBaseUrl: string): string {
  if (!/^https?:\/\//i.test(path)) return path;
  const marker = path.search(/\/api\/v1\//i);
  return marker < 0 ? path : apiBaseUrl + path.slice(marker + '/api/v1/'.length);
}

function parseBody(text: string): JsonValue | null {
  if (text === '') return null;
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    // Error pages of proxies are HTML; keep the start for the error message.
    return text.slice(0, 500);
  }
}

function headerValue(headers: ApiResponse['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The vendor's error message, if its body has one (the body shape is [UNCONFIRMED], reference §5). */
function vendorMessage(body: JsonValue | null): string {
  if (typeof body === 'string') return body;
  if (!isObject(body)) return '';
  const message = getField(body, 'Message') ?? getField(body, 'error_description') ?? getField(body, 'error');
  return typeof message === 'string' ? message : '';
}

function apiError(
  call: ApiRequest,
  response: ApiResponse,
  extra: { retryAfterMs?: number } = {},
): SuperOfficeApiError {
  const message = vendorMessage(response.body);
  return new SuperOfficeApiError(
    `${call.route} answered ${response.status}${message === '' ? '' : `: ${message}`}`,
    { status: response.status, route: call.route, ...extra },
  );
}
