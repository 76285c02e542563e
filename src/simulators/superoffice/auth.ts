/**
 * The auth host (reference §2.1, §2.2): the OAuth token endpoint with the refresh-token and authorization-code
 * grants, a minimal authorize endpoint, the OpenID metadata and the tenant status endpoint; plus the bearer
 * check of tenant API calls. Access tokens are opaque (`8A:<ctx>.<random>`), live `accessTokenTtlSeconds`
 * by the simulator's clock and can be revoked through the admin API.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerHookHandler } from 'fastify';
import type { Clock } from '../../ports/clock.ts';
import { SimHttpError } from './errors.ts';
import type { Associate, SimState } from './model.ts';

/** The tenant's OAuth client and API user. */
export interface AuthSettings {
  readonly contextIdentifier: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The long-lived refresh token of the API user (reused, never rotated, as the vendor does). */
  readonly refreshToken: string;
  readonly accessTokenTtlSeconds: number;
  readonly apiAssociateId: number;
}

/** How long an authorization code may be exchanged (reference §2.1: 10 min). */
const CODE_TTL_MS = 10 * 60_000;

interface AccessToken {
  associateId: number;
  expiresAt: number;
}

/** Persisted token state. */
export interface TokenData {
  readonly access: Record<string, AccessToken>;
  readonly refresh: Record<string, number>;
  readonly revokedRefresh: string[];
}

/** Outcome of checking a bearer token. */
export type TokenCheck = { ok: true; associateId: number } | { ok: false; reason: string };

/** Issued codes and tokens. */
export class TokenStore {
  readonly #settings: AuthSettings;
  readonly #clock: Clock;
  #access = new Map<string, AccessToken>();
  /** Refresh token -> associate id. */
  #refresh = new Map<string, number>();
  #revokedRefresh = new Set<string>();
  readonly #codes = new Map<string, { associateId: number; expiresAt: number }>();

  constructor(settings: AuthSettings, clock: Clock) {
    this.#settings = settings;
    this.#clock = clock;
    this.reset();
  }

  /** Forgets every issued token; only the configured refresh token remains valid. */
  reset(): void {
    this.#access.clear();
    this.#codes.clear();
    this.#revokedRefresh.clear();
    this.#refresh = new Map([[this.#settings.refreshToken, this.#settings.apiAssociateId]]);
  }

  /** Issues an authorization code for `associateId`. */
  issueCode(associateId: number): string {
    const code = randomBytes(16).toString('base64url');
    this.#codes.set(code, { associateId, expiresAt: this.#clock.now() + CODE_TTL_MS });
    return code;
  }

