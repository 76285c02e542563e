/**
 * API access for one advoware connection (reference §2-3): base-URL discovery through the configurator, then
 * the signed token request to the security gateway. Both results are cached in memory and in the connector
 * state (so a restart reuses a valid token): discovery for a day, the token until `expiration_utc` minus the
 * refresh margin. Concurrent callers share one token request. Every failure is a typed
 * {@link AdvowareAuthError}; neither the password nor the API key ever appears in a message or a log.
 */
import { createHash } from 'node:crypto';
import type { Dispatcher } from 'undici';
import type { JsonObject } from '../../core/types.ts';
import type { Clock } from '../../ports/clock.ts';
import type { ApiCallRecorder } from '../../ports/connector.ts';
import type { ConnectorStateRepository } from '../../ports/store.ts';
import { getField, isObject } from '../shared/casing.ts';
import { exchange, parseJsonOrText, transportOf } from '../shared/http-exchange.ts';
import type { HttpTransport } from '../shared/http-exchange.ts';
import { SingleFlight, StateCache } from '../shared/token-cache.ts';
import { parseConfiguratorAnswer } from './discovery.ts';
import type { Discovery } from './discovery.ts';
import { AdvowareAuthError, tokenRequestFailure, vendorMessage } from './errors.ts';
import type { AdvowareOptions } from './options.ts';
import { requestTimestamp, tokenRequestBody } from './signature.ts';

/** [INF] Token lifetime when the answer has neither `expiration_utc` nor `expires_in` (undocumented, §3). */
const DEFAULT_LIFETIME_S = 3_600;
/** Lifetime assumed when `expiration_utc` is already past by our clock (clock skew): use it, renew soon. */
const SKEWED_LIFETIME_S = 60;
/** The configurator's answer changes only when a firm moves its server; re-ask daily, or after failures. */
const DISCOVERY_TTL_MS = 24 * 3_600_000;
const SESSION_KEY = 'auth.session';
const DISCOVERY_KEY = 'auth.discovery';

/** A usable access token and the API base it is for. */
export interface AdvowareSession {
  readonly accessToken: string;
  /** Epoch ms after which the token is not used any more (already minus the refresh margin). */
  readonly expiresAt: number;
  /** The API base, ending in `/`. */
  readonly apiBaseUrl: string;
}

/** What the token provider needs. */
export interface TokenProviderOptions {
  readonly connection: string;
  readonly options: AdvowareOptions;
  readonly clock: Clock;
  readonly state: ConnectorStateRepository;
  readonly apiCalls: ApiCallRecorder;
  readonly dispatcher: Dispatcher;
}

/** The token endpoint below a security gateway URL (which ends in `/`). */
export function tokenUrl(securityGatewayUrl: string): string {
  return `${securityGatewayUrl}api/v1/Token`;
}

/** Epoch ms of a vendor UTC datetime; a value without a zone is UTC (reference §3, §9). */
export function parseUtc(value: string): number | null {
  const zoned = /(?:Z|[+-]\d{2}:?\d{2})$/i.test(value.trim()) ? value.trim() : `${value.trim()}Z`;
  const ms = Date.parse(zoned);
  return Number.isNaN(ms) ? null : ms;
}

/**
 * The access token and until when to use it, from a token answer (reference §3): `access_token`, and
 * `expiration_utc` (fallback `expires_in` seconds, then one hour [INF]). The refresh margin is capped at half
 * the lifetime, so a short-lived token is still used.
 */
export function parseTokenAnswer(
  body: unknown,
  now: number,
  marginMs: number,
): { accessToken: string; expiresAt: number } {
  const accessToken = isObject(body) ? getField(body, 'access_token') : undefined;
  if (typeof accessToken !== 'string' || accessToken === '') {
    throw new AdvowareAuthError(
      'The advoware token endpoint answered without an access_token; check ADVOWARE_CONFIGURATOR_URL points at the vendor configurator.',
    );
  }
  const expiration = getField(body as Record<string, unknown>, 'expiration_utc');
  const expiresIn = getField(body as Record<string, unknown>, 'expires_in');
  const fromExpiration = typeof expiration === 'string' ? parseUtc(expiration) : null;
  const fallbackS = typeof expiresIn === 'number' && expiresIn > 0 ? expiresIn : DEFAULT_LIFETIME_S;
  let lifetimeMs = fromExpiration === null ? fallbackS * 1_000 : fromExpiration - now;
  if (lifetimeMs <= 0)
    lifetimeMs = (typeof expiresIn === 'number' && expiresIn > 0 ? expiresIn : SKEWED_LIFETIME_S) * 1_000;
  return { accessToken, expiresAt: now + lifetimeMs - Math.min(marginMs, lifetimeMs / 2) };
}

/**
 * Identifies the account a cached token or discovery belongs to, so that changing the Kanzlei, user or
 * App-ID in the config never reuses a token of the old account. Holds no secret.
 */
function accountFingerprint(options: AdvowareOptions): string {
  const { configuratorUrl, kanzlei, database, user, role, appId, product } = options;
  return createHash('sha256')
    .update(JSON.stringify([configuratorUrl, kanzlei, database, user, role, appId, product]))
    .digest('hex')
    .slice(0, 32);
}

/** Gets, caches and renews access tokens of one connection. */
export class AdvowareTokenProvider {
  readonly #deps: TokenProviderOptions;
  readonly #transport: HttpTransport;
  readonly #session: StateCache<AdvowareSession>;
  readonly #discovery: StateCache<Discovery & { expiresAt: number }>;
  readonly #refreshing = new SingleFlight<AdvowareSession>();

