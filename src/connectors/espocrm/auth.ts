/**
 * Request authentication of the EspoCRM API (reference §1): `X-Api-Key`, `Espo-Authorization` (a regular
 * user's name and password), or `X-Hmac-Authorization`, where
 *
 *     X-Hmac-Authorization: base64( apiKey + ":" + hex(HMAC-SHA256(key = secretKey, msg = METHOD + " " + path)) )
 *
 * and `path` is the URI path after `/api/v1`, with its leading slash and without the query string
 * (`GET /Account/5564764442a6d024c`, `POST /Lead/action/convert`). The digest is lowercase hex (the server has
 * accepted it since 8.4.1; it still accepts the older raw binary form, which this client never sends).
 */
import { createHmac } from 'node:crypto';
import type { EspoCrmAuth } from './options.ts';

/** The API's path below the site URL. */
const API_PATH = '/api/v1/';

/** The API base URL of a site URL (as normalised by the options): `https://host/folder/api/v1/`. */
export function apiBaseUrl(baseUrl: string): URL {
  return new URL(`${baseUrl.replace(/\/+$/, '')}${API_PATH}`);
}

/**
 * The path the HMAC signs: what follows `/api/v1` in the URL's path, starting with `/`, query dropped. The
 * path is taken as sent (percent-encoded), which is what the server reads from the request URI. `apiBase` is
 * the {@link apiBaseUrl}, so that a site installed in a folder (`/espo/api/v1/...`) signs the same paths.
 */
export function resourcePath(url: URL, apiBase: URL): string {
  const prefix = apiBase.pathname.slice(0, -1); // `/folder/api/v1`, the slash after it belongs to the path
  if (!url.pathname.startsWith(`${prefix}/`)) {
    throw new TypeError(`${url.pathname} is not below the EspoCRM API path ${apiBase.pathname}`);
  }
  return url.pathname.slice(prefix.length);
}

/** The value of `X-Hmac-Authorization` for `method` on `path` (a {@link resourcePath}). */
export function hmacAuthorization(method: string, path: string, apiKey: string, secretKey: string): string {
  const digest = createHmac('sha256', secretKey).update(`${method.toUpperCase()} ${path}`).digest('hex');
  return Buffer.from(`${apiKey}:${digest}`, 'utf8').toString('base64');
}

/** The authentication header of one request to `url`. */
export function authHeaders(
  auth: EspoCrmAuth,
  method: string,
  url: URL,
  apiBase: URL,
): Record<string, string> {
  if (auth.mode === 'apiKey') return { 'x-api-key': auth.apiKey };
  if (auth.mode === 'password') {
    return {
      'espo-authorization': Buffer.from(`${auth.username}:${auth.password}`, 'utf8').toString('base64'),
    };
  }
  const path = resourcePath(url, apiBase);
  return { 'x-hmac-authorization': hmacAuthorization(method, path, auth.apiKey, auth.secretKey) };
}
