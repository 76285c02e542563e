/**
 * The HTTP client of the advoware API, one per connection, on the shared vendor loop
 * (../shared/vendor-http.ts: the connection's API budget, 429 `Retry-After` pausing the connection within
 * `maxRateLimitWaitMs` (the vendor documents no limit, reference §8, but a proxy or the simulator may
 * throttle), backoff retries of idempotent calls, metrics per route). What is advoware's own:
 * - every call carries `Authorization: Bearer` (reference §3) and goes to the API base found by discovery;
 * - 401: get a new token once and retry (the token expired early or was revoked);
 * - idempotent are GET and PUT (which replaces the whole record); a POST is never repeated once sent
 *   (unanswered or answered 5xx, it is VENDOR_WRITE_AMBIGUOUS). When the host
 *   stays unreachable the cached discovery is dropped, so the next call asks the configurator again.
 */
import type { ConnectorStateRepository } from '../../ports/store.ts';
import { answeredMessage } from '../shared/api-error.ts';
import { VendorHttpClient, bearerAttempt } from '../shared/vendor-http.ts';
import type { Query, VendorClientDeps, VendorRequest, VendorResponse } from '../shared/vendor-http.ts';
import { AdvowareTokenProvider } from './auth.ts';
import type { AdvowareSession } from './auth.ts';
import { AdvowareApiError, AdvowareAuthError, vendorMessage } from './errors.ts';
import type { AdvowareOptions } from './options.ts';

/**
 * The methods the client sends. DELETE is deliberately absent: the vendor forbids deleting Kommunikationen
 * (403, seed 003) and nothing else is deleted through the API.
 */
export type AdvowareMethod = 'GET' | 'POST' | 'PUT';

/** One API call. */
export interface AdvowareRequest extends VendorRequest<AdvowareMethod> {
  /** Path below the discovered API base, without a leading slash, e.g. `api/v1/advonet/Beteiligte/5`. */
  readonly path: string;
  readonly query?: Query;
}

/** An API answer: status, headers and the parsed JSON body (null when empty, text when not JSON). */
export type AdvowareResponse = VendorResponse;

/** What the client needs. */
export interface AdvowareClientOptions extends VendorClientDeps<AdvowareOptions> {
  readonly state: ConnectorStateRepository;
}

/** Whether a failed attempt may be repeated without risk of doing the work twice. */
export function isIdempotent(method: AdvowareMethod): boolean {
  return method === 'GET' || method === 'PUT';
}

/** The API client of one connection. */
export class AdvowareClient {
  readonly #http: VendorHttpClient<AdvowareRequest, AdvowareSession>;
  readonly #auth: AdvowareTokenProvider;

  constructor(deps: AdvowareClientOptions) {
    this.#http = new VendorHttpClient<AdvowareRequest, AdvowareSession>(deps, {
      session: () => this.#auth.session(),
      prepare: (call, session) => bearerAttempt(session, call.path.replace(/^\/+/, ''), call.query),
      isIdempotent: (call) => isIdempotent(call.method),
      reauthenticate: (rejected) => this.#auth.refresh(rejected.accessToken),
      onUnreachable: () => this.#auth.forget(),
      errorFromResponse: (call, response, extra) => apiError(call, response, extra, deps.options.user),
      apiError: (call, message, options) => new AdvowareApiError(message, { ...options, route: call.route }),
    });
    this.#auth = new AdvowareTokenProvider({ ...deps, dispatcher: this.#http.transport.dispatcher });
  }

  /** The token provider (discovery and token), for check() and tools. */
  get auth(): AdvowareTokenProvider {
    return this.#auth;
  }

  /** The current session (token and API base); gets a token when needed. */
  session(): Promise<AdvowareSession> {
    return this.#auth.session();
  }

  /** Takes a budget token now for a call sent later with `budgetTaken` (see VendorHttpClient). */
  takeBudget(): Promise<void> {
    return this.#http.takeBudget();
  }

  /** Sends one call with the retry rules of the module documentation. */
  send(call: AdvowareRequest): Promise<AdvowareResponse> {
    return this.#http.send(call);
  }

  /** Closes the connection pool. */
  async close(): Promise<void> {
    await this.#http.close();
  }
}

/** The typed error of an error answer; a 401 reaches it only when a new token was refused too. */
function apiError(
  call: AdvowareRequest,
  response: AdvowareResponse,
  extra: { retryAfterMs?: number },
  user: string,
): AdvowareApiError | AdvowareAuthError {
  if (response.status === 401) {
    return new AdvowareAuthError(
      `${call.route} answered 401 even with a new token: the user ${user} may lack rights in advoware, or the App-ID is not unlocked for this Kanzlei.`,
      { status: response.status },
    );
  }
  return new AdvowareApiError(answeredMessage(call.route, response.status, vendorMessage(response.body)), {
    status: response.status,
    route: call.route,
    ...extra,
  });
}
