/**
 * The HTTP client of the EspoCRM API, one per connection, on the shared vendor loop
 * (../shared/vendor-http.ts: the connection's API budget, 429 `Retry-After` pausing the connection within
 * `maxRateLimitWaitMs` (from a proxy; EspoCRM itself has no rate limit), backoff retries of idempotent calls,
 * metrics per route). What is EspoCRM's own:
 * - every request carries the auth header of ./auth.ts (API key, or HMAC over method and path); the key does
 *   not expire, so there is no session and no re-authentication: a 401 is an error;
 * - 5xx (503 is maintenance mode), timeouts and connection errors are retried for every method but POST. PUT
 *   and PATCH are partial updates that end in the same state when applied twice (and with `X-Version-Number`
 *   the second attempt finds nothing conflicting, reference §2), DELETE of a deleted record is a 404 the
 *   caller treats as done; a POST is never repeated once sent, it could create a record twice (unanswered or
 *   answered 5xx, it is VENDOR_WRITE_AMBIGUOUS);
 * - any other error status: a typed error from the status, `X-Status-Reason` and the body (./errors.ts).
 */
import type { JsonObject, JsonValue } from '../../core/types.ts';
import { isJsonObject } from '../shared/casing.ts';
import { headerValue } from '../shared/http-exchange.ts';
import { VendorHttpClient } from '../shared/vendor-http.ts';
import type {
  HttpMethod,
  Query,
  VendorClientDeps,
  VendorRequest,
  VendorResponse,
} from '../shared/vendor-http.ts';
import { apiBaseUrl, authHeaders } from './auth.ts';
import {
  EspoCrmApiError,
  EspoCrmAuthError,
  EspoCrmDuplicateError,
  EspoCrmMaxSizeError,
  EspoCrmStaleWriteError,
  EspoCrmValidationError,
} from './errors.ts';
import type { CallSite } from './errors.ts';
import type { EspoCrmOptions } from './options.ts';

export type { HttpMethod } from '../shared/vendor-http.ts';

/** The header EspoCRM puts the error reason into. */
const STATUS_REASON_HEADER = 'x-status-reason';

/** One API call. */
export interface EspoCrmRequest extends VendorRequest {
  /** Path below `/api/v1/`, segments already encoded, e.g. `Account/5564764442a6d024c`. */
  readonly path: string;
  /** The record or entity the call is about (`Account 5564764442a6d024c`), for messages. */
  readonly subject?: string;
  readonly query?: URLSearchParams | Query;
}

/** An API answer: status, headers, `X-Status-Reason` and the parsed JSON body (null when empty). */
export interface EspoCrmResponse extends VendorResponse {
  /** The `X-Status-Reason` header, or null. */
  readonly reason: string | null;
}

/** What the client needs. */
export type EspoCrmClientOptions = VendorClientDeps<EspoCrmOptions>;

/** Whether a failed attempt may be repeated without risk of doing the work twice (see the module comment). */
export function isIdempotent(method: HttpMethod): boolean {
  return method !== 'POST';
}

/** The EspoCRM API client of one connection. */
export class EspoCrmClient {
  /** The API base URL, `https://host/api/v1/`. */
  readonly apiBase: URL;
  readonly #http: VendorHttpClient<EspoCrmRequest, void>;

