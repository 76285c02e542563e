/**
 * Helpers of the EspoCRM simulator tests: API calls with each auth mode (the HMAC computed here with
 * node:crypto, independently of the simulator), the PHP bracket encoding of query parameters, admin calls,
 * and a local webhook receiver that keeps the raw bytes of every request.
 */
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before } from 'node:test';
import { startEspoCrmSimulator } from '../../../src/simulators/espocrm/index.ts';
import { simAdminRequest } from '../../support/sim-admin.ts';
import type { EspoCrmSimulator, EspoCrmSimulatorOptions } from '../../../src/simulators/espocrm/index.ts';

/**
 * A simulator for the enclosing `describe`: started before its tests (then `setup` runs), closed after them.
 * The returned object forwards to it, so tests use it like the simulator itself.
 */
export function suiteSimulator(
  options: EspoCrmSimulatorOptions,
  setup?: (sim: EspoCrmSimulator) => Promise<void>,
): EspoCrmSimulator {
  let current: EspoCrmSimulator | undefined;
  const get = () => {
    if (current === undefined) throw new Error('suiteSimulator: used outside the tests of its describe().');
    return current;
  };
  before(async () => {
    current = await startEspoCrmSimulator(options);
    await setup?.(current);
  });
  after(() => current?.close());
  return {
    get url() {
      return get().url;
    },
    get credentials() {
      return get().credentials;
    },
    processWebhookQueue: () => get().processWebhookQueue(),
    close: () => get().close(),
  };
}

/** How a call authenticates. */
export type Auth =
  | 'apiKey'
  | 'hmac'
  | 'hmacLegacy'
  | 'none'
  | { readonly user: string; readonly password: string; readonly basic?: boolean };

/** A record as the API returns it. */
export interface RecordBody {
  readonly id: string;
  readonly [attribute: string]: unknown;
}

/** A list answer. */
export interface ListBody {
  readonly total: number;
  readonly list: RecordBody[];
}

/** An answer, body read as text and (when possible) JSON. */
export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly json: unknown;
}

/** The JSON body of `answer`, typed as the test expects it. */
export function body<T = RecordBody>(answer: Answer): T {
  return answer.json as T;
}

/** `X-Hmac-Authorization` for `METHOD /path` (path after `/api/v1`, no query), hex or legacy binary digest. */
export function hmacHeader(
  apiKey: string,
  secretKey: string,
  method: string,
  path: string,
  legacy = false,
): string {
  const mac = createHmac('sha256', secretKey).update(`${method} ${path}`);
  const digest = legacy ? mac.digest() : Buffer.from(mac.digest('hex'), 'latin1');
  return Buffer.concat([Buffer.from(`${apiKey}:`, 'latin1'), digest]).toString('base64');
}

function authHeaders(
  sim: EspoCrmSimulator,
  auth: Auth,
  method: string,
  path: string,
): Record<string, string> {
  const { apiKey, secretKey } = sim.credentials;
  const resource = path.split('?')[0] ?? path;
  if (auth === 'apiKey') return { 'X-Api-Key': apiKey };
  if (auth === 'hmac') return { 'X-Hmac-Authorization': hmacHeader(apiKey, secretKey, method, resource) };
  if (auth === 'hmacLegacy')
    return { 'X-Hmac-Authorization': hmacHeader(apiKey, secretKey, method, resource, true) };
  if (auth === 'none') return {};
  const encoded = Buffer.from(`${auth.user}:${auth.password}`, 'utf8').toString('base64');
  return auth.basic === true ? { Authorization: `Basic ${encoded}` } : { 'Espo-Authorization': encoded };
}

/** One API call; `path` is relative to `/api/v1` and may carry a query string. */
export async function api(
  sim: EspoCrmSimulator,
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string>; auth?: Auth } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {
    ...authHeaders(sim, options.auth ?? 'apiKey', method, path),
    ...(options.body !== undefined && { 'Content-Type': 'application/json' }),
    ...options.headers,
  };
  const response = await fetch(`${sim.url}/api/v1${path}`, {
    method,
    headers,
    ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
  });
  return answer(response);
}

async function answer(response: Response): Promise<Answer> {
  const text = await response.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** One admin call (`/_sim/...`), whatever its status. */
export async function admin(
  sim: EspoCrmSimulator,
  method: string,
  path: string,
  body?: unknown,
): Promise<Answer> {
  return answer(await simAdminRequest(sim, method, path, body));
}

/** PHP's `http_build_query` of one named value: nested arrays and objects as bracket paths. */
export function phpQuery(name: string, value: unknown): string {
  const pair = (text: string) => `${encodeURIComponent(name)}=${encodeURIComponent(text)}`;
  // PHP writes booleans as 1 and 0.
  if (typeof value === 'boolean') return pair(value ? '1' : '0');
  if (typeof value === 'string' || typeof value === 'number') return pair(String(value));
  if (typeof value !== 'object' || value === null) return '';
  const entries = Array.isArray(value)
    ? value.map((item, index) => [String(index), item] as const)
    : Object.entries(value);
  return entries
    .map(([key, item]) => phpQuery(`${name}[${key}]`, item))
    .filter((part) => part !== '')
    .join('&');
}

/** A request the receiver got, with the exact bytes. */
export interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly raw: Buffer;
  readonly items: RecordBody[];
}

/** How the receiver answers a request: a status, or never (`hang`). */
export type ReceiverAnswer = number | 'hang';

/** A local webhook target recording every request; `answer` decides each status. */
export async function startReceiver() {
  const received: Received[] = [];
  const hanging: ServerResponse[] = [];
  const control = { answer: (_request: Received, _index: number): ReceiverAnswer => 200 };
  const receive = async (incoming: IncomingMessage, outgoing: ServerResponse) => {
    const raw = Buffer.concat((await incoming.toArray()) as Buffer[]);
    const items = JSON.parse(raw.toString('utf8')) as RecordBody[];
    const request: Received = { headers: incoming.headers, raw, items };
    received.push(request);
    const status = control.answer(request, received.length - 1);
    if (status === 'hang') hanging.push(outgoing);
    else outgoing.writeHead(status).end();
  };
  const server = createServer((incoming, outgoing) => void receive(incoming, outgoing));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook?token=s3cret`,
    received,
    control,
    close: () =>
      new Promise<void>((resolve) => {
        for (const response of hanging) response.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Signature checks computed here with node:crypto over the raw bytes received. */
export function expectedSignatures(webhookId: string, secretKey: string, raw: Buffer) {
  const mac = () => createHmac('sha256', secretKey).update(raw);
  return {
    signature: Buffer.from(`${webhookId}:${mac().digest('hex')}`).toString('base64'),
    legacy: Buffer.concat([Buffer.from(`${webhookId}:`), mac().digest()]).toString('base64'),
  };
}
