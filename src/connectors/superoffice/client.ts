/**
 * The HTTP client of the SuperOffice WebAPI, on the shared vendor loop (../shared/vendor-http.ts: the
 * connection's API budget, 429 `Retry-After` pausing the connection within `maxRateLimitWaitMs`, backoff
 * retries of idempotent calls, metrics per route). What is SuperOffice's own:
 * - every call carries `Authorization: Bearer` and `Accept-Language: *` (without it list names come back raw,
 *   reference §2.3);
 * - 401: refresh the token once and retry; 421: rediscover the tenant's host once and retry (the tenant moved,
 *   reference §2.2), and page links issued before the move follow the tenant to its new host;
 * - idempotent are GET, PUT, DELETE, and PATCH with If-Unmodified-Since; a POST is never repeated once sent
 *   (unanswered or answered 5xx, it is VENDOR_WRITE_AMBIGUOUS);
 * - 304 is an answer, not an error (conditional GETs).
 */
import type { JsonObject, JsonValue } from '../../core/types.ts';
import type { ConnectorStateRepository } from '../../ports/store.ts';
import { answeredMessage } from '../shared/api-error.ts';
import { getField, isObject } from '../shared/casing.ts';
import { VendorHttpClient, bearerAttempt } from '../shared/vendor-http.ts';
import type { Query, VendorClientDeps, VendorRequest, VendorResponse } from '../shared/vendor-http.ts';
import { TokenProvider } from './auth.ts';
import type { Session } from './auth.ts';
import { SuperOfficeApiError, SuperOfficeAuthError } from './errors.ts';
import type { SuperOfficeOptions } from './options.ts';

/** Without it list names come back raw (reference §2.3). */
const ACCEPT_ANY_LANGUAGE = { 'accept-language': '*' };

/** One WebAPI call. */
export interface ApiRequest extends VendorRequest {
  /** Path below `.../api/v1/` (e.g. `Contact/5`), or an absolute URL (an `odata.nextLink`). */
  readonly path: string;
  readonly query?: Query;
}

/** A WebAPI answer: status, headers and the parsed JSON body (null when empty). */
export type ApiResponse = VendorResponse;

/** What the client needs. */
export interface SuperOfficeClientOptions extends VendorClientDeps<SuperOfficeOptions> {
  readonly state: ConnectorStateRepository;
}

/** Whether a failed attempt may be repeated without risk of doing the work twice. */
export function isIdempotent(method: string, headers: Readonly<Record<string, string>> = {}): boolean {
  if (method === 'GET' || method === 'PUT' || method === 'DELETE') return true;
  // A conditional PATCH cannot apply twice: after the first success the record is newer than the condition.
  return method === 'PATCH' && getField(headers, 'if-unmodified-since') !== undefined;
}

/** The WebAPI client of one connection. */
export class SuperOfficeClient {
  readonly #http: VendorHttpClient<ApiRequest, Session>;
  readonly #auth: TokenProvider;

  constructor(deps: SuperOfficeClientOptions) {
    this.#http = new VendorHttpClient<ApiRequest, Session>(deps, {
      session: () => this.#auth.session(),
      prepare: (call, session) =>
        bearerAttempt(session, rebase(call.path, session.apiBaseUrl), call.query, ACCEPT_ANY_LANGUAGE),
      isIdempotent: (call) => isIdempotent(call.method, call.headers),
      reauthenticate: () => this.#auth.refresh(),
      rediscover: () => this.#auth.rediscover(),
      errorFromResponse: apiError,
      apiError: (call, message, options) =>
        new SuperOfficeApiError(message, { ...options, route: call.route }),
    });
    this.#auth = new TokenProvider({ ...deps, dispatcher: this.#http.transport.dispatcher });
  }

  /** The current session (token, tenant base, API user's associate id); refreshes when needed. */
  session(): Promise<Session> {
    return this.#auth.session();
  }

  /** Sends one call with the retry rules of the module documentation. */
  send(call: ApiRequest): Promise<ApiResponse> {
    return this.#http.send(acceptingNotModified(call));
  }

  /** Sends a call and returns its JSON body, which must be an object. */
  json(call: ApiRequest): Promise<JsonObject> {
    return this.#http.json(acceptingNotModified(call));
  }

  /** Closes the connection pool. */
  async close(): Promise<void> {
    await this.#http.close();
  }
}

/** The call with 304 Not Modified among the statuses it expects: an answer to a conditional GET, no error. */
function acceptingNotModified(call: ApiRequest): ApiRequest {
  return { ...call, expect: [304, ...(call.expect ?? [])] };
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

/** The vendor's error message, if its body has one (the body shape is [UNCONFIRMED], reference §5). */
function vendorMessage(body: JsonValue | null): string {
  if (typeof body === 'string') return body;
  if (!isObject(body)) return '';
  const message = getField(body, 'Message') ?? getField(body, 'error_description') ?? getField(body, 'error');
  return typeof message === 'string' ? message : '';
}

/** The typed error of an error answer; a 401 reaches it only when a fresh token was refused too. */
function apiError(
  call: ApiRequest,
  response: ApiResponse,
  extra: { retryAfterMs?: number },
): SuperOfficeApiError | SuperOfficeAuthError {
  if (response.status === 401) {
    return new SuperOfficeAuthError(
      `${call.route} answered 401 even with a fresh access token: the API user lacks access or consent was revoked.`,
      { status: response.status },
    );
  }
  return new SuperOfficeApiError(answeredMessage(call.route, response.status, vendorMessage(response.body)), {
    status: response.status,
    route: call.route,
    ...extra,
  });
}