  /** Redeems an authorization code (once); returns a new refresh token and its associate. */
  redeemCode(code: string): { associateId: number; refreshToken: string } | undefined {
    const entry = this.#codes.get(code);
    this.#codes.delete(code);
    if (entry === undefined || entry.expiresAt <= this.#clock.now()) return undefined;
    // The API user gets the configured long-lived token back, so its credentials stay one set.
    const refreshToken =
      entry.associateId === this.#settings.apiAssociateId
        ? this.#settings.refreshToken
        : `${this.#settings.contextIdentifier}.rt.${randomBytes(24).toString('base64url')}`;
    this.#refresh.set(refreshToken, entry.associateId);
    this.#revokedRefresh.delete(refreshToken);
    return { associateId: entry.associateId, refreshToken };
  }

  /** The associate of a valid refresh token. */
  refreshOwner(token: string): number | undefined {
    if (this.#revokedRefresh.has(token)) return undefined;
    return this.#refresh.get(token);
  }

  /** Issues an access token. */
  issueAccess(associateId: number): { token: string; expiresIn: number } {
    const token = `8A:${this.#settings.contextIdentifier}.${randomBytes(32).toString('base64url')}`;
    const expiresIn = this.#settings.accessTokenTtlSeconds;
    this.#access.set(token, { associateId, expiresAt: this.#clock.now() + expiresIn * 1000 });
    return { token, expiresIn };
  }

  /** Checks a bearer token. */
  check(token: string): TokenCheck {
    const entry = this.#access.get(token);
    if (entry === undefined) return { ok: false, reason: 'The access token is unknown or was revoked.' };
    if (entry.expiresAt <= this.#clock.now()) return { ok: false, reason: 'The access token has expired.' };
    return { ok: true, associateId: entry.associateId };
  }

  /** Revokes access tokens and/or refresh tokens (consent withdrawn). */
  revoke(options: { accessTokens: boolean; refreshTokens: boolean }): void {
    if (options.accessTokens) this.#access.clear();
    if (options.refreshTokens) for (const token of this.#refresh.keys()) this.#revokedRefresh.add(token);
  }

  toJSON(): TokenData {
    return {
      access: Object.fromEntries(this.#access),
      refresh: Object.fromEntries(this.#refresh),
      revokedRefresh: [...this.#revokedRefresh],
    };
  }

  load(data: TokenData): void {
    this.reset();
    this.#access = new Map(Object.entries(data.access));
    for (const [token, associateId] of Object.entries(data.refresh)) this.#refresh.set(token, associateId);
    this.#revokedRefresh = new Set(data.revokedRefresh);
  }
}

/** What the auth routes need. */
export interface AuthRoutesOptions {
  readonly settings: AuthSettings;
  readonly tokens: TokenStore;
  readonly state: SimState;
  readonly clock: Clock;
  /** The auth host's base URL (http://127.0.0.1:PORT). */
  readonly authUrl: () => string;
  /** The tenant's current endpoint (http://HOST:PORT/Cust12345). */
  readonly tenantUrl: () => string;
}

const CLAIM = 'http://schemes.superoffice.net/identity/';

/** An HS256 JWT signed with `secret` (the vendor signs with its own key; clients need not verify it). */
function signJwt(claims: Record<string, unknown>, secret: string): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(claims)}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

/** The id_token of a grant: who the user is and where the tenant lives (reference §2.1 claims). */
function idToken(options: AuthRoutesOptions, associate: Associate | undefined, associateId: number): string {
  const now = Math.floor(options.clock.now() / 1000);
  const tenant = options.tenantUrl();
  const { settings } = options;
  return signJwt(
    {
      [`${CLAIM}ctx`]: settings.contextIdentifier,
      [`${CLAIM}webapi_url`]: `${tenant}/api/`,
      [`${CLAIM}netserver_url`]: `${tenant}/Remote/Services88/`,
      [`${CLAIM}associateid`]: String(associateId),
      [`${CLAIM}email`]: associate?.email ?? '',
      [`${CLAIM}upn`]: associate?.email ?? '',
      [`${CLAIM}identityprovider`]: 'central',
      [`${CLAIM}is_administrator`]: associate?.isAdministrator === true ? 'True' : 'False',
      [`${CLAIM}firstname`]: associate?.firstname ?? '',
      [`${CLAIM}lastname`]: associate?.lastname ?? '',
      [`${CLAIM}initials`]: associate?.name ?? '',
      [`${CLAIM}so_primary_email_address`]: associate?.email ?? '',
      [`${CLAIM}personid`]: String(associate?.personId ?? 0),
      [`${CLAIM}serial`]: '1',
      [`${CLAIM}company_name`]: 'crmsync simulator',
      iss: `${options.authUrl()}/login`,
      aud: settings.clientId,
      sub: associate?.email ?? String(associateId),
      iat: now,
      nbf: now,
      exp: now + settings.accessTokenTtlSeconds,
    },
    settings.clientSecret,
  );
}

/** OAuth error answer (RFC 6749 §5.2 style; the vendor's exact body is [UNCONFIRMED]). */
function oauthError(reply: FastifyReply, status: number, error: string, description: string): FastifyReply {
  return reply.code(status).send({ error, error_description: description });
}

/** The token request's fields: from the query string and/or a form or JSON body (reference §2.1). */
function tokenFields(request: FastifyRequest): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const source of [request.query, request.body]) {
    if (typeof source !== 'object' || source === null) continue;
    for (const [key, value] of Object.entries(source as Record<string, unknown>))
      if (typeof value === 'string') fields[key] = value;
  }
  return fields;
}

/** Registers the auth host's routes and the tenant status endpoint (no auth). */
export function registerAuthRoutes(app: FastifyInstance, options: AuthRoutesOptions): void {
  const { settings, tokens, state } = options;

  app.post('/login/common/oauth/tokens', async (request, reply) => {
    const fields = tokenFields(request);
    if (fields.client_id !== settings.clientId || fields.client_secret !== settings.clientSecret)
      return oauthError(reply, 400, 'invalid_grant', 'Unknown client_id or wrong client_secret.');
    let associateId: number | undefined;
    let newRefreshToken: string | undefined;
    if (fields.grant_type === 'refresh_token') {
      associateId = tokens.refreshOwner(fields.refresh_token ?? '');
      if (associateId === undefined)
        return oauthError(reply, 400, 'invalid_grant', 'The refresh token is invalid, expired or revoked.');
    } else if (fields.grant_type === 'authorization_code') {
      const redeemed = tokens.redeemCode(fields.code ?? '');
      if (redeemed === undefined)
        return oauthError(reply, 400, 'invalid_grant', 'The authorization code is invalid, used or expired.');
      associateId = redeemed.associateId;
      newRefreshToken = redeemed.refreshToken;
    } else {
      return oauthError(
        reply,
        400,
        'unsupported_grant_type',
        'Only refresh_token and authorization_code grants exist (no client_credentials, no password).',
      );
    }
    const access = tokens.issueAccess(associateId);
    return {
      token_type: 'Bearer',
      access_token: access.token,
      expires_in: access.expiresIn,
      id_token: idToken(options, state.associateById(associateId), associateId),
      ...(newRefreshToken !== undefined && { refresh_token: newRefreshToken }),
    };
  });

  // A minimal authorize endpoint: no login page; the user is `login_hint` (a short name) or the API user.
  app.get('/login/common/oauth/authorize', async (request, reply) => {
    const query = request.query as Record<string, string | undefined>;
    if (query.client_id !== settings.clientId)
      return oauthError(reply, 400, 'invalid_client', 'Unknown client_id.');
    if (query.redirect_uri === undefined)
      return oauthError(reply, 400, 'invalid_request', 'redirect_uri is required.');
    const associate = query.login_hint === undefined ? undefined : state.associateByName(query.login_hint);
    const target = new URL(query.redirect_uri);
    target.searchParams.set('code', tokens.issueCode(associate?.associateId ?? settings.apiAssociateId));
    if (query.state !== undefined) target.searchParams.set('state', query.state);
    return reply.redirect(target.toString(), 302);
  });

  app.get('/login/.well-known/openid-configuration', () => ({
    issuer: `${options.authUrl()}/login`,
    authorization_endpoint: `${options.authUrl()}/login/common/oauth/authorize`,
    token_endpoint: `${options.authUrl()}/login/common/oauth/tokens`,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    scopes_supported: ['openid'],
    id_token_signing_alg_values_supported: ['HS256'],
  }));

  app.get<{ Params: { ctx: string } }>('/api/state/:ctx', async (request, reply) => {
    if (request.params.ctx.toLowerCase() !== settings.contextIdentifier.toLowerCase())
      return reply
        .code(404)
        .send({ ContextIdentifier: request.params.ctx, State: 'Unknown', IsRunning: false });
    return {
      ContextIdentifier: settings.contextIdentifier,
      Endpoint: options.tenantUrl(),
      State: 'Running',
      IsRunning: true,
      ValidUntil: new Date(options.clock.now() + 3_600_000).toISOString(),
    };
  });
}

const associateOfRequest = new WeakMap<FastifyRequest, number>();

/** The associate whose token authenticated `request` (set by {@link bearerCheck}). */
export function authenticatedAssociateId(request: FastifyRequest): number {
  const id = associateOfRequest.get(request);
  if (id === undefined) throw new Error('authenticatedAssociateId: the request was not authenticated');
  return id;
}

/** A preHandler that answers 401 unless the request carries a valid `Authorization: Bearer` token. */
export function bearerCheck(tokens: TokenStore): preHandlerHookHandler {
  return (request, _reply, done) => {
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (match?.[1] === undefined) {
      done(
        new SimHttpError(401, 'Unauthorized', 'Missing Authorization: Bearer <access token>.', {
          'www-authenticate': 'Bearer',
        }),
      );
      return;
    }
    const checked = tokens.check(match[1].trim());
    if (!checked.ok) {
      done(
        new SimHttpError(401, 'Unauthorized', checked.reason, {
          'www-authenticate': 'Bearer error="invalid_token"',
        }),
      );
      return;
    }
    associateOfRequest.set(request, checked.associateId);
    done();
  };
}

/** Issues an authorization code through the admin API (`POST /_sim/auth/code {"associate":"RKAB"}`). */
export function registerCodeRoute(app: FastifyInstance, options: AuthRoutesOptions): void {
  app.post('/_sim/auth/code', async (request, reply) => {
    const body = (request.body ?? {}) as { associate?: string | number };
    const associate =
      body.associate === undefined
        ? options.state.associateById(options.settings.apiAssociateId)
        : typeof body.associate === 'number'
          ? options.state.associateById(body.associate)
          : options.state.associateByName(body.associate);
    if (associate === undefined)
      return reply
        .code(404)
        .send({ error: `No associate ${String(body.associate)} in the simulated tenant.` });
    return { code: options.tokens.issueCode(associate.associateId), associateId: associate.associateId };
  });
}
