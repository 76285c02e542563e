/**
 * The load generator of bench/ingest.ts, run as a child process (`fork`) so that it has a core of its own and
 * its CPU time can be told apart from the server's. It keeps `connections` keep-alive sockets busy, each with
 * up to `pipelining` requests in flight, every request a new signed webhook (./superoffice-webhooks.ts).
 *
 * It speaks HTTP/1.1 over plain sockets instead of through an HTTP client library. undici's Pool (promises,
 * header objects, a full parser per request) needed more CPU per request than the bare fastify route it was
 * meant to saturate, so the old bench measured its client: about 19,000 requests/s against the ~42,000 the
 * bare route answers here. This generator needs about 0.8 of the bare route's CPU time per request, most of
 * it the kernel's loopback TCP and the HMAC, so on two cores each gets one; a response costs a search for
 * the end of its headers and its Content-Length. The parent checks that this is enough: the bare route must
 * use a whole core of the server's.
 *
 * Protocol (IPC, parent -> child): `{ type: 'start', settings }`, then `window-open`, `window-close`, `stop`.
 * The child answers `ready` once connected, and `result` ({@link LoadResult}) once every request in flight
 * is answered (or after a grace period). Latencies and statuses count only the responses that arrived
 * between `window-open` and `window-close`; the totals count every response, for the queue check.
 */
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { signedWebhookRequest } from './superoffice-webhooks.ts';

/** What the parent asks for. */
export interface LoadSettings {
  readonly host: string;
  readonly port: number;
  readonly connections: number;
  readonly pipelining: number;
  /** PrimaryKey of the first webhook; each next one takes the next integer (give each child its own range). */
  readonly firstKey: number;
}

/** What the child measured. */
export interface LoadResult {
  /** Requests written. */
  readonly sent: number;
  /** Responses by status, over the whole run (warm-up and drain included). */
  readonly totalStatuses: Record<string, number>;
  /** Responses by status that arrived inside the measuring window. */
  readonly windowStatuses: Record<string, number>;
  /** Latency of each response inside the window, in milliseconds. */
  readonly windowLatenciesMs: Float64Array;
  /** Requests that never got an answer (socket closed, or still open after the grace period). */
  readonly unanswered: number;
  /** Socket errors seen (each closes its socket; a new one replaces it while the run goes on). */
  readonly socketErrors: number;
}

/** Parent -> child messages. */
export type ToGenerator =
  | { readonly type: 'start'; readonly settings: LoadSettings }
  | { readonly type: 'window-open' | 'window-close' | 'stop' };

/** Child -> parent messages. */
export type FromGenerator =
  | { readonly type: 'ready' }
  | { readonly type: 'result'; readonly result: LoadResult }
  | { readonly type: 'failed'; readonly message: string };

/** How long in-flight requests may take to be answered after `stop`. */
const STOP_GRACE_MS = 30_000;
const HEADER_END = Buffer.from('\r\n\r\n', 'latin1');
const CONTENT_LENGTH = /\r\ncontent-length:\s*(\d+)/i;
const CONNECTION_CLOSE = /\r\nconnection:\s*close/i;
const CHUNKED = /\r\ntransfer-encoding:\s*chunked/i;

let settings: LoadSettings;
let hostHeader = '';
let nextKey = 0;
let sending = true;
/** Set once a failure is reported: nothing else is sent or counted. */
let failed = false;
let windowOpen = false;
let sent = 0;
let unanswered = 0;
let socketErrors = 0;
const totalStatuses = new Map<number, number>();
const windowStatuses = new Map<number, number>();
let windowLatencies = new Float64Array(1 << 16);
let windowCount = 0;
const lanes = new Set<Lane>();
let onIdle: (() => void) | undefined;

function send(message: FromGenerator, sent?: () => void): void {
  process.send?.(message, undefined, undefined, sent);
}

/** Reports a failure to the parent and exits once the message is written. */
function fail(message: string): void {
  if (failed) return;
  failed = true;
  sending = false;
  for (const lane of lanes) lane.socket.destroy();
  send({ type: 'failed', message }, () => process.exit(1));
}

function recordLatency(ms: number): void {
  if (windowCount === windowLatencies.length) {
    const grown = new Float64Array(windowLatencies.length * 2);
    grown.set(windowLatencies);
    windowLatencies = grown;
  }
  windowLatencies[windowCount++] = ms;
}

function increment(counts: Map<number, number>, status: number): void {
  counts.set(status, (counts.get(status) ?? 0) + 1);
}

