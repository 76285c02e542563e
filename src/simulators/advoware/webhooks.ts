/**
 * Optional change webhooks. [UNCONFIRMED] Invented: nothing public shows advoware pushing changes (it is
 * polled, comparing `rowId`s), so they are off until a target registers through `POST /_sim/webhooks`.
 * They let the sandbox and tests exercise a push path too. The wire format, fixed so that the client can
 * verify it:
 *
 * - `POST <target url>`, `Content-Type: application/json; charset=utf-8`, one change per request:
 *   `{"event":"Beteiligte.created"|"Beteiligte.changed"|"Beteiligte.deleted","betNr":10001,"rowId":"...","at":"2026-...Z"}`
 *   (`rowId` is null for `deleted`; a change of a Kommunikation is a `Beteiligte.changed` of its Beteiligter).
 * - Header `X-Advoware-Signature: sha256=<lowercase hex of HMAC-SHA256(key = UTF-8 secret, data = raw body bytes)>`.
 * - Header `X-Advoware-Event: <event>`.
 * - A target's deliveries are sent one after another in order; a non-2xx answer, a connection error or a
 *   timeout is retried after each of `retryDelaysMs` (default 1 s, 5 s), then given up.
 */
import { createHmac } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { Agent } from 'undici';
import { z } from 'zod';
import type { Clock } from '../../ports/clock.ts';
import type { Logger } from '../../ports/logger.ts';
import { DeliveryLane, postWebhook, redactTargetUrl } from '../kit/index.ts';
import type { AttemptOutcome } from '../kit/index.ts';
import type { ChangeEventName, SimChange } from './mutations.ts';

/** [UNCONFIRMED] Name of the signature header (invented, see the module comment). */
export const SIGNATURE_HEADER = 'X-Advoware-Signature';

/** [UNCONFIRMED] Name of the event header (invented). */
export const EVENT_HEADER = 'X-Advoware-Event';

/** The events a target can subscribe to. */
const CHANGE_EVENTS: readonly ChangeEventName[] = [
  'Beteiligte.created',
  'Beteiligte.changed',
  'Beteiligte.deleted',
];

/** The value of {@link SIGNATURE_HEADER} for `body`: `sha256=` + hex HMAC-SHA256 keyed with the secret. */
export function signChangeWebhook(secret: string, body: Buffer): string {
  return `sha256=${createHmac('sha256', Buffer.from(secret, 'utf8')).update(body).digest('hex')}`;
}

/** Body of `POST /_sim/webhooks`. */
export const webhookRegistrationSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/ }),
  /** Signs every delivery; at least 8 characters. */
  secret: z.string().min(8),
  /** Default: all three. */
  events: z
    .array(z.enum(['Beteiligte.created', 'Beteiligte.changed', 'Beteiligte.deleted']))
    .min(1)
    .optional(),
});

/** A registered target. */
export interface WebhookRegistration {
  readonly id: string;
  readonly url: string;
  readonly secret: string;
  readonly events: readonly ChangeEventName[];
}

/** One delivery attempt, as `GET /_sim/webhooks/deliveries` lists it. */
export interface DeliveryAttempt {
  readonly webhookId: string;
  readonly event: ChangeEventName;
  readonly betNr: number;
  /** 1 for the first try. */
  readonly attempt: number;
  /** The target's status, or why there was none. */
  readonly outcome: AttemptOutcome;
  readonly at: string;
}

/** Options of {@link ChangeWebhooks}. */
export interface ChangeWebhooksOptions {
  readonly clock: Clock;
  readonly logger?: Logger;
  /** Waits before the retries; default [1000, 5000]. */
  readonly retryDelaysMs?: readonly number[];
  /** Per attempt; default 5000. */
  readonly timeoutMs?: number;
}

/** How many attempts the delivery log keeps (the oldest go first). */
const KEPT_ATTEMPTS = 1_000;

/** Registered targets and their delivery lanes. */
export class ChangeWebhooks {
  readonly #options: ChangeWebhooksOptions;
  readonly #registrations = new Map<string, WebhookRegistration>();
  readonly #lanes = new Map<string, DeliveryLane<SimChange>>();
  readonly #work = new Set<Promise<void>>();
  readonly #attempts: DeliveryAttempt[] = [];
  readonly #agent = new Agent();
  #nextId = 1;

  constructor(options: ChangeWebhooksOptions) {
    this.#options = options;
  }

