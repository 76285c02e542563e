/**
 * A local HTTP server that answers from a script, for tests of the shared vendor HTTP loop: each request takes
 * the next scripted answer, which may also be no answer at all (a hung request for timeouts, a dropped
 * connection for network errors). Every request is kept, so tests can check what the client really sent.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JsonValue } from '../../../src/core/types.ts';

/**
 * What the server does with one request: answer it (`body` as JSON, or `text` as it is), `'hang'` (read the
 * request, never answer: the client's timeout fires), or `'drop'` (close the connection without an answer).
 */
export type ScriptedAnswer =
  | {
      readonly status: number;
      readonly headers?: Readonly<Record<string, string>>;
      readonly body?: JsonValue;
      readonly text?: string;
    }
  | 'hang'
  | 'drop';

/** A request as the server received it. */
export interface ReceivedRequest {
  readonly method: string;
  /** Path and query, e.g. `/api/Contact/5?select=name`. */
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** A running scripted server. */
export interface ScriptedServer {
  /** `http://127.0.0.1:<port>`, without a trailing slash. */
  readonly url: string;
  /** Every request received, in order. */
  readonly requests: readonly ReceivedRequest[];
  /** Appends answers for the next requests. */
  script(...answers: ScriptedAnswer[]): void;
  /** Closes the server and every connection, hung ones included. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * A request beyond the script is answered 418 with a message naming it: a status the loop neither retries nor
 * accepts, so a test that sent more than it scripted fails with that message instead of hanging.
 */
function unscripted(request: ReceivedRequest): ScriptedAnswer {
  return { status: 418, body: { message: `no scripted answer for ${request.method} ${request.path}` } };
}

/** Starts a scripted server on 127.0.0.1, port 0, answering `answers` in order. */
export async function startScriptedServer(...answers: ScriptedAnswer[]): Promise<ScriptedServer> {
  const queue = [...answers];
  const requests: ReceivedRequest[] = [];
  const server: Server = createServer((incoming: IncomingMessage, outgoing: ServerResponse) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const request: ReceivedRequest = {
        method: incoming.method ?? 'GET',
        path: incoming.url ?? '/',
        headers: incoming.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(request);
      answer(queue.shift() ?? unscripted(request), outgoing);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    script: (...more) => queue.push(...more),
    close: () =>
      (closing ??= new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      })),
  };
}

function answer(scripted: ScriptedAnswer, outgoing: ServerResponse): void {
  if (scripted === 'hang') return;
  if (scripted === 'drop') {
    outgoing.socket?.destroy();
    return;
  }
  const json = scripted.body === undefined ? undefined : JSON.stringify(scripted.body);
  outgoing.writeHead(scripted.status, {
    ...(json !== undefined && { 'content-type': 'application/json' }),
    ...scripted.headers,
  });
  outgoing.end(scripted.text ?? json ?? '');
}

/** A URL on 127.0.0.1 where nothing listens (a port just released), for "host unreachable" cases. */
export async function unreachableUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
