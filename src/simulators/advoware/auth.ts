/**
 * The security gateway (reference §3): `POST <securityGateway>api/v1/Token` with the PascalCase body, the
 * HMAC-SHA512 signature check, and the bearer check of API calls. Tokens are opaque, live `tokenTtlSeconds`
 * by the simulator's clock ([INF] the real lifetime is undocumented; 1 h by default) and can be revoked
 * through `/_sim/tokens/revoke`.
 *
 * The signature is computed here with node:crypto, independently of the connector's client, so that a bug
 * shared by both would not go unseen.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Clock } from '../../ports/clock.ts';
import { sameName } from './credentials.ts';
import type { AdvowareCredentials } from './credentials.ts';
import { badRequest, forbidden, kanzleiOffline, unauthorized } from './errors.ts';
import type { AdvowareQuirks } from './quirks.ts';

/** Path of the token endpoint below the security gateway's base URL. */
export const TOKEN_PATH = 'api/v1/Token';

/** How many used nonces are remembered for the `rejectReusedNonce` quirk (the oldest are forgotten). */
const REMEMBERED_NONCES = 10_000;

/** The signed parts of a token request. */
export interface SignedParts {
  readonly product: number;
  readonly appId: string;
  readonly nonce: string;
  /** Exactly as sent: the string is signed, not a parsed date. */
  readonly timestamp: string;
}

/**
 * `HMAC512Signature`: standard base64 of HMAC-SHA512 over `"{Product}:{AppID}:{Nonce}:{RequestTimeStamp}"`
 * (UTF-8), keyed with the base64-decoded API key (reference §3, confirmed by its test vector).
 */
function tokenSignature(parts: SignedParts, apiKeyBase64: string): string {
  const message = `${parts.product}:${parts.appId}:${parts.nonce}:${parts.timestamp}`;
  return createHmac('sha512', Buffer.from(apiKeyBase64, 'base64')).update(message, 'utf8').digest('base64');
}

