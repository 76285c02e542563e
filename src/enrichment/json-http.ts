/**
 * The HTTP transport of the `http` and `openai` enrichers: POST a JSON body, get a JSON body back, with the
 * error mapping of {@link EnricherError}:
 * - timeouts, connection errors, 408 and 5xx: retried with backoff up to `maxRetries`, then
 *   `ENRICHER_UNAVAILABLE` (retryable: the queue tries again later);
 * - 429: retried after `Retry-After` (seconds or HTTP date) while retries are left and the wait is at most
 *   `maxRetryAfterMs`; else `ENRICHER_UNAVAILABLE` carrying `retryAfterMs`, so the queue waits that long
 *   instead of the worker;
 * - any other non-2xx (401 wrong key, 404 wrong url or model, 400 bad request): `ENRICHER_REJECTED`, never
 *   retried, since only a configuration change helps;
 * - a 2xx whose body is not JSON: `ENRICHER_BAD_RESPONSE`.
 * The caller's AbortSignal stops the call at once (also while waiting to retry) with the signal's reason.
 * Messages name the endpoint without its query string, and never contain headers (they may hold secrets).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { z } from 'zod';
import { backoffDelay } from '../core/backoff.ts';
import type { BackoffPolicy } from '../core/backoff.ts';
import { EnricherError } from '../core/errors.ts';
import type { Logger } from '../ports/logger.ts';
import { parseRetryAfter } from '../core/retry-after.ts';

/** Backoff between transient failures of one call: 250 ms, 500 ms, 1 s ... capped at 5 s, ±20 %. */
const RETRY_BACKOFF: BackoffPolicy = { baseMs: 250, maxMs: 5_000, jitter: 0.2 };
/** Wait after a 429 without a readable Retry-After. */
const DEFAULT_RETRY_AFTER_MS = 1_000;
/** `check()` probes give up sooner than enrichments: `doctor` should answer quickly. */
const PROBE_TIMEOUT_MS = 10_000;
/** Header values at least this long are treated as secrets when error bodies are quoted. */
const MIN_SECRET_CHARS = 8;
/** How much of an error body goes into a message. */
const BODY_EXCERPT_CHARS = 300;

/** The transport settings both HTTP-based providers accept (spread into their zod schemas). */
export const httpTransportShape = {
  /** Extra request headers (e.g. a gateway's key header). Never logged. */
  headers: z.record(z.string().min(1), z.string()).default({}),
  /** Per-attempt timeout, from sending the request to the end of the response body. */
  timeoutMs: z.number().int().positive().default(30_000),
  /** Extra attempts after timeouts, connection errors, 408, 429 and 5xx. */
  maxRetries: z.number().int().min(0).max(10).default(2),
  /** Longest Retry-After the call waits for itself; a longer one is left to the queue. */
  maxRetryAfterMs: z.number().int().min(0).default(30_000),
};

/** The transport settings of a provider's config (its validated {@link httpTransportShape} plus key). */
export interface HttpTransportSettings {
  /** Sent as `Authorization: Bearer <apiKey>` when set; wins over an `authorization` in `headers`. */
  readonly apiKey?: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly maxRetryAfterMs: number;
}

/** One answer with its status and raw text. */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
}

/** The verdict of {@link JsonHttpClient.check}. */
export interface CheckOutcome {
  readonly ok: boolean;
  readonly message: string;
  /** The answer, when it was a 2xx. */
  readonly answer?: HttpAnswer;
}

/** The outcome of one attempt: an answer, or a network failure (connection error or timeout). */
type Attempt = HttpAnswer | { readonly failure: Error; readonly timedOut: boolean };

/** A JSON-over-HTTP client with retries and the enricher error mapping. One per enricher instance. */
export class JsonHttpClient {
  readonly #provider: string;
  readonly #options: HttpTransportSettings;
  readonly #headers: Readonly<Record<string, string>>;
  /** Header values that look like secrets, blanked out of error bodies a server might echo them in. */
  readonly #secrets: readonly string[];
  readonly #logger: Logger;
  readonly #dispatcher: Agent;

