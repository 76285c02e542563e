/**
 * OAuth for SuperOffice Online (reference §2): the refresh-token grant against the environment's token
 * endpoint, an access-token cache (in memory and in the connector state, so a restart reuses a valid token),
 * and tenant discovery: the WebAPI base URL from the id_token's `webapi_url` claim, or the tenant status
 * endpoint `GET {authBase}/api/state/{ContextIdentifier}` when the claim is missing or the host answered 421.
 * Every failure is a typed {@link SuperOfficeAuthError}, never a silent null (seed 001).
 */
import type { Dispatcher } from 'undici';
import type { Clock } from '../../ports/clock.ts';
import type { ApiCallRecorder } from '../../ports/connector.ts';
import type { ConnectorStateRepository } from '../../ports/store.ts';
import { getField, isObject } from '../shared/casing.ts';
import { exchange, transportOf } from '../shared/http-exchange.ts';
import type { HttpTransport } from '../shared/http-exchange.ts';
import { SingleFlight, StateCache } from '../shared/token-cache.ts';
import { SuperOfficeAuthError } from './errors.ts';
import { authBaseUrl } from './options.ts';
import type { SuperOfficeOptions } from './options.ts';

/** Prefix of SuperOffice's own id_token claims. */
const CLAIM_PREFIX = 'http://schemes.superoffice.net/identity/';

/** Refresh this long before the token expires, so a request never starts with a token about to lapse. */
const EXPIRY_MARGIN_MS = 60_000;
/** Used when the token response has no `expires_in` (the vendor documents 3600 s). */
const DEFAULT_LIFETIME_S = 3_600;
const STATE_KEY = 'auth.session';

/** A usable access token with what was learnt along with it. */
export interface Session {
  readonly accessToken: string;
  /** Epoch ms after which the token must not be used (already minus the safety margin). */
  readonly expiresAt: number;
  /** The tenant's WebAPI base, ending in `/api/v1/`. */
  readonly apiBaseUrl: string;
  /** The API user's associate id from the id_token, when present. */
  readonly associateId: number | null;
}

/** What the token provider needs. */
export interface TokenProviderOptions {
  readonly connection: string;
  readonly options: SuperOfficeOptions;
  readonly clock: Clock;
  readonly state: ConnectorStateRepository;
  readonly apiCalls: ApiCallRecorder;
  readonly dispatcher: Dispatcher;
}

/**
 * Normalises a `webapi_url` claim (`https://online3.superoffice.com/Cust12345/api/`) or a tenant status
 * `Endpoint` (`https://online3.superoffice.com/Cust12345`) to the versioned base `.../Cust12345/api/v1/`.
 */
export function apiBaseFrom(url: string): string {
  const trimmed = url.replace(/\/+$/, '');
  if (/\/api\/v1$/i.test(trimmed)) return `${trimmed}/`;
  if (/\/api$/i.test(trimmed)) return `${trimmed}/v1/`;
  return `${trimmed}/api/v1/`;
}

/** The claims of a JWT (no signature check: the token came straight from the token endpoint over TLS). */
function decodeJwtClaims(token: string): Record<string, unknown> {
  const payload = token.split('.')[1];
  if (payload === undefined) return {};
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    return isObject(claims) ? claims : {};
  } catch {
    return {};
  }
}

function claim(claims: Record<string, unknown>, name: string): unknown {
  return getField(claims, CLAIM_PREFIX + name) ?? getField(claims, name);
}

/** Gets, caches and refreshes access tokens of one connection. Concurrent callers share one refresh. */
export class TokenProvider {
  readonly #deps: TokenProviderOptions;
  readonly #transport: HttpTransport;
  readonly #session: StateCache<Session>;
  readonly #refreshing = new SingleFlight<Session>();

  constructor(deps: TokenProviderOptions) {
    this.#deps = deps;
    this.#transport = transportOf(deps);
    const { connection, state, clock } = deps;
    this.#session = new StateCache({ connection, state, clock, key: STATE_KEY, isValid: isStoredSession });
  }