  constructor(deps: TokenProviderOptions) {
    this.#deps = deps;
    this.#transport = transportOf(deps);
    // Both caches are tagged with the account, so a changed Kanzlei, user or App-ID starts afresh.
    const { connection, state, clock } = deps;
    const cache = { connection, state, clock, account: accountFingerprint(deps.options) };
    this.#session = new StateCache({ ...cache, key: SESSION_KEY, isValid: isSession });
    this.#discovery = new StateCache({ ...cache, key: DISCOVERY_KEY, isValid: isDiscovery });
  }

  /** A valid session: cached in memory, else from the connector state, else a new token. */
  async session(): Promise<AdvowareSession> {
    return (await this.#session.get()) ?? this.refresh();
  }

  /**
   * Gets a new token (after a 401 with `rejectedToken`). Concurrent callers share one request, and a caller
   * whose rejected token was already replaced gets the replacement instead of asking again.
   */
  refresh(rejectedToken?: string): Promise<AdvowareSession> {
    const current = this.#session.peek();
    if (
      rejectedToken !== undefined &&
      current !== null &&
      current.accessToken !== rejectedToken &&
      current.expiresAt > this.#deps.clock.now()
    )
      return Promise.resolve(current);
    return this.#refreshing.run(() => this.#requestToken());
  }

  /** Where the API and the gateway are: cached, else asked from the configurator. */
  async discovery(): Promise<Discovery> {
    const cached = await this.#discovery.get();
    if (cached !== null) return cached;
    const { options, clock } = this.#deps;
    const url = new URL(options.configuratorUrl);
    url.searchParams.set('Kanzlei', options.kanzlei);
    const answer = await this.#call('GET', url.toString(), 'GET AdvonetConfigurator/api/Url');
    if (answer.status < 200 || answer.status >= 300) {
      const said = vendorMessage(answer.body);
      throw new AdvowareAuthError(
        `The advoware configurator answered ${answer.status}${said === '' ? '' : ` ("${said}")`} for Kanzlei "${options.kanzlei}": check ADVOWARE_KANZLEI and ADVOWARE_CONFIGURATOR_URL.`,
        {
          code: 'ADVOWARE_DISCOVERY_FAILED',
          retryable: answer.status >= 500 || answer.status === 429,
          status: answer.status,
        },
      );
    }
    const discovery = {
      ...parseConfiguratorAnswer(answer.body, options.kanzlei),
      expiresAt: clock.now() + DISCOVERY_TTL_MS,
    };
    await this.#discovery.set(discovery);
    return discovery;
  }

  /**
   * Drops the cached discovery and token, so that the next call asks the configurator again: used when the
   * API host stays unreachable (the firm may have moved its connector).
   */
  async forget(): Promise<void> {
    // Both leave memory at once (before either store call), so no caller picks up the old host meanwhile.
    await Promise.all([this.#discovery.delete(), this.#session.delete()]);
  }

  async #requestToken(): Promise<AdvowareSession> {
    const { options, clock } = this.#deps;
    const discovery = await this.discovery();
    const url = tokenUrl(discovery.securityGatewayUrl);
    const body = tokenRequestBody(options, { timestamp: requestTimestamp(clock.now()) });
    const answer = await this.#call('POST', url, 'POST api/v1/Token', body);
    if (answer.status < 200 || answer.status >= 300)
      throw tokenRequestFailure(url, answer.status, answer.body);
    const token = parseTokenAnswer(answer.body, clock.now(), options.tokenRefreshMarginSeconds * 1_000);
    const session: AdvowareSession = { ...token, apiBaseUrl: discovery.apiBaseUrl };
    await this.#session.set(session);
    return session;
  }

  /** One call to the configurator or the gateway; never echoes the request body (it holds the password). */
  async #call(
    method: 'GET' | 'POST',
    url: string,
    route: string,
    body?: JsonObject,
  ): Promise<{ status: number; body: unknown }> {
    try {
      const answer = await exchange(this.#transport, {
        method,
        url,
        route,
        headers: {
          accept: 'application/json',
          ...(body !== undefined && { 'content-type': 'application/json' }),
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      return { status: answer.status, body: parseJsonOrText(answer.text) };
    } catch (error) {
      const step = method === 'GET' ? 'the advoware configurator' : 'the advoware security gateway';
      throw new AdvowareAuthError(`Could not reach ${step} at ${url}: ${(error as Error).message}`, {
        code: method === 'GET' ? 'ADVOWARE_DISCOVERY_FAILED' : 'ADVOWARE_AUTH_FAILED',
        retryable: true,
        cause: error,
      });
    }
  }
}

function isSession(value: Record<string, unknown>): value is Record<string, unknown> & AdvowareSession {
  return (
    typeof value['accessToken'] === 'string' &&
    typeof value['expiresAt'] === 'number' &&
    typeof value['apiBaseUrl'] === 'string'
  );
}

function isDiscovery(
  value: Record<string, unknown>,
): value is Record<string, unknown> & Discovery & { expiresAt: number } {
  return (
    typeof value['apiBaseUrl'] === 'string' &&
    typeof value['securityGatewayUrl'] === 'string' &&
    (value['source'] === 'connectorUrl' || value['source'] === 'relayUrl') &&
    typeof value['expiresAt'] === 'number'
  );
}
