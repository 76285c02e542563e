/**
 * Authentication of API requests as the vendor does it (reference §1, SRC `Core/Api/Auth.php`,
 * `Core/Authentication/Logins/Hmac.php`, `ApiKey.php`):
 *
 * 1. `Espo-Authorization: base64(user:passwordOrToken)` wins over everything; a value without `:` after
 *    decoding is 400 `Auth: Bad authorization string provided.`. The value is tried as an auth token first,
 *    then as a password (`Espo-Authorization-By-Token: true`: token only).
 * 2. Otherwise `X-Hmac-Authorization: base64(apiKey + ':' + hex HMAC-SHA256(secretKey, METHOD + ' ' + path))`
 *    (path after `/api/v1`, without the query; the legacy raw binary digest is accepted too), or
 *    `X-Api-Key`. When both are sent, HMAC is used (the vendor's choice between them is not documented).
 * 3. Otherwise Basic auth, then the `auth-token` cookie.
 *
 * Every failure is 401 with an empty body. A HMAC header without a colon after decoding hits an undefined
 * index in the vendor's code: [UNCONFIRMED] 500 or 401; the simulator answers 401 with
 * `X-Status-Reason: error` (the reason the vendor sends for the `Error` fail reason).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { EspoHttpError, badRequest } from './errors.ts';
import type { EspoCrmQuirks } from './quirks.ts';
import type { SimState } from './state.ts';
import type { SimUser, UserDirectory } from './users.ts';

/** What authentication needs. */
export interface AuthContext {
  readonly users: UserDirectory;
  readonly state: SimState;
  readonly quirks: () => EspoCrmQuirks;
}

const authenticated = new WeakMap<FastifyRequest, SimUser>();

/** The user an API request was authenticated as (set by {@link authenticateRequest}). */
export function currentUser(request: FastifyRequest): SimUser {
  const user = authenticated.get(request);
  if (user === undefined) throw new Error('currentUser() called on a request that was not authenticated.');
  return user;
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

const unauthorized = (reason = '') => new EspoHttpError(401, reason);

/** The HMAC's message: `METHOD /path-after-api-v1`, query string left out. */
function hmacMessage(request: FastifyRequest): string {
  const path = (request.raw.url ?? request.url).split('?')[0] ?? '';
  return `${request.method} ${path.replace(/^\/api\/v1/, '')}`;
}

/** Compares two byte strings in constant time (for equal lengths). */
function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function hmacLogin(request: FastifyRequest, value: string, context: AuthContext): SimUser {
  const decoded = Buffer.from(value, 'base64');
  const colon = decoded.indexOf(0x3a);
  if (colon < 0) throw unauthorized('error');
  const apiKey = decoded.subarray(0, colon).toString('latin1');
  const digest = decoded.subarray(colon + 1);
  const user = context.users.byApiKey(apiKey);
  if (user?.secretKey === undefined || context.quirks().apiUserAuthMethod === 'ApiKey') throw unauthorized();
  const mac = () => createHmac('sha256', user.secretKey ?? '').update(hmacMessage(request));
  const hex = Buffer.from(mac().digest('hex'), 'latin1');
  if (sameBytes(digest, hex) || sameBytes(digest, mac().digest())) return user;
  throw unauthorized();
}

function apiKeyLogin(apiKey: string, context: AuthContext): SimUser {
  const user = context.users.byApiKey(apiKey);
  if (user === undefined || context.quirks().apiUserAuthMethod === 'Hmac') throw unauthorized();
  return user;
}

/** Username and password (or token) of a human user; API users cannot log in this way. */
function passwordLogin(
  userName: string,
  secret: string,
  context: AuthContext,
  byTokenOnly: boolean,
): SimUser {
  const user = context.users.byUserName(userName);
  if (user === undefined || user.type === 'api') throw unauthorized();
  if (context.state.tokens.get(secret) === user.id) return user;
  if (!byTokenOnly && user.password !== undefined && user.password === secret) return user;
  throw unauthorized();
}

function decodeAuthorizationString(value: string): [string, string] {
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw badRequest('Auth: Bad authorization string provided.');
  return [decoded.slice(0, colon).trim(), decoded.slice(colon + 1).trim()];
}

function basicCredentials(request: FastifyRequest): [string, string] | undefined {
  const value = header(request, 'authorization');
  if (value === undefined || !/^basic /i.test(value)) return undefined;
  const decoded = Buffer.from(value.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  // PHP fills PHP_AUTH_USER/PW only when both parts are there; otherwise Basic counts as absent.
  if (colon <= 0 || colon === decoded.length - 1) return undefined;
  return [decoded.slice(0, colon).trim(), decoded.slice(colon + 1).trim()];
}

function cookieToken(request: FastifyRequest): string | undefined {
  const cookies = header(request, 'cookie');
  const match = cookies?.match(/(?:^|;\s*)auth-token=([^;]+)/);
  return match?.[1] === undefined ? undefined : decodeURIComponent(match[1]);
}

/** 401 without credentials; `WWW-Authenticate` for non-XHR, non-POST requests without Referer (§1). */
function missingCredentials(request: FastifyRequest): EspoHttpError {
  const xhr = (header(request, 'x-requested-with') ?? '').toLowerCase() === 'xmlhttprequest';
  const dialog = !xhr && request.method !== 'POST' && header(request, 'referer') === undefined;
  return new EspoHttpError(401, '', dialog ? { headers: { 'WWW-Authenticate': 'Basic realm=""' } } : {});
}

/** Authenticates `request` (throws the vendor's 400/401 answer) and records the user for {@link currentUser}. */
export function authenticateRequest(request: FastifyRequest, context: AuthContext): SimUser {
  const user = resolveUser(request, context);
  authenticated.set(request, user);
  return user;
}

function resolveUser(request: FastifyRequest, context: AuthContext): SimUser {
  const espoAuthorization = header(request, 'espo-authorization');
  if (espoAuthorization !== undefined) {
    const [userName, secret] = decodeAuthorizationString(espoAuthorization);
    const byTokenOnly = header(request, 'espo-authorization-by-token') === 'true';
    return passwordLogin(userName, secret, context, byTokenOnly);
  }
  const hmac = header(request, 'x-hmac-authorization');
  if (hmac !== undefined) return hmacLogin(request, hmac, context);
  const apiKey = header(request, 'x-api-key');
  if (apiKey !== undefined) return apiKeyLogin(apiKey, context);
  const basic = basicCredentials(request);
  if (basic !== undefined) return passwordLogin(basic[0], basic[1], context, false);
  const token = cookieToken(request);
  if (token !== undefined) {
    const user = context.users.byId(context.state.tokens.get(token) ?? '');
    if (user !== undefined) return user;
    throw unauthorized();
  }
  throw missingCredentials(request);
}
