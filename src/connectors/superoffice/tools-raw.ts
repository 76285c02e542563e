/**
 * `crmsync superoffice raw`: one WebAPI call, answered exactly as the vendor sent it. Seed 002 blamed a
 * SuperOffice bug for a crash that was its own ("verify raw API output before blaming the vendor"), so this
 * bypasses the client's parsing and retries: the body is kept byte for byte and only pretty-printed for
 * display. The session (token, tenant base URL) is the connection's; a 401 or 421 re-establishes it through
 * the regular client once and repeats the call, so a stale cached token is not mistaken for a vendor answer.
 */
import { STATUS_CODES } from 'node:http';
import { Agent, request } from 'undici';
import { InputError } from '../../core/errors.ts';
import type { JsonValue } from '../../core/types.ts';
import type { SuperOfficeApi } from './endpoints.ts';

/** Methods `raw` sends. */
export const RAW_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** One of {@link RAW_METHODS}. */
export type RawMethod = (typeof RAW_METHODS)[number];

/** What to send. */
export interface RawRequest {
  readonly method: RawMethod;
  /** Relative to the tenant API: `Contact/1`, `v1/Contact/1`, `/api/v1/Contact/1`, or an `odata.nextLink`. */
  readonly path: string;
  /** JSON body, for POST, PUT and PATCH. */
  readonly data?: JsonValue;
  /** Default: merge or JSON patch for PATCH (object or array), else `application/json`. */
  readonly contentType?: string;
}

/** The answer as received. */
export interface RawResponse {
  /** The URL called (it holds no secret: the token travels in a header). */
  readonly url: string;
  readonly status: number;
  /** The reason phrase of the status code. */
  readonly statusText: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The body decoded as UTF-8 (for display). */
  readonly body: string;
  /** The body bytes exactly as received (for saving). */
  readonly bodyBytes: Buffer;
  /** True when a 401 or 421 made the call go out a second time with a re-established session. */
  readonly retriedAfterSessionRenewal: boolean;
}

/** The method, upper-cased, or an InputError naming the allowed ones. */
export function parseRawMethod(text: string): RawMethod {
  const method = text.toUpperCase();
  if (!(RAW_METHODS as readonly string[]).includes(method)) {
    throw new InputError(
      'CLI_BAD_METHOD',
      `Unknown HTTP method "${text}"; use one of ${RAW_METHODS.join(', ')}.`,
    );
  }
  return method as RawMethod;
}

/** `--data` parsed as JSON, or an InputError that quotes the parser's complaint. */
export function parseRawData(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch (error) {
    throw new InputError(
      'CLI_BAD_JSON',
      `--data is not valid JSON (${(error as Error).message}). Quote it for the shell, e.g. --data '{"Department":"Sales"}'.`,
    );
  }
}

/**
 * The tenant-relative part of `path`: everything after `api/v1/` when present, else the path without a
 * leading `/` and `v1/`. An absolute URL is reduced the same way, so the token is only ever sent to the
 * connection's own tenant host, whatever host a pasted link names.
 */
function tenantRelativePath(path: string): string {
  const trimmed = path.trim();
  const marker = /(?:^|\/)api\/v1\//i.exec(trimmed);
  if (marker !== null) return trimmed.slice(marker.index + marker[0].length);
  if (/^https?:\/\//i.test(trimmed)) {
    throw new InputError(
      'CLI_BAD_PATH',
      `"${path}" is not a WebAPI URL (no /api/v1/ in it); give a path such as Contact/1.`,
    );
  }
  const relative = trimmed.replace(/^\/+/, '').replace(/^v1\//i, '');
  if (relative === '') throw new InputError('CLI_BAD_PATH', 'The path is empty; give one such as Contact/1.');
  return relative;
}

function defaultContentType(method: RawMethod, data: JsonValue | undefined): string {
  if (method === 'PATCH')
    return Array.isArray(data) ? 'application/json-patch+json' : 'application/merge-patch+json';
  return 'application/json';
}

function flatHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

async function sendOnce(
  api: SuperOfficeApi,
  call: RawRequest,
  dispatcher: Agent,
): Promise<Omit<RawResponse, 'retriedAfterSessionRenewal'>> {
  const session = await api.client.session();
  const url = new URL(tenantRelativePath(call.path), session.apiBaseUrl).toString();
  const hasBody = call.data !== undefined;
  const response = await request(url, {
    method: call.method,
    dispatcher,
    headers: {
      authorization: `Bearer ${session.accessToken}`,
      accept: 'application/json',
      'accept-language': '*',
      ...(hasBody && { 'content-type': call.contentType ?? defaultContentType(call.method, call.data) }),
    },
    ...(hasBody && { body: JSON.stringify(call.data) }),
  });
  const bodyBytes = Buffer.from(await response.body.arrayBuffer());
  return {
    url,
    status: response.statusCode,
    statusText: STATUS_CODES[response.statusCode] ?? '',
    headers: flatHeaders(response.headers),
    body: bodyBytes.toString('utf8'),
    bodyBytes,
  };
}

/** Sends one call and returns the answer unparsed (see the module documentation for the one retry). */
export async function sendRaw(api: SuperOfficeApi, call: RawRequest): Promise<RawResponse> {
  const dispatcher = new Agent();
  try {
    const first = await sendOnce(api, call, dispatcher);
    if (first.status !== 401 && first.status !== 421) return { ...first, retriedAfterSessionRenewal: false };
    try {
      // The regular client refreshes the token on 401 and rediscovers the tenant on 421.
      await api.currentPrincipal();
    } catch {
      return { ...first, retriedAfterSessionRenewal: false };
    }
    return { ...(await sendOnce(api, call, dispatcher)), retriedAfterSessionRenewal: true };
  } finally {
    await dispatcher.close();
  }
}

/** The body pretty-printed when it parses as JSON, else null. */
function prettyJson(body: string): string | null {
  if (body.trim() === '') return null;
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return null;
  }
}

/**
 * The answer for a terminal: the status line, the headers when asked, a blank line, then the body
 * (pretty-printed when it is JSON, else as received).
 */
export function formatRawResponse(response: RawResponse, options: { headers?: boolean } = {}): string {
  const lines = [`HTTP ${response.status} ${response.statusText}`.trimEnd()];
  if (options.headers === true) {
    for (const [name, value] of Object.entries(response.headers)) lines.push(`${name}: ${value}`);
  }
  const body = prettyJson(response.body) ?? response.body;
  return `${lines.join('\n')}\n\n${body}${body.endsWith('\n') || body === '' ? '' : '\n'}`;
}