  /**
   * `provider` starts every error message (`http`, `openai`); `settings` is the provider's validated
   * config (only the transport settings are read).
   */
  constructor(provider: string, settings: HttpTransportSettings, logger: Logger) {
    this.#provider = provider;
    this.#options = settings;
    this.#headers = withBearer(settings.headers, settings.apiKey);
    this.#secrets = [settings.apiKey ?? '', ...Object.values(settings.headers)].filter(
      (value) => value.length >= MIN_SECRET_CHARS,
    );
    this.#logger = logger;
    this.#dispatcher = new Agent({ keepAliveTimeout: 10_000, connect: { timeout: settings.timeoutMs } });
  }

  /** POSTs `body` as JSON to `url` and returns the parsed JSON answer (see the module comment for errors). */
  async postJson(url: string, body: unknown, signal?: AbortSignal): Promise<unknown> {
    const endpoint = `POST ${describeUrl(url)}`;
    const payload = JSON.stringify(body);
    let retries = 0;
    for (;;) {
      const attempt = await this.#send('POST', url, payload, this.#options.timeoutMs, signal);
      const attempts = retries + 1;
      if ('failure' in attempt || isTransientStatus(attempt.status)) {
        const reason =
          'failure' in attempt
            ? attempt.timedOut
              ? `no answer within ${this.#options.timeoutMs} ms`
              : `connection failed (${attempt.failure.message})`
            : `answered ${attempt.status}${this.#excerpt(attempt.text)}`;
        if (retries < this.#options.maxRetries) {
          retries += 1;
          const waitMs = backoffDelay(retries, RETRY_BACKOFF, Math.random);
          this.#logRetry(endpoint, reason, retries, waitMs);
          await pause(waitMs, signal);
          continue;
        }
        throw new EnricherError(
          'ENRICHER_UNAVAILABLE',
          `${this.#provider} enricher: ${endpoint} ${reason} (${attempts} attempt(s)).`,
          'failure' in attempt ? { cause: attempt.failure } : {},
        );
      }
      if (attempt.status === 429) {
        const waitMs =
          parseRetryAfter(headerValue(attempt, 'retry-after'), Date.now()) ?? DEFAULT_RETRY_AFTER_MS;
        if (retries < this.#options.maxRetries && waitMs <= this.#options.maxRetryAfterMs) {
          retries += 1;
          this.#logRetry(endpoint, 'answered 429 (rate limited)', retries, waitMs);
          await pause(waitMs, signal);
          continue;
        }
        throw new EnricherError(
          'ENRICHER_UNAVAILABLE',
          `${this.#provider} enricher: ${endpoint} answered 429 (rate limited; retry after ${waitMs} ms, ${attempts} attempt(s)).`,
          { retryAfterMs: waitMs },
        );
      }
      if (attempt.status < 200 || attempt.status >= 300) {
        throw new EnricherError(
          'ENRICHER_REJECTED',
          `${this.#provider} enricher: ${endpoint} answered ${attempt.status}${this.#excerpt(attempt.text)}. ${rejectionHint(attempt.status)}`,
        );
      }
      return parseJsonBody(
        attempt.text,
        `${this.#provider} enricher: ${endpoint} answered ${attempt.status}`,
      );
    }
  }

  /**
   * One GET without retries, for `check()` (`crmsync doctor`); never throws. 2xx is healthy; 401/403 mean
   * the credentials were refused; 5xx, timeouts and connection errors mean unavailable. Other answers (404,
   * 405) show the server is reachable, which counts as healthy unless `requireSuccess`. `answer` is the 2xx
   * answer, for callers that look closer.
   */
  async check(url: string, requireSuccess: boolean): Promise<CheckOutcome> {
    const timeoutMs = Math.min(this.#options.timeoutMs, PROBE_TIMEOUT_MS);
    const where = `GET ${describeUrl(url)}`;
    const attempt = await this.#send('GET', url, undefined, timeoutMs);
    if ('failure' in attempt) {
      const reason = attempt.timedOut
        ? `no answer within ${timeoutMs} ms`
        : `connection failed (${attempt.failure.message})`;
      return { ok: false, message: `${where}: ${reason}` };
    }
    const answered = `${where} answered ${attempt.status}`;
    if (attempt.status >= 200 && attempt.status < 300)
      return { ok: true, message: answered, answer: attempt };
    if (attempt.status === 401 || attempt.status === 403)
      return { ok: false, message: `${answered}: the credentials (apiKey, headers) were refused` };
    if (!requireSuccess && attempt.status < 500) return { ok: true, message: `${answered}: reachable` };
    return { ok: false, message: `${answered}${this.#excerpt(attempt.text)}` };
  }

  /** Closes the connection pool. */
  async close(): Promise<void> {
    await this.#dispatcher.close();
  }

  /** One attempt. Network failures come back as values; the caller's abort is thrown as its reason. */
  async #send(
    method: 'GET' | 'POST',
    url: string,
    payload: string | undefined,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<Attempt> {
    signal?.throwIfAborted();
    const timeout = AbortSignal.timeout(timeoutMs);
    try {
      const response = await request(url, {
        method,
        dispatcher: this.#dispatcher,
        headers: {
          accept: 'application/json',
          ...(payload !== undefined && { 'content-type': 'application/json' }),
          ...this.#headers,
        },
        ...(payload !== undefined && { body: payload }),
        signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
      });
      const text = await response.body.text();
      return { status: response.statusCode, headers: response.headers, text };
    } catch (error) {
      signal?.throwIfAborted();
      const failure = error instanceof Error ? error : new Error(String(error));
      return { failure, timedOut: timeout.aborted };
    }
  }

  /** {@link bodyExcerpt} with configured secrets blanked out. */
  #excerpt(text: string): string {
    // Blank out before cutting, so that a secret across the cut cannot survive in part.
    return bodyExcerpt(this.#secrets.reduce((redacted, secret) => redacted.replaceAll(secret, '***'), text));
  }

  #logRetry(endpoint: string, reason: string, retry: number, waitMs: number): void {
    this.#logger.warn(
      { provider: this.#provider, endpoint, retry, maxRetries: this.#options.maxRetries, waitMs },
      `enricher call failed (${reason}); retrying`,
    );
  }
}