  constructor(deps: EspoCrmClientOptions) {
    const { auth } = deps.options;
    this.apiBase = apiBaseUrl(deps.options.baseUrl);
    this.#http = new VendorHttpClient<EspoCrmRequest, void>(deps, {
      session: () => Promise.resolve(),
      prepare: (call) => {
        const url = this.url(call);
        return { url, headers: authHeaders(auth, call.method, url, this.apiBase) };
      },
      isIdempotent: (call) => isIdempotent(call.method),
      errorFromResponse: (call, response, extra) =>
        errorFromResponse(callSite(call), withReason(response), extra),
      apiError: (call, message, options) => new EspoCrmApiError(message, { ...options, ...callSite(call) }),
    });
  }

  /** Sends one call with the retry rules of the module documentation; throws typed errors. */
  async send(call: EspoCrmRequest): Promise<EspoCrmResponse> {
    return withReason(await this.#http.send(call));
  }

  /** Sends a call and returns its JSON body, which must be an object. */
  json(call: EspoCrmRequest): Promise<JsonObject> {
    return this.#http.json(call);
  }

  /** The full URL of a call (exposed for tools that print what they would send). */
  url(call: Pick<EspoCrmRequest, 'path' | 'query'>): URL {
    const url = new URL(call.path.replace(/^\/+/, ''), this.apiBase);
    const query = call.query instanceof URLSearchParams ? call.query : Object.entries(call.query ?? {});
    for (const [name, value] of query) {
      if (value !== undefined) url.searchParams.append(name, String(value));
    }
    return url;
  }

  /** Closes the connection pool. */
  async close(): Promise<void> {
    await this.#http.close();
  }
}

/** Where a call went, for messages: route template and subject. */
function callSite(call: EspoCrmRequest): CallSite {
  return { route: call.route, subject: call.subject };
}

/** The answer with its `X-Status-Reason`. */
function withReason(response: VendorResponse): EspoCrmResponse {
  return { ...response, reason: headerValue(response.headers, STATUS_REASON_HEADER) ?? null };
}

/** The validation failure of a 400: from the body's `messageTranslation.data`, else from the reason text. */
function validationFailure(
  reason: string | null,
  body: JsonValue | null,
): { field: string | null; type: string | null; entityType: string | null } | null {
  const translation = isJsonObject(body) ? body['messageTranslation'] : undefined;
  const data = isJsonObject(translation) ? translation['data'] : undefined;
  const fromReason = (name: string) =>
    new RegExp(`${name}: ([^,.;]+)`).exec(reason ?? '')?.[1]?.trim() ?? null;
  const isValidation =
    (isJsonObject(translation) && translation['label'] === 'validationFailure') ||
    /^Field validation failure/i.test(reason ?? '');
  if (!isValidation) return null;
  const text = (key: string) => (isJsonObject(data) && typeof data[key] === 'string' ? data[key] : null);
  return {
    field: text('field') ?? fromReason('field'),
    type: text('type') ?? fromReason('type'),
    entityType: fromReason('entityType'),
  };
}

/** The typed error of an error answer (table in ./errors.ts). */
export function errorFromResponse(
  site: CallSite,
  response: Pick<EspoCrmResponse, 'status' | 'reason' | 'body'>,
  extra: { retryAfterMs?: number } = {},
): EspoCrmApiError | EspoCrmStaleWriteError {
  const { status, reason, body } = response;
  if (status === 401) return new EspoCrmAuthError(site, reason);
  if (status === 400) {
    const failure = validationFailure(reason, body);
    if (failure !== null) return new EspoCrmValidationError(site, reason, failure);
  }
  if (status === 403 && /^Max size should not exceed/i.test(reason ?? ''))
    return new EspoCrmMaxSizeError(site, reason);
  if (status === 409 && reason === 'duplicate') {
    return new EspoCrmDuplicateError(site, Array.isArray(body) ? body.filter(isJsonObject) : []);
  }
  if (status === 409 && reason === 'modified') {
    const values = isJsonObject(body) && isJsonObject(body['values']) ? body['values'] : {};
    const version =
      isJsonObject(body) && typeof body['versionNumber'] === 'number' ? body['versionNumber'] : null;
    return new EspoCrmStaleWriteError(site, values, version);
  }
  const detail = reason ?? (typeof body === 'string' && body !== '' ? body.slice(0, 200) : null);
  return new EspoCrmApiError(
    `${site.subject ?? site.route} answered ${status}${detail === null ? '' : `: ${detail}`}`,
    {
      ...site,
      status,
      reason,
      ...extra,
    },
  );
}
