/**
 * Helpers of the SuperOffice connector tests: a connector state (the real store, in memory), a scriptable fake vendor, and
 * tokens from the simulator.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import type { Clock } from '../../../src/ports/clock.ts';
import type { ApiCallRecorder } from '../../../src/ports/connector.ts';
import type { ConnectorStateRepository } from '../../../src/ports/store.ts';
import { SuperOfficeClient } from '../../../src/connectors/superoffice/client.ts';
import { superOfficeOptionsSchema } from '../../../src/connectors/superoffice/options.ts';
import type { SuperOfficeSimulator } from '../../../src/simulators/superoffice/index.ts';
import { memoryConnectorState } from '../../support/memory-store.ts';
import { recordedWaits } from '../../support/recorded-waits.ts';

/** The connector state of a real SQLite store in memory, honouring expiry by `clock`. */
export const memoryState: (clock: Clock) => ConnectorStateRepository = memoryConnectorState;

/** Records every API call reported by the client. */
export function recorder(): ApiCallRecorder & { calls: Parameters<ApiCallRecorder['record']>[0][] } {
  const calls: Parameters<ApiCallRecorder['record']>[0][] = [];
  return { calls, record: (call) => calls.push(call) };
}

/** A received request, body read. */
export interface FakeRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** What a fake route answers. */
export interface FakeAnswer {
  readonly status?: number;
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
}

/** A local HTTP server answering through `handle`; every request is kept in `requests`. */
export interface FakeVendor {
  readonly url: string;
  readonly requests: FakeRequest[];
  handle: (request: FakeRequest) => FakeAnswer | Promise<FakeAnswer>;
  close(): Promise<void>;
}

/** An unsigned JWT carrying `claims` (the client does not check id_token signatures). */
export function fakeJwt(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
}

/** Starts a fake vendor on 127.0.0.1, port 0. */
export async function startFakeVendor(handle: FakeVendor['handle']): Promise<FakeVendor> {
  const requests: FakeRequest[] = [];
  const fake: FakeVendor = {
    url: '',
    requests,
    handle,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((incoming: IncomingMessage, outgoing: ServerResponse) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const request: FakeRequest = {
        method: incoming.method ?? 'GET',
        url: new URL(incoming.url ?? '/', 'http://127.0.0.1'),
        headers: incoming.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(request);
      void Promise.resolve(fake.handle(request)).then((answer) => {
        outgoing.writeHead(answer.status ?? 200, { 'content-type': 'application/json', ...answer.headers });
        outgoing.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  (fake as { url: string }).url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}

/** Token endpoint answer of the fake: `tok-<n>`, with a webapi_url claim pointing at `base`. */
export function tokenAnswer(base: string, n: number, extraClaims: Record<string, unknown> = {}): FakeAnswer {
  return {
    body: {
      token_type: 'Bearer',
      access_token: `tok-${n}`,
      expires_in: 3600,
      id_token: fakeJwt({
        'http://schemes.superoffice.net/identity/webapi_url': `${base}/Cust1/api/`,
        'http://schemes.superoffice.net/identity/associateid': '528',
        ...extraClaims,
      }),
    },
  };
}

/** Options of a test connection against `authBaseUrl`. */
export function testOptions(authBaseUrl: string, overrides: Record<string, unknown> = {}) {
  return superOfficeOptionsSchema.parse({
    clientId: 'client-id',
    clientSecret: 'client-secret-value',
    refreshToken: 'refresh-token-value',
    redirectUri: 'https://example.test/callback',
    environment: 'sod',
    contextIdentifier: 'Cust1',
    authBaseUrl,
    ...overrides,
  });
}

/** A client against a fake vendor, with waits recorded instead of slept. */
export function testClient(
  authBaseUrl: string,
  clock: Clock,
  options: Record<string, unknown> = {},
  state: ConnectorStateRepository = memoryState(clock),
) {
  const apiCalls = recorder();
  const { waits, random, sleep } = recordedWaits();
  const client = new SuperOfficeClient({
    connection: 'so',
    options: testOptions(authBaseUrl, options),
    clock,
    state,
    apiCalls,
    random,
    sleep,
  });
  return { client, apiCalls, waits, state };
}

/** A silent logger for connector contexts. */
export const silentLogger = pino({ level: 'silent' });

/** The simulator's token endpoint with `fields` in the query (the vendor accepts query or form fields). */
export function tokenUrl(sim: SuperOfficeSimulator, fields: Record<string, string>): string {
  return `${sim.url}/login/common/oauth/tokens?${new URLSearchParams(fields).toString()}`;
}

/** A refresh grant with the simulator's own credentials. */
export function refreshFields(sim: SuperOfficeSimulator): Record<string, string> {
  const { clientId, clientSecret, refreshToken } = sim.credentials;
  return {
    grant_type: 'refresh_token',
    client_id: clientId,
    client_secret: clientSecret,
    refresh_token: refreshToken,
  };
}