/**
 * Parses an answer's text as JSON; anything else is ENRICHER_BAD_RESPONSE, with `context` (what answered)
 * and the start of the text.
 */
export function parseJsonBody(text: string, context: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const shown = text.trim() === '' ? 'an empty body' : `a body that is not JSON: ${excerpt(text)}`;
    throw new EnricherError('ENRICHER_BAD_RESPONSE', `${context} with ${shown}`);
  }
}

/** 408 (request timeout) and 5xx: the server could not answer now; another attempt may succeed. */
function isTransientStatus(status: number): boolean {
  return status === 408 || status >= 500;
}

function rejectionHint(status: number): string {
  if (status === 401 || status === 403) return 'Check the apiKey (and headers) of the enricher.';
  if (status === 404) return 'Check the url (or baseUrl and model) of the enricher.';
  if (status >= 300 && status < 400) return 'Redirects are not followed; configure the final address.';
  return 'The request was refused; retrying will not help until the configuration is fixed.';
}

/** Waits `ms`, or throws the reason at once when `signal` is aborted. */
async function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await delay(ms, undefined, signal === undefined ? {} : { signal });
  } catch (error) {
    signal?.throwIfAborted();
    throw error;
  }
}

/** The endpoint for messages: origin and path, without a query string (which may hold a key). */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return '(invalid url)';
  }
}

function headerValue(answer: HttpAnswer, name: string): string | undefined {
  const value = answer.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** `: <message>` for an error body: a JSON error's message if there is one, else the start of the text. */
function bodyExcerpt(text: string): string {
  if (text.trim() === '') return '';
  let message: unknown;
  try {
    const json: unknown = JSON.parse(text);
    message = errorMessageOf(json);
  } catch {
    // Not JSON (a proxy's HTML page, plain text): show its start.
  }
  return `: ${excerpt(typeof message === 'string' ? message : text)}`;
}

/** `error.message`, `message` or `error` of an error body (OpenAI, most gateways, plain services). */
function errorMessageOf(json: unknown): unknown {
  if (typeof json !== 'object' || json === null) return undefined;
  const record = json as Record<string, unknown>;
  const error = record['error'];
  if (typeof error === 'object' && error !== null) return (error as Record<string, unknown>)['message'];
  return record['message'] ?? error;
}

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > BODY_EXCERPT_CHARS ? `${flat.slice(0, BODY_EXCERPT_CHARS)}…` : flat;
}

/** `headers` plus `Authorization: Bearer` when there is a key (the key replaces a configured header). */
function withBearer(
  headers: Readonly<Record<string, string>>,
  apiKey: string | undefined,
): Record<string, string> {
  if (apiKey === undefined) return { ...headers };
  const others = Object.entries(headers).filter(([name]) => name.toLowerCase() !== 'authorization');
  return { ...Object.fromEntries(others), authorization: `Bearer ${apiKey}` };
}