/** .NET's round-trip UTC format (seven fraction digits and `Z`), which public code parses (reference §3). */
function formatDotNetUtc(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, -1)}0000Z`;
}

/** Persisted tokens: access token -> expiry (epoch ms). */
export interface TokenData {
  readonly tokens: Record<string, number>;
}

/** Outcome of checking a bearer token. */
export type TokenState = 'valid' | 'unknown' | 'expired';

/** Issued tokens and used nonces. */
export class TokenStore {
  readonly #clock: Clock;
  readonly #ttlSeconds: number;
  readonly #tokens = new Map<string, number>();
  readonly #nonces = new Set<string>();

  constructor(clock: Clock, ttlSeconds: number) {
    this.#clock = clock;
    this.#ttlSeconds = ttlSeconds;
  }

  /** Issues a token valid for the configured lifetime; forgets expired ones on the way. */
  issue(): { token: string; expiresAt: number; ttlSeconds: number } {
    const now = this.#clock.now();
    for (const [token, expiresAt] of this.#tokens) if (expiresAt <= now) this.#tokens.delete(token);
    const token = randomBytes(32).toString('base64url');
    const expiresAt = now + this.#ttlSeconds * 1000;
    this.#tokens.set(token, expiresAt);
    return { token, expiresAt, ttlSeconds: this.#ttlSeconds };
  }

  /** Whether `token` is valid now. */
  check(token: string): TokenState {
    const expiresAt = this.#tokens.get(token);
    if (expiresAt === undefined) return 'unknown';
    return expiresAt <= this.#clock.now() ? 'expired' : 'valid';
  }

  /** Records a nonce; false when it was used before. */
  useNonce(nonce: string): boolean {
    if (this.#nonces.has(nonce)) return false;
    this.#nonces.add(nonce);
    if (this.#nonces.size > REMEMBERED_NONCES) {
      const oldest = this.#nonces.values().next();
      if (oldest.done !== true) this.#nonces.delete(oldest.value);
    }
    return true;
  }

  /** Revokes every issued token; returns how many there were. */
  revoke(): number {
    const count = this.#tokens.size;
    this.#tokens.clear();
    return count;
  }

  /** Forgets tokens and nonces. */
  reset(): void {
    this.#tokens.clear();
    this.#nonces.clear();
  }

  toJSON(): TokenData {
    return { tokens: Object.fromEntries(this.#tokens) };
  }

  load(data: TokenData): void {
    this.#tokens.clear();
    for (const [token, expiresAt] of Object.entries(data.tokens)) this.#tokens.set(token, expiresAt);
  }
}

/** The token request body, read. */
interface TokenRequest extends SignedParts {
  readonly kanzlei: string;
  readonly database: string;
  readonly user: string;
  readonly role: number;
  readonly password: string;
  readonly signature: string;
}

/** [UNCONFIRMED] ASP.NET model-validation style messages; the vendor's are unknown. */
function requiredString(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value === '') throw badRequest(`The ${field} field is required.`);
  return value;
}

/** An integer field; a numeric string is bound as the number, as .NET's JSON binding does. */
function requiredInteger(body: Record<string, unknown>, field: string): number {
  const value = body[field];
  const number = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isSafeInteger(number))
    throw badRequest(`The ${field} field is required and must be an integer.`);
  return number;
}

function parseTokenRequest(input: unknown): TokenRequest {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw badRequest(
      'The request body must be a JSON object with AppID, Kanzlei, Database, User, ... fields.',
    );
  const body = input as Record<string, unknown>;
  return {
    appId: requiredString(body, 'AppID'),
    kanzlei: requiredString(body, 'Kanzlei'),
    database: requiredString(body, 'Database'),
    user: requiredString(body, 'User'),
    role: requiredInteger(body, 'Role'),
    product: requiredInteger(body, 'Product'),
    password: requiredString(body, 'Password'),
    nonce: requiredString(body, 'Nonce'),
    signature: requiredString(body, 'HMAC512Signature'),
    timestamp: requiredString(body, 'RequestTimeStamp'),
  };
}

/** Compares two signatures in constant time (for equal lengths; the length itself is not secret). */
function sameSignature(received: string, expected: string): boolean {
  const a = Buffer.from(received, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** What the token route needs. */
export interface TokenRouteOptions {
  /** The route's full path, e.g. `/security/api/v1/Token`. */
  readonly path: string;
  readonly credentials: AdvowareCredentials;
  readonly tokens: TokenStore;
  readonly quirks: () => AdvowareQuirks;
  readonly clock: Clock;
}

/** Checks a token request in the order a gateway plausibly would; throws the answer for the first failure. */
function verifyTokenRequest(request: TokenRequest, options: TokenRouteOptions): void {
  const { credentials, tokens, clock } = options;
  const quirks = options.quirks();
  if (request.appId !== credentials.appId)
    throw unauthorized(`Die App-ID ${request.appId} ist nicht registriert.`);
  if (!quirks.acceptedProducts.includes(request.product))
    throw forbidden(
      `Das Produkt ${request.product} ist für die App-ID ${request.appId} nicht freigeschaltet.`,
    );
  if (!sameSignature(request.signature, tokenSignature(request, credentials.apiKey)))
    throw unauthorized(
      'Die HMAC512Signature ist ungültig (expected base64 HMAC-SHA512 of "Product:AppID:Nonce:RequestTimeStamp").',
    );
  if (quirks.maxClockSkewSeconds > 0) {
    const sentAt = Date.parse(request.timestamp);
    if (Number.isNaN(sentAt))
      throw badRequest(`RequestTimeStamp "${request.timestamp}" is not an ISO-8601 UTC time.`);
    if (Math.abs(sentAt - clock.now()) > quirks.maxClockSkewSeconds * 1000)
      throw unauthorized('Der RequestTimeStamp weicht zu weit von der Serverzeit ab.');
  }
  if (!tokens.useNonce(request.nonce) && quirks.rejectReusedNonce)
    throw unauthorized('Die Nonce wurde bereits verwendet.');
  if (!sameName(request.kanzlei, credentials.kanzlei))
    throw unauthorized(`Die Kanzlei ${request.kanzlei} ist nicht registriert.`);
  if (!sameName(request.database, credentials.database))
    throw unauthorized(`Die Datenbank ${request.database} ist nicht angemeldet.`);
  // Name, password and role are one answer, so the gateway does not say which of them was wrong.
  const userMatches = sameName(request.user, credentials.user) && request.role === credentials.role;
  if (!userMatches || !sameSignature(request.password, credentials.password))
    throw unauthorized('Falscher Name oder falsches Kennwort.');
}

/** Registers the token endpoint. */
export function registerTokenRoute(app: FastifyInstance, options: TokenRouteOptions): void {
  app.post(options.path, (request) => {
    const tokenRequest = parseTokenRequest(request.body);
    if (options.quirks().kanzleiOffline) throw kanzleiOffline(options.credentials.kanzlei);
    verifyTokenRequest(tokenRequest, options);
    const issued = options.tokens.issue();
    return {
      access_token: issued.token,
      expiration_utc: formatDotNetUtc(issued.expiresAt),
      // [INF] Not seen in vendor answers; given for clients that read it (reference §3).
      expires_in: issued.ttlSeconds,
      token_type: 'Bearer',
    };
  });
}

/** ASP.NET's answer to a request without a valid bearer token. */
const DENIED = 'Authorization has been denied for this request.';

/** Throws a 401 unless `request` carries a valid `Authorization: Bearer` token. */
export function requireBearer(tokens: TokenStore, request: FastifyRequest): void {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
  if (match?.[1] === undefined) throw unauthorized(DENIED, { 'www-authenticate': 'Bearer' });
  const state = tokens.check(match[1]);
  if (state === 'valid') return;
  const description = state === 'expired' ? 'The access token expired' : 'The access token is unknown';
  throw unauthorized(DENIED, {
    'www-authenticate': `Bearer error="invalid_token", error_description="${description}"`,
  });
}
