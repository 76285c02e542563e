/**
 * Raw HTTP over a TCP socket, for what fetch cannot do: send half a request, garbage, or several requests on
 * one keep-alive connection, and see whether the server closed the connection.
 */
import { connect } from 'node:net';
import type { Socket } from 'node:net';

/** One raw connection to the server. */
export interface RawConnection {
  /** Writes bytes as they are. */
  send(bytes: string | Buffer): void;
  /** Everything received so far. */
  received(): string;
  /** Whether the server closed the connection. */
  closed(): boolean;
  /** Closes it from this side (idempotent). */
  destroy(): void;
}

/** Opens a connection to `url`'s host and port; resolves once connected. */
export function openRaw(url: string): Promise<RawConnection> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    let data = '';
    let closed = false;
    const socket: Socket = connect(Number(port), hostname, () =>
      resolve({
        send: (bytes) => void socket.write(bytes),
        received: () => data,
        closed: () => closed,
        destroy: () => void socket.destroy(),
      }),
    );
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('close', () => (closed = true));
    socket.on('error', (error) => (closed ? undefined : reject(error)));
  });
}

/** A raw response: status, lower-cased headers, body. */
export interface RawResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Parses the first response in `text` (no chunked bodies: error answers carry a Content-Length). */
export function parseRawResponse(text: string): RawResponse {
  const end = text.indexOf('\r\n\r\n');
  const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? 0);
  return {
    status: Number(statusLine.split(' ')[1]),
    headers,
    body: text.slice(end + 4, end + 4 + length),
  };
}