  /** A valid session: cached in memory, else from the connector state, else refreshed. */
  async session(): Promise<Session> {
    return (await this.#session.get()) ?? this.refresh();
  }

  /** Forgets the cached token (after a 401) and gets a new one; concurrent callers share one refresh. */
  async refresh(): Promise<Session> {
    return this.#refreshing.run(() => this.#refresh());
  }

  /**
   * Finds the tenant's current WebAPI base after a 421 (the tenant moved to another cluster host), through
   * the tenant status endpoint, and keeps the current token.
   */
  async rediscover(): Promise<Session> {
    const current = await this.session();
    const apiBaseUrl = await this.#tenantStatusBase();
    const session = { ...current, apiBaseUrl };
    await this.#session.set(session);
    return session;
  }

  async #refresh(): Promise<Session> {
    const { options, clock } = this.#deps;
    const form = new URLSearchParams({
      grant_type: 'refresh_token',
      client_id: options.clientId,
      client_secret: options.clientSecret,
      refresh_token: options.refreshToken,
      ...(options.redirectUri !== undefined && { redirect_uri: options.redirectUri }),
    });
    const body = await this.#call(
      'POST',
      '/login/common/oauth/tokens',
      'POST login/common/oauth/tokens',
      form,
    );
    const accessToken = body['access_token'];
    if (typeof accessToken !== 'string' || accessToken === '') {
      throw new SuperOfficeAuthError(
        `The token endpoint of ${authBaseUrl(options)} answered without an access_token.`,
      );
    }
    const expiresIn = typeof body['expires_in'] === 'number' ? body['expires_in'] : DEFAULT_LIFETIME_S;
    const claims = typeof body['id_token'] === 'string' ? decodeJwtClaims(body['id_token']) : {};
    const webapiUrl = claim(claims, 'webapi_url');
    const associateClaim = Number(claim(claims, 'associateid'));
    const session: Session = {
      accessToken,
      expiresAt: clock.now() + Math.max(0, expiresIn * 1_000 - EXPIRY_MARGIN_MS),
      apiBaseUrl:
        typeof webapiUrl === 'string' && webapiUrl !== ''
          ? apiBaseFrom(webapiUrl)
          : await this.#tenantStatusBase(),
      associateId: Number.isInteger(associateClaim) && associateClaim > 0 ? associateClaim : null,
    };
    await this.#session.set(session);
    return session;
  }

  async #tenantStatusBase(): Promise<string> {
    const context = this.#deps.options.contextIdentifier;
    const body = await this.#call('GET', `/api/state/${encodeURIComponent(context)}`, 'GET api/state/:ctx');
    const endpoint = getField(body, 'Endpoint');
    if (typeof endpoint !== 'string' || endpoint === '') {
      throw new SuperOfficeAuthError(
        `The tenant status of ${context} has no Endpoint; check SO_CONTEXT_IDENTIFIER and SO_ENVIRONMENT.`,
      );
    }
    return apiBaseFrom(endpoint);
  }

  /** One call to the auth host, with typed errors that never echo the request (it holds secrets). */
  async #call(
    method: 'GET' | 'POST',
    path: string,
    route: string,
    form?: URLSearchParams,
  ): Promise<Record<string, unknown>> {
    const url = authBaseUrl(this.#deps.options) + path;
    try {
      const { status, text } = await exchange(this.#transport, {
        method,
        url,
        route,
        headers: {
          accept: 'application/json',
          ...(form !== undefined && { 'content-type': 'application/x-www-form-urlencoded' }),
        },
        ...(form !== undefined && { body: form.toString() }),
      });
      if (status >= 200 && status < 300) {
        const parsed: unknown = text === '' ? {} : JSON.parse(text);
        if (!isObject(parsed))
          throw new SuperOfficeAuthError(`${url} answered with JSON that is not an object.`);
        return parsed;
      }
      throw authFailure(url, status, path.startsWith('/login'));
    } catch (error) {
      if (error instanceof SuperOfficeAuthError) throw error;
      throw new SuperOfficeAuthError(`Could not reach ${url}: ${(error as Error).message}`, {
        retryable: true,
        cause: error,
      });
    }
  }
}

function authFailure(url: string, status: number, isTokenEndpoint: boolean): SuperOfficeAuthError {
  if (status >= 500 || status === 429) {
    return new SuperOfficeAuthError(`${url} answered ${status}; will retry.`, { retryable: true, status });
  }
  const fix = isTokenEndpoint
    ? 'the refresh token or client credentials were rejected: check SO_CLIENT_ID, SO_CLIENT_SECRET and SO_REDIRECT_URI, or run the authorization flow again and update SO_REFRESH_TOKEN'
    : 'check SO_CONTEXT_IDENTIFIER and SO_ENVIRONMENT';
  return new SuperOfficeAuthError(`${url} answered ${status}: ${fix}.`, { status });
}

function isStoredSession(value: Record<string, unknown>): value is Record<string, unknown> & Session {
  return (
    typeof value['accessToken'] === 'string' &&
    typeof value['expiresAt'] === 'number' &&
    typeof value['apiBaseUrl'] === 'string'
  );
}
