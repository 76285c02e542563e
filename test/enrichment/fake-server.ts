/**
 * A scripted HTTP server on 127.0.0.1 (port 0) standing in for an enrichment service or a chat-completions
 * endpoint: it records every request (method, path, headers, body) and answers with the next reply of its
 * script, the last one repeating. A `hang` reply never answers, for timeout tests; closing the server cuts
 * such connections.
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request the server received. */
export interface RecordedRequest {
  readonly method: string;
  /** Path and query. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** One scripted answer: status, headers, and a body (a string is sent as is, anything else as JSON). */
export type Reply =
  { readonly status: number; readonly headers?: Record<string, string>; readonly body?: unknown } | 'hang';

/** A running fake server. */
export interface FakeServer {
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string;
  readonly requests: readonly RecordedRequest[];
  /** Replaces the script; the next request gets its first reply. */
  script(...replies: Reply[]): void;
  close(): Promise<void>;
}

/** Starts a server that answers with `replies` in order (the last one repeats). */
export async function startFakeServer(...replies: Reply[]): Promise<FakeServer> {
  let script = replies;
  // Replies count from the moment the script was set, so a new script starts at its first reply.
  let scriptStart = 0;
  const requests: RecordedRequest[] = [];
  const hanging: ServerResponse[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const index = requests.length;
      requests.push({
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      const reply = script[Math.min(index - scriptStart, script.length - 1)] ?? {
        status: 500,
        body: 'no reply scripted',
      };
      if (reply === 'hang') {
        hanging.push(response);
        return;
      }
      const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body ?? null);
      response.writeHead(reply.status, {
        'content-type': typeof reply.body === 'string' ? 'text/plain' : 'application/json',
        ...reply.headers,
      });
      response.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    script: (...next) => {
      script = next;
      scriptStart = requests.length;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const response of hanging) response.destroy();
        server.closeAllConnections();
        server.close((error) => (error === undefined ? resolve() : reject(error)));
      }),
  };
}

/** The recorded body parsed as JSON. */
export function jsonBody(request: RecordedRequest | undefined): Record<string, unknown> {
  if (request === undefined) throw new Error('no request recorded');
  return JSON.parse(request.body) as Record<string, unknown>;
}