  /** Registers a target; returns the registration (with its id). */
  register(input: z.output<typeof webhookRegistrationSchema>): WebhookRegistration {
    const registration: WebhookRegistration = {
      id: String(this.#nextId++),
      url: input.url,
      secret: input.secret,
      events: input.events ?? CHANGE_EVENTS,
    };
    this.#registrations.set(registration.id, registration);
    return registration;
  }

  /** Removes a target and drops its pending deliveries; false when there was none. */
  unregister(id: string): boolean {
    this.#lanes.get(id)?.clear();
    this.#lanes.delete(id);
    return this.#registrations.delete(id);
  }

  /** The registrations without their secrets (secrets are never shown again). */
  list(): { id: string; url: string; events: readonly ChangeEventName[] }[] {
    return [...this.#registrations.values()].map(({ id, url, events }) => ({ id, url, events }));
  }

  /** Queues `change` for every target subscribed to its event. */
  emit(change: SimChange): void {
    for (const registration of this.#registrations.values())
      if (registration.events.includes(change.event)) this.#lane(registration).push(change);
  }

  /** Every attempt so far (the last {@link KEPT_ATTEMPTS}). */
  deliveries(): readonly DeliveryAttempt[] {
    return [...this.#attempts];
  }

  /** Resolves once nothing is queued or in flight. */
  async idle(): Promise<void> {
    while (this.#work.size > 0) await Promise.all([...this.#work]);
  }

  /** Drops registrations, pending deliveries and the log. */
  reset(): void {
    for (const lane of this.#lanes.values()) lane.clear();
    this.#lanes.clear();
    this.#registrations.clear();
    this.#attempts.length = 0;
  }

  /** Stops all deliveries and closes the HTTP agent. */
  async close(): Promise<void> {
    for (const lane of this.#lanes.values()) lane.clear();
    await this.idle();
    await this.#agent.close();
  }

  /** The registrations, for persistence. */
  toJSON(): { nextId: number; registrations: WebhookRegistration[] } {
    return { nextId: this.#nextId, registrations: [...this.#registrations.values()] };
  }

  /** Restores registrations saved by {@link toJSON}. */
  load(data: { nextId: number; registrations: WebhookRegistration[] }): void {
    this.#registrations.clear();
    for (const registration of data.registrations) this.#registrations.set(registration.id, registration);
    this.#nextId = data.nextId;
  }

  #lane(registration: WebhookRegistration): DeliveryLane<SimChange> {
    let lane = this.#lanes.get(registration.id);
    if (lane === undefined) {
      lane = new DeliveryLane<SimChange>({
        deliver: (change, signal) => this.#deliver(registration, change, signal),
        reorder: () => false,
        random: Math.random,
        track: (work) => {
          this.#work.add(work);
          void work.finally(() => this.#work.delete(work));
        },
      });
      this.#lanes.set(registration.id, lane);
    }
    return lane;
  }

  /** One change to one target, with retries; never throws. */
  async #deliver(registration: WebhookRegistration, change: SimChange, signal: AbortSignal): Promise<'done'> {
    const body = Buffer.from(JSON.stringify(change), 'utf8');
    const headers = {
      'content-type': 'application/json; charset=utf-8',
      [SIGNATURE_HEADER.toLowerCase()]: signChangeWebhook(registration.secret, body),
      [EVENT_HEADER.toLowerCase()]: change.event,
    };
    const delays = this.#options.retryDelaysMs ?? [1000, 5000];
    for (let attempt = 1; ; attempt++) {
      const outcome = await postWebhook({
        url: registration.url,
        body,
        headers,
        timeoutMs: this.#options.timeoutMs ?? 5000,
        signal,
        dispatcher: this.#agent,
      });
      if (outcome === 'aborted') return 'done';
      this.#record({
        webhookId: registration.id,
        event: change.event,
        betNr: change.betNr,
        attempt,
        outcome,
      });
      if (typeof outcome === 'number' && outcome >= 200 && outcome < 300) return 'done';
      const wait = delays[attempt - 1];
      if (wait === undefined) {
        this.#options.logger?.warn(
          {
            webhookId: registration.id,
            target: redactTargetUrl(registration.url),
            outcome,
            attempts: attempt,
          },
          'advoware simulator: change webhook given up',
        );
        return 'done';
      }
      try {
        await delay(wait, undefined, { signal });
      } catch {
        return 'done';
      }
    }
  }

  #record(attempt: Omit<DeliveryAttempt, 'at'>): void {
    this.#attempts.push({ ...attempt, at: new Date(this.#options.clock.now()).toISOString() });
    if (this.#attempts.length > KEPT_ATTEMPTS)
      this.#attempts.splice(0, this.#attempts.length - KEPT_ATTEMPTS);
  }
}
