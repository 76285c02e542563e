/**
 * One HTTP exchange with a vendor host on undici: sent through the connection's pool, timed out, and reported
 * to the ApiCallRecorder by route template whatever happens. It is the step under every vendor call, to the
 * API and to the auth hosts alike. No retries and no status handling: the callers decide (./vendor-http.ts
 * for API calls, each vendor's auth.ts for token and discovery calls).
 */
import type { Dispatcher } from 'undici';
import { request } from 'undici';
import type { JsonValue } from '../../core/types.ts';
import type { ApiCallRecorder } from '../../ports/connector.ts';

/** Response headers as undici gives them (lowercase names). */
export type ResponseHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** What a connection's exchanges go through and are reported to. */
export interface HttpTransport {
  /** The connection name, for the metrics. */
  readonly connection: string;
  /** The connection's pool (one undici Agent per connection, shared by its API and auth calls). */
  readonly dispatcher: Dispatcher;
  readonly apiCalls: ApiCallRecorder;
  /** Timeout for the response headers and again for the body, in milliseconds. */
  readonly timeoutMs: number;
}

/** The transport of a connection, from what its vendor client or token provider is given. */
export function transportOf(deps: {
  readonly connection: string;
  readonly dispatcher: Dispatcher;
  readonly apiCalls: ApiCallRecorder;
  readonly options: { readonly requestTimeoutMs: number };
}): HttpTransport {
  const { connection, dispatcher, apiCalls } = deps;
  return { connection, dispatcher, apiCalls, timeoutMs: deps.options.requestTimeoutMs };
}

/** One request, ready to send. */
export interface HttpExchange {
  readonly method: Dispatcher.HttpMethod;
  readonly url: string | URL;
  /** The route template for metrics, e.g. `POST api/v1/Token` (never the concrete URL). */
  readonly route: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The serialised body, if any. */
  readonly body?: string;
  /** Aborts the exchange (undici rejects with the signal's reason). */
  readonly signal?: AbortSignal;
}

/** An answer with its body read as text. */
export interface RawAnswer {
  readonly status: number;
  readonly headers: ResponseHeaders;
  readonly text: string;
}

/**
 * Sends one request and reads its body. Connection errors and timeouts are thrown as they come from undici;
 * the call is reported either way (status `error` when no answer came).
 */
export async function exchange(transport: HttpTransport, call: HttpExchange): Promise<RawAnswer> {
  const { connection, dispatcher, apiCalls, timeoutMs } = transport;
  const started = performance.now();
  let status: number | 'error' = 'error';
  try {
    const response = await request(call.url, {
      method: call.method,
      dispatcher,
      headers: call.headers,
      ...(call.body !== undefined && { body: call.body }),
      ...(call.signal !== undefined && { signal: call.signal }),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    status = response.statusCode;
    return { status, headers: response.headers, text: await response.body.text() };
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

/** JSON when the text parses, else the start of the text itself (HTML error pages of proxies, plain text). */
export function parseJsonOrText(text: string): JsonValue | null {
  if (text === '') return null;
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text.slice(0, 500);
  }
}

/** The first value of a response header (`name` in lowercase), or undefined. */
export function headerValue(headers: ResponseHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
