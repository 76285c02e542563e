/**
 * Which event each webhook delivers. EspoCRM's payload items do not name their event and one webhook serves
 * exactly one event, so the receiver must know the event of the webhook id in the signature. Two sources, in
 * this order:
 *
 * 1. **Connector state**, written by `crmsync espocrm webhook register` with the id the server returned
 *    (key `webhook-event:<id>`). Authoritative: the server stores it next to the queue, so every crmsync
 *    instance sharing the store knows it, and a URL cannot contradict it.
 * 2. **`?event=` on the target URL**, which `webhook register` also adds (`.../webhooks/espo?event=CBeteiligte.update`).
 *    Stateless: it keeps working with a fresh store, and lets an administrator register a webhook by hand in
 *    EspoCRM's UI. The signature covers the body only, so a query that disagrees with the stored event is
 *    ignored (and logged).
 *
 * Without either the delivery cannot be parsed (ESPOCRM_WEBHOOK_EVENT_UNKNOWN, the message says how to fix it):
 * the server keeps it as a dead letter, which `crmsync jobs replay` parses again once the event is known.
 */
import { InputError } from '../../core/errors.ts';
import type { Logger } from '../../ports/logger.ts';
import type { ConnectorStateRepository } from '../../ports/store.ts';
import { parseEventName } from './webhook.ts';

/** The query parameter of the target URL that names the event. */
export const EVENT_QUERY_PARAMETER = 'event';

const KEY_PREFIX = 'webhook-event:';

/** `url` with `?event=<event>` added (replacing one already there); the rest of the URL is kept. */
export function targetUrlFor(url: string, event: string): string {
  const target = new URL(url);
  target.searchParams.set(EVENT_QUERY_PARAMETER, event);
  return target.toString();
}

/** The webhook id -> event directory of one connection. */
export class WebhookEventDirectory {
  readonly #state: ConnectorStateRepository;
  readonly #connection: string;
  readonly #logger: Logger | undefined;
  /** Events never change for a webhook id (non-admins cannot edit `event`), so found ones are kept. */
  readonly #cache = new Map<string, string>();

  constructor(state: ConnectorStateRepository, connection: string, logger?: Logger) {
    this.#state = state;
    this.#connection = connection;
    this.#logger = logger;
  }

  /** Stores the event of a newly registered webhook. */
  async remember(webhookId: string, event: string): Promise<void> {
    await this.#state.set(this.#connection, KEY_PREFIX + webhookId, event);
    this.#cache.set(webhookId, event);
  }

  /** Forgets a deleted webhook. */
  async forget(webhookId: string): Promise<void> {
    await this.#state.delete(this.#connection, KEY_PREFIX + webhookId);
    this.#cache.delete(webhookId);
  }

  /** The stored event of a webhook, or null. */
  async lookup(webhookId: string): Promise<string | null> {
    const cached = this.#cache.get(webhookId);
    if (cached !== undefined) return cached;
    const stored = await this.#state.get(this.#connection, KEY_PREFIX + webhookId);
    if (typeof stored !== 'string') return null;
    this.#cache.set(webhookId, stored);
    return stored;
  }

  /** The event of a delivery by `webhookId`, from the store or else the `?event=` query (see the module comment). */
  async resolve(webhookId: string, queryEvent: string | undefined): Promise<string> {
    const stored = await this.lookup(webhookId);
    const fromQuery = queryEvent === undefined || queryEvent === '' ? undefined : queryEvent;
    if (stored !== null) {
      if (fromQuery !== undefined && fromQuery !== stored) {
        this.#logger?.warn(
          { webhookId, stored, query: fromQuery },
          'webhook target URL names another event than the one registered; the registered one is used',
        );
      }
      return stored;
    }
    if (fromQuery !== undefined && parseEventName(fromQuery) !== null) return fromQuery;
    throw new InputError(
      'ESPOCRM_WEBHOOK_EVENT_UNKNOWN',
      `Cannot tell which event webhook ${webhookId} delivers: register it with \`crmsync espocrm webhook register\`, ` +
        `or add ?${EVENT_QUERY_PARAMETER}=<Entity.action> (e.g. CBeteiligte.update) to its URL in EspoCRM.`,
    );
  }
}