/** One keep-alive socket with its requests in flight, oldest first (HTTP/1.1 answers in order). */
class Lane {
  readonly socket: Socket;
  readonly #sentAt: number[] = [];
  #pending: Buffer = Buffer.alloc(0);
  #closing = false;
  #connected = false;

  constructor(onConnect: () => void) {
    this.socket = connect({ host: settings.host, port: settings.port, noDelay: true }, () => {
      this.#connected = true;
      onConnect();
    });
    this.socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    this.socket.on('error', () => {
      socketErrors += 1;
    });
    this.socket.on('close', () => this.#closed());
  }

  get inFlight(): number {
    return this.#sentAt.length;
  }

  /** Fills the lane up to the pipelining depth. */
  fill(): void {
    if (this.#closing) return;
    this.socket.cork();
    while (sending && this.#sentAt.length < settings.pipelining) {
      const request = signedWebhookRequest(nextKey++, hostHeader);
      // Corked: the head and the body leave in one write.
      this.socket.write(request.head, 'latin1');
      this.socket.write(request.body);
      this.#sentAt.push(performance.now());
      sent += 1;
    }
    this.socket.uncork();
  }

  #receive(chunk: Buffer): void {
    let buffer = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    // After an answer that closes the connection nothing more is answered on it (see #closed).
    while (!this.#closing) {
      const headerEnd = buffer.indexOf(HEADER_END);
      if (headerEnd < 0) break;
      const head = buffer.toString('latin1', 0, headerEnd);
      if (CHUNKED.test(head)) {
        fail(`chunked response, which this generator does not parse: ${head}`);
        return;
      }
      const length = CONTENT_LENGTH.exec(head)?.[1];
      // Without a length (node's own 400 or 408 answers) the connection closes after the headers.
      const end = headerEnd + HEADER_END.length + Number(length ?? 0);
      if (buffer.length < end) break;
      this.#answered(Number(head.slice(9, 12)));
      buffer = buffer.subarray(end);
      if (length === undefined || CONNECTION_CLOSE.test(head)) {
        this.#closing = true;
        this.socket.end();
      }
    }
    this.#pending = buffer;
    this.fill();
    if (!sending) checkIdle();
  }

  #answered(status: number): void {
    const sentAt = this.#sentAt.shift() ?? performance.now();
    increment(totalStatuses, status);
    if (windowOpen) {
      increment(windowStatuses, status);
      recordLatency(performance.now() - sentAt);
    }
  }

  #closed(): void {
    if (failed) return;
    if (!this.#connected) {
      fail(`cannot connect to ${hostHeader}`);
      return;
    }
    unanswered += this.#sentAt.length;
    this.#sentAt.length = 0;
    lanes.delete(this);
    // A closed socket is replaced while the run goes on, so the concurrency stays what was asked for.
    if (sending) void openLane();
    else checkIdle();
  }
}

function openLane(): Promise<void> {
  return new Promise((resolve) => {
    const lane: Lane = new Lane(() => {
      lane.fill();
      resolve();
    });
    lanes.add(lane);
  });
}

function checkIdle(): void {
  if (onIdle !== undefined && [...lanes].every((lane) => lane.inFlight === 0)) onIdle();
}

function statusRecord(counts: ReadonlyMap<number, number>): Record<string, number> {
  return Object.fromEntries([...counts].map(([status, count]) => [String(status), count]));
}

async function stop(): Promise<void> {
  sending = false;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, STOP_GRACE_MS);
    onIdle = () => {
      clearTimeout(timer);
      resolve();
    };
    checkIdle();
  });
  onIdle = undefined;
  for (const lane of lanes) {
    unanswered += lane.inFlight;
    lane.socket.destroy();
  }
  // Disconnecting only once the result is written: the channel would drop a message still queued.
  send(
    {
      type: 'result',
      result: {
        sent,
        totalStatuses: statusRecord(totalStatuses),
        windowStatuses: statusRecord(windowStatuses),
        windowLatenciesMs: windowLatencies.slice(0, windowCount),
        unanswered,
        socketErrors,
      },
    },
    () => process.disconnect(),
  );
}

process.on('message', (message: ToGenerator) => {
  switch (message.type) {
    case 'start':
      settings = message.settings;
      hostHeader = `${settings.host}:${settings.port}`;
      nextKey = settings.firstKey;
      void Promise.all(Array.from({ length: settings.connections }, openLane)).then(() =>
        send({ type: 'ready' }),
      );
      break;
    case 'window-open':
      windowOpen = true;
      break;
    case 'window-close':
      windowOpen = false;
      break;
    case 'stop':
      void stop();
      break;
  }
});
