/**
 * The network between the EspoCRM simulator and crmsync in the convergence test: EspoCRM's webhooks point at
 * this relay, which answers 200 at once, keeps every delivery in an outbox and forwards it, byte for byte
 * with its signature headers, to wherever crmsync listens now (its port changes when the test restarts it
 * after a SIGKILL). Faults of the network, drawn from a seeded PRNG: a delivery sent twice (the copy later,
 * after other deliveries) and a delivery held back until the next one has gone (reordered).
 *
 * Why here and not in the simulator: the vendor's queue sends in sequence order and retries only failures;
 * duplicates and reordering come from the way between (proxies, retries after a lost answer). The relay also
 * keeps deliveries while crmsync is down, as a load balancer's retry would; lost webhooks are a different
 * fault, healed by the reconciler and tested in sync-beteiligte.test.ts.
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { seededRandom } from '../../src/core/random.ts';

/** The relay's faults: probabilities per delivery. */
export interface RelayFaults {
  /** A delivery is sent once more, after the deliveries queued behind it. */
  readonly duplicate: number;
  /** A delivery is held back and sent after the next one. */
  readonly reorder: number;
}

/** One webhook request as EspoCRM sent it. */
interface Delivery {
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

/** What the relay did, for the summary. */
export interface RelayStats {
  received: number;
  forwarded: number;
  duplicated: number;
  reordered: number;
  /** Attempts that found crmsync down or answering non-2xx (retried). */
  retried: number;
}

/** The headers crmsync's webhook route needs (the signatures are over the body bytes). */
const FORWARDED_HEADERS = ['content-type', 'signature', 'x-signature'];

function pickHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of FORWARDED_HEADERS) {
    const value = headers[name];
    if (typeof value === 'string') picked[name] = value;
  }
  return picked;
}

/** A running relay; see the module comment. */
export class WebhookRelay {
  readonly stats: RelayStats = { received: 0, forwarded: 0, duplicated: 0, reordered: 0, retried: 0 };
  readonly #server: Server;
  readonly #target: () => string | null;
  readonly #random: () => number;
  readonly #outbox: Delivery[] = [];
  #held: Delivery | undefined;
  #faults: RelayFaults = { duplicate: 0, reorder: 0 };
  #pumping = false;
  #closed = false;
  #url = '';

  private constructor(server: Server, target: () => string | null, seed: number) {
    this.#server = server;
    this.#target = target;
    this.#random = seededRandom(seed);
  }

  /** Starts a relay forwarding to `target()` (crmsync's base URL, or null while it is down). */
  static async start(target: () => string | null, seed: number): Promise<WebhookRelay> {
    // The handler needs the relay, which needs the server: the handler finds it here once both exist.
    const holder: { relay?: WebhookRelay } = {};
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const relay = holder.relay;
        if (relay !== undefined)
          relay.#accept({
            path: request.url ?? '/',
            headers: pickHeaders(request.headers),
            body: Buffer.concat(chunks),
          });
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    const relay = new WebhookRelay(server, target, seed);
    holder.relay = relay;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    relay.#url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return relay;
  }

  /** The relay's base URL: EspoCRM's webhooks point at `${url}/webhooks/espo?event=...`. */
  get url(): string {
    return this.#url;
  }

  /** Switches the faults (all zero: a faithful network; a held delivery goes with the next one). */
  setFaults(faults: RelayFaults): void {
    this.#faults = faults;
    if (faults.reorder === 0 && this.#held !== undefined) {
      this.#outbox.push(this.#held);
      this.#held = undefined;
      this.#pump();
    }
  }

  /** True when every delivery received has been forwarded (none waiting, held or on its way). */
  idle(): boolean {
    return this.#outbox.length === 0 && this.#held === undefined && !this.#pumping;
  }

  #accept(delivery: Delivery): void {
    this.stats.received++;
    if (this.#held === undefined && this.#random() < this.#faults.reorder) {
      this.stats.reordered++;
      this.#held = delivery;
      return;
    }
    this.#outbox.push(delivery);
    if (this.#held !== undefined) {
      this.#outbox.push(this.#held);
      this.#held = undefined;
    }
    this.#pump();
  }

  /** Forwards the outbox in order, one delivery at a time, retrying each until crmsync accepts it. */
  #pump(): void {
    if (this.#pumping || this.#closed) return;
    this.#pumping = true;
    void (async () => {
      try {
        for (let delivery = this.#outbox.shift(); delivery !== undefined; delivery = this.#outbox.shift()) {
          while (!this.#closed && !(await this.#forward(delivery))) {
            this.stats.retried++;
            // Back off briefly while crmsync restarts; this is the relay's retry interval, not a test wait.
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
          this.stats.forwarded++;
          if (this.#random() < this.#faults.duplicate) {
            this.stats.duplicated++;
            this.#outbox.push(delivery);
          }
        }
      } finally {
        this.#pumping = false;
      }
    })();
  }

  async #forward(delivery: Delivery): Promise<boolean> {
    const base = this.#target();
    if (base === null) return false;
    try {
      const response = await fetch(`${base}${delivery.path}`, {
        method: 'POST',
        headers: delivery.headers,
        body: delivery.body,
        signal: AbortSignal.timeout(5_000),
      });
      await response.arrayBuffer();
      return response.ok;
    } catch {
      return false;
    }
  }

  /** Stops forwarding and closes the server. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
