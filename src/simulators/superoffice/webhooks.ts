/**
 * The webhook hub of the SuperOffice simulator (reference §1): the `Webhook` REST resource with the test event
 * on save, and delivery of the changes the simulator core emits, signed, retried and switched to
 * TooManyErrors as NetServer does.
 *
 * Delivery, per webhook (the simulator kit's `DeliveryLane`): events are delivered in order, one at a time;
 * webhooks run concurrently. One retry cycle is up to 3 attempts (1 s before the 2nd, 4 s before the 3rd;
 * `retryDelaysMs`), all with the same EventId. A failed cycle puts the payload at the back of the webhook's queue. Anything but
 * 200, a connection error or a timeout is a failed attempt; after 9 failed attempts in a row the webhook's
 * State becomes TooManyErrors, its pending deliveries are dropped, and nothing is delivered until the owner
 * sets State back to Active with PUT.
 *
 * `X-SuperOffice-Retry` counts the earlier attempts with the same EventId (0 on the first), across cycles.
 * `deliveries()` records every attempt of emitted events; save-time test events are not in it (they have no
 * webhook id yet), and attempts cut short by close()/reset() or a webhook leaving Active are not either.
 *
 * Where the reference is silent or contradicts itself the behaviour is an option, each marked below:
 * `newEventIdPerCycle` and `requeueFailedEvents` ([UNCONFIRMED]: the doc says both that the payload goes to
 * the back of the queue and that it is discarded and the next attempt gets a new EventId), `timeoutMs`
 * ([UNCONFIRMED], default 10 s), `requireHttps` (the product demands https with a valid certificate; the
 * simulator's receivers are local http servers, so http is accepted unless this is set).
 * Further [INFERRED] choices: each webhook gets its own EventId for the same change; the pause between two
 * cycles is none (the next cycle starts when the payload reaches the head of the queue again); payloads
 * pending when a webhook leaves Active are dropped, not kept for later; the ErrorsEmail e-mail and the
 * `webhook{ID}.errors` state events are only logged, not sent; `POST Webhook/{eventName}/{id}` (custom events)
 * is not simulated.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyRequest, preHandlerHookHandler } from 'fastify';
import { Agent } from 'undici';
import type { Clock } from '../../ports/clock.ts';
import { systemClock } from '../../ports/clock.ts';
import type { Logger } from '../../ports/logger.ts';
import { authenticatedAssociateId } from './auth.ts';
import { SimHttpError, badRequest, notFound } from './errors.ts';
import { DeliveryLane, postWebhook, redactTargetUrl } from '../kit/index.ts';
import type { AttemptOutcome, LaneOutcome } from '../kit/index.ts';
import type { WebhookPayload } from './webhook-delivery.ts';
import { deliveryHeaders, encodePayload, formatWebhookTimestamp } from './webhook-delivery.ts';
import {
  DEFAULT_WEBHOOK_DEFINITION,
  describeAssociateById,
  parsePersistedWebhooks,
  parseWebhookDefinition,
  webhookEntity,
} from './webhook-store.ts';
import type {
  DescribeAssociate,
  PersistedWebhooks,
  StoredWebhook,
  WebhookDefinition,
} from './webhook-store.ts';

/** A change of a record, as the simulator core reports it to the hub. */
export interface SimChangeEvent {
  /** Event name, e.g. `contact.created`, `contact.changed`, `person.deleted`, `sale.sold`. */
  event: string;
  entity: 'contact' | 'person' | 'sale';
  primaryKey: number;
  /** DB column names, e.g. `['contact_id','updated_associate_id','updated','name']`. */
  changes: string[];
  /** The associate who made the change (the payload's ChangedByAssociateId). */
  changedByAssociateId: number;
  /** Sent as `FieldValues` when given (created/changed). */
  fieldValues?: Record<string, unknown>;
  /** Sent as `Values` when given (`*.deleted`: foreign keys). */
  values?: Record<string, unknown>;
}

/** One delivery attempt, as `deliveries()` and `/_sim/deliveries` report it. */
export interface DeliveryRecord {
  webhookId: number;
  eventId: string;
  event: string;
  /** 1 for the first attempt of a payload, counting on across retry cycles. */
  attempt: number;
  /** The target's HTTP status, or why there was none. */
  status: number | 'error' | 'timeout';
  /** When the attempt started (ISO, from the hub's clock). */
  at: string;
  /** The target without query string (it may carry a token). */
  targetUrl: string;
}

/** Quirks of the vendor that can be switched on (`/_sim/quirks`). */
export interface WebhookQuirks {
  /** Extra deliveries of every `contact.created`, right after the first (seed 001). */
  duplicateContactCreated?: number;
  /**
   * The EventId of those extra deliveries: `new` (default) gives each copy its own, as the seed system saw
   * (seed 001: "multiple webhooks", caught by company name, not by id); `same` repeats the first's, which
   * crmsync's ingest drops as a redelivery.
   */
  duplicateContactCreatedEventId?: 'new' | 'same';
  /** Deliver each batch of pending events of a webhook in a shuffled order (using `random`). */
  reorder?: boolean;
}

const DEFAULT_QUIRKS: Required<WebhookQuirks> = {
  duplicateContactCreated: 0,
  duplicateContactCreatedEventId: 'new',
  reorder: false,
};

/**
 * Finds the associate who sent an authenticated request. The default reads what the simulator core's bearer
 * check recorded (`authenticatedAssociateId` of auth.ts); a host with another `authenticate` passes its own.
 */
export type AssociateOfRequest = (request: FastifyRequest) => number;

/** Options of {@link WebhookHub}. */
export interface WebhookHubOptions {
  /** The tenant, sent as the payload's ContextIdentifier (e.g. `Cust12345`). */
  contextIdentifier: string;
  /** Source of payload timestamps and record times (default the system clock). Retry waits: `sleep`. */
  clock?: Clock;
  /** Waits before the 2nd, 3rd... attempt of a cycle; the cycle has `length + 1` attempts. Default [1000, 4000]. */
  retryDelaysMs?: number[];
  /**
   * How the hub waits between attempts; rejects when `signal` aborts (close, reset). Default: real time.
   * Tests pass one that records the waits, so retry timing shows as numbers.
   */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** How long a target may take to answer (test event and deliveries). [UNCONFIRMED] default 10 000 ms. */
  timeoutMs?: number;
  logger?: Logger;
  /** Random numbers in [0, 1) for the reorder quirk (default Math.random); seed it in tests. */
  random?: () => number;
  /** Failed attempts in a row that switch a webhook to TooManyErrors (default 9, reference §1.5). */
  maxConsecutiveErrors?: number;
  /** [UNCONFIRMED] Give a payload a new EventId when it starts a later cycle (default false: keep it). */
  newEventIdPerCycle?: boolean;
  /** [UNCONFIRMED] Put a payload back in the queue after a failed cycle (default true) instead of dropping it. */
  requeueFailedEvents?: boolean;
  /** Refuse http TargetUrls, as the product does (default false, so local receivers work). */
  requireHttps?: boolean;
  /** How many delivery records `deliveries()` keeps, newest last (default 10 000). */
  maxDeliveryRecords?: number;
  /** See {@link AssociateOfRequest}. */
  associateOf?: AssociateOfRequest;
  /** Renders RegisteredAssociate/UpdatedAssociate (shape [UNCONFIRMED]; default `{AssociateId}`). */
  describeAssociate?: DescribeAssociate;
  /**
   * Called when delivery changes what {@link WebhookHub.toJSON} returns outside any request (an error
   * counter, the switch to TooManyErrors), so the host can persist it; REST changes are requests of their own.
   */
  onChange?: () => void;
}

/** A payload waiting in a webhook's lane. */
interface PendingDelivery {
  payload: WebhookPayload;
  /** Attempts made so far with this EventId (sent as X-SuperOffice-Retry). */
  attempts: number;
}

const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
};

/** The webhook hub: REST resource, delivery, quirks, persistence. */
export class WebhookHub {
  readonly #contextIdentifier: string;
  readonly #clock: Clock;
  readonly #retryDelaysMs: readonly number[];
  readonly #sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly #timeoutMs: number;
  readonly #logger: Logger;
  readonly #random: () => number;
  readonly #maxConsecutiveErrors: number;
  readonly #newEventIdPerCycle: boolean;
  readonly #requeueFailedEvents: boolean;
  readonly #requireHttps: boolean;
  readonly #maxDeliveryRecords: number;
  readonly #associateOf: AssociateOfRequest;
  readonly #describeAssociate: DescribeAssociate;
  readonly #onChange: () => void;

  readonly #webhooks = new Map<number, StoredWebhook>();
  #nextWebhookId = 1;
  readonly #lanes = new Map<number, DeliveryLane<PendingDelivery>>();
  readonly #work = new Set<Promise<void>>();
  #records: DeliveryRecord[] = [];
  #quirks: Required<WebhookQuirks> = { ...DEFAULT_QUIRKS };
  /** Aborts test events in flight on close(); deliveries are aborted through their lanes. */
  readonly #closing = new AbortController();
  /** Own connection pool, so close() can end every socket; idle sockets are let go soon. */
  readonly #dispatcher = new Agent({ keepAliveTimeout: 1_000 });

  constructor(options: WebhookHubOptions) {
    const delays = options.retryDelaysMs ?? [1_000, 4_000];
    if (!delays.every((delay) => Number.isFinite(delay) && delay >= 0))
      throw new RangeError(`retryDelaysMs must be non-negative numbers, got ${JSON.stringify(delays)}.`);
    this.#contextIdentifier = options.contextIdentifier;
    this.#clock = options.clock ?? systemClock;
    this.#retryDelaysMs = [...delays];
    this.#sleep = options.sleep ?? ((ms, signal) => sleep(ms, undefined, { signal }));
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#logger = (options.logger ?? silentLogger).child({ component: 'superoffice-sim-webhooks' });
    this.#random = options.random ?? Math.random;
    this.#maxConsecutiveErrors = options.maxConsecutiveErrors ?? 9;
    this.#newEventIdPerCycle = options.newEventIdPerCycle ?? false;
    this.#requeueFailedEvents = options.requeueFailedEvents ?? true;
    this.#requireHttps = options.requireHttps ?? false;
    this.#maxDeliveryRecords = options.maxDeliveryRecords ?? 10_000;
    this.#associateOf = options.associateOf ?? authenticatedAssociateId;
    this.#describeAssociate = options.describeAssociate ?? describeAssociateById;
    this.#onChange = options.onChange ?? (() => {});
  }

  /**
   * Serves the `Webhook` resource under `prefix` (e.g. `/Cust12345/api/v1`), every route behind
   * `authenticate`. Errors are thrown as SimHttpError for the host's error handler.
   */
  registerRoutes(app: FastifyInstance, prefix: string, authenticate: preHandlerHookHandler): void {
    const guarded = { preHandler: authenticate };
    const base = `${prefix}/Webhook`;
    type WithId = { Params: { id: string } };

    // Online apps only see the webhooks they created themselves (reference §1.1); the simulator has one
    // app per associate, so "created themselves" means registered by the caller's associate.
    app.get(base, guarded, (request) =>
      [...this.#webhooks.values()]
        .filter((webhook) => webhook.registeredAssociate === this.#associateOf(request))
        .map((webhook) => this.#entity(webhook)),
    );
    app.get(`${base}/default`, guarded, () => this.#entity(DEFAULT_WEBHOOK_DEFINITION));
    app.get<WithId>(`${base}/:id`, guarded, (request) => this.#entity(this.#ownWebhook(request)));

    app.post(base, guarded, async (request, reply) => {
      const definition = this.#parse(request.body, DEFAULT_WEBHOOK_DEFINITION);
      const associateId = this.#associateOf(request);
      await this.#testTarget(definition, associateId);
      const now = this.#clock.now();
      const webhook: StoredWebhook = {
        ...definition,
        webhookId: this.#nextWebhookId++,
        registered: now,
        registeredAssociate: associateId,
        updated: now,
        updatedAssociate: associateId,
        consecutiveErrors: 0,
      };
      this.#webhooks.set(webhook.webhookId, webhook);
      return reply.code(201).send(this.#entity(webhook));
    });

    app.put<WithId>(`${base}/:id`, guarded, async (request) => {
      const webhook = this.#ownWebhook(request);
      const definition = this.#parse(request.body, webhook);
      const associateId = this.#associateOf(request);
      const activating = definition.state === 'Active' && webhook.state !== 'Active';
      // [INFERRED] The save-time test is repeated when the target changes or the webhook is (re)activated.
      if (definition.state === 'Active' && (activating || definition.targetUrl !== webhook.targetUrl))
        await this.#testTarget(definition, associateId);
      if (this.#webhooks.get(webhook.webhookId) !== webhook)
        throw notFound(`Webhook ${webhook.webhookId} was deleted while it was being saved.`);
      Object.assign(webhook, definition, { updated: this.#clock.now(), updatedAssociate: associateId });
      if (activating) webhook.consecutiveErrors = 0;
      if (webhook.state !== 'Active') this.#dropLane(webhook.webhookId);
      return this.#entity(webhook);
    });

    app.delete<WithId>(`${base}/:id`, guarded, (request, reply) => {
      const webhook = this.#ownWebhook(request);
      this.#webhooks.delete(webhook.webhookId);
      this.#dropLane(webhook.webhookId);
      return reply.code(204).send();
    });

    // [UNCONFIRMED] answer: the validated definition (id 0) when the target accepted the test event.
    app.post(`${base}/Test`, guarded, async (request) => {
      const definition = this.#parse(request.body, DEFAULT_WEBHOOK_DEFINITION);
      await this.#testTarget(definition, this.#associateOf(request));
      return this.#entity(definition);
    });
  }

  /** Queues the change for every Active webhook subscribed to its event name (exact names, no wildcard). */
  emit(event: SimChangeEvent): void {
    if (this.#closing.signal.aborted) return;
    const timestamp = formatWebhookTimestamp(this.#clock.now());
    const copies = 1 + (event.event === 'contact.created' ? this.#quirks.duplicateContactCreated : 0);
    for (const webhook of this.#webhooks.values()) {
      if (webhook.state !== 'Active' || !webhook.events.includes(event.event)) continue;
      const payload: WebhookPayload = {
        EventId: randomUUID(),
        Timestamp: timestamp,
        Changes: [...event.changes],
        Event: event.event,
        PrimaryKey: event.primaryKey,
        Entity: event.entity,
        ContextIdentifier: this.#contextIdentifier,
        ChangedByAssociateId: event.changedByAssociateId,
        WebhookName: webhook.name,
        ...(event.fieldValues !== undefined && { FieldValues: { ...event.fieldValues } }),
        ...(event.values !== undefined && { Values: { ...event.values } }),
      };
      const items = Array.from({ length: copies }, (_, copy): PendingDelivery => ({
        payload:
          copy === 0 || this.#quirks.duplicateContactCreatedEventId === 'same'
            ? payload
            : { ...payload, EventId: randomUUID() },
        attempts: 0,
      }));
      this.#lane(webhook.webhookId).push(...items);
    }
  }

  /** Switches quirks; fields not given keep their value. */
  setQuirks(quirks: WebhookQuirks): void {
    const duplicates = quirks.duplicateContactCreated;
    if (duplicates !== undefined && (!Number.isInteger(duplicates) || duplicates < 0 || duplicates > 100))
      throw badRequest('duplicateContactCreated must be a whole number of extra deliveries from 0 to 100.');
    const eventId = quirks.duplicateContactCreatedEventId;
    if (eventId !== undefined && eventId !== 'new' && eventId !== 'same')
      throw badRequest("duplicateContactCreatedEventId must be 'new' or 'same'.");
    if (quirks.reorder !== undefined && typeof quirks.reorder !== 'boolean')
      throw badRequest('reorder must be true or false.');
    this.#quirks = {
      duplicateContactCreated: duplicates ?? this.#quirks.duplicateContactCreated,
      duplicateContactCreatedEventId: eventId ?? this.#quirks.duplicateContactCreatedEventId,
      reorder: quirks.reorder ?? this.#quirks.reorder,
    };
  }

  /** Every delivery attempt so far (the newest `maxDeliveryRecords`), oldest first. */
  deliveries(): readonly DeliveryRecord[] {
    return this.#records;
  }

  /** Resolves once nothing is queued, in flight or waiting for a retry. */
  async idle(): Promise<void> {
    while (this.#work.size > 0) await Promise.all(this.#work);
  }

  /** Forgets every webhook, pending delivery, delivery record and quirk. */
  reset(): void {
    this.#dropAllLanes();
    this.#webhooks.clear();
    this.#nextWebhookId = 1;
    this.#records = [];
    this.#quirks = { ...DEFAULT_QUIRKS };
  }

  /** The registrations and their error counters (not in-flight deliveries). */
  toJSON(): PersistedWebhooks {
    return {
      version: 1,
      nextWebhookId: this.#nextWebhookId,
      webhooks: [...this.#webhooks.values()].map((webhook) => ({ ...webhook, events: [...webhook.events] })),
    };
  }

  /** Replaces the registrations with `state` (from {@link toJSON}); throws if it is not such a value. */
  load(state: unknown): void {
    const data = parsePersistedWebhooks(state);
    this.#dropAllLanes();
    this.#webhooks.clear();
    for (const webhook of data.webhooks) this.#webhooks.set(webhook.webhookId, webhook);
    this.#nextWebhookId = Math.max(data.nextWebhookId, ...data.webhooks.map((w) => w.webhookId + 1));
  }

  /** Cancels retry timers and requests in flight, drops what is pending, and closes connections. */
  async close(): Promise<void> {
    if (this.#closing.signal.aborted) return;
    this.#closing.abort();
    this.#dropAllLanes();
    await this.idle();
    await this.#dispatcher.destroy();
  }

  #entity(webhook: WebhookDefinition & Partial<StoredWebhook>): Record<string, unknown> {
    return webhookEntity(webhook, this.#describeAssociate);
  }

  #parse(body: unknown, base: WebhookDefinition): WebhookDefinition {
    return parseWebhookDefinition(body, base, { requireHttps: this.#requireHttps });
  }

  /** The webhook named in the path, if the caller registered it; others' webhooks are 404 like missing ones. */
  #ownWebhook(request: FastifyRequest<{ Params: { id: string } }>): StoredWebhook {
    const id = Number(request.params.id);
    const webhook = Number.isInteger(id) ? this.#webhooks.get(id) : undefined;
    if (webhook === undefined || webhook.registeredAssociate !== this.#associateOf(request))
      throw notFound(`Webhook ${request.params.id} does not exist (or was registered by another app).`);
    return webhook;
  }

  /** POSTs the test event to the definition's target; a save fails (400) unless the target answers 200. */
  async #testTarget(definition: WebhookDefinition, associateId: number): Promise<void> {
    const payload: WebhookPayload = {
      EventId: randomUUID(),
      Timestamp: formatWebhookTimestamp(this.#clock.now()),
      Changes: [],
      Event: 'test',
      PrimaryKey: 0,
      Entity: 'test',
      ContextIdentifier: this.#contextIdentifier,
      ChangedByAssociateId: associateId,
      WebhookName: definition.name,
    };
    const body = encodePayload(payload);
    const work = postWebhook({
      url: definition.targetUrl,
      body,
      headers: deliveryHeaders({ payload, body, secret: definition.secret, retry: 0 }),
      timeoutMs: this.#timeoutMs,
      signal: this.#closing.signal,
      dispatcher: this.#dispatcher,
    });
    this.#track(work.then(() => undefined));
    const outcome = await work;
    if (outcome === 200) return;
    if (outcome === 'aborted')
      throw new SimHttpError(503, 'ServiceUnavailable', 'The simulator is shutting down.');
    throw badRequest(
      `The webhook target ${redactTargetUrl(definition.targetUrl)} answered the test event with ${describeOutcome(outcome)}; ` +
        'it must answer 200 (to a POST with header X-Hook-Test: true) before the webhook can be saved.',
    );
  }

  #lane(webhookId: number): DeliveryLane<PendingDelivery> {
    let lane = this.#lanes.get(webhookId);
    if (lane === undefined) {
      lane = new DeliveryLane<PendingDelivery>({
        deliver: (item, signal) => this.#deliverCycle(webhookId, item, signal),
        reorder: () => this.#quirks.reorder,
        random: this.#random,
        track: (work) => this.#track(work),
      });
      this.#lanes.set(webhookId, lane);
    }
    return lane;
  }

  #dropLane(webhookId: number): void {
    this.#lanes.get(webhookId)?.clear();
    this.#lanes.delete(webhookId);
  }

  #dropAllLanes(): void {
    for (const webhookId of [...this.#lanes.keys()]) this.#dropLane(webhookId);
  }

  #track(work: Promise<void>): void {
    this.#work.add(work);
    void work.finally(() => this.#work.delete(work));
  }

  /** Waits `ms`; false when `signal` aborted the wait. */
  async #pause(ms: number, signal: AbortSignal): Promise<boolean> {
    try {
      await this.#sleep(ms, signal);
      return !signal.aborted;
    } catch {
      return false;
    }
  }

  /** One retry cycle of `item` on webhook `webhookId`. */
  async #deliverCycle(webhookId: number, item: PendingDelivery, signal: AbortSignal): Promise<LaneOutcome> {
    for (let attempt = 0; attempt <= this.#retryDelaysMs.length; attempt++) {
      if (attempt > 0 && !(await this.#pause(this.#retryDelaysMs[attempt - 1] ?? 0, signal))) return 'done';
      const webhook = this.#webhooks.get(webhookId);
      if (webhook === undefined || webhook.state !== 'Active') return 'done';
      const outcome = await this.#attempt(webhook, item, signal);
      if (outcome === 'aborted') return 'done';
      this.#countResult(webhook, outcome === 200);
      if (outcome === 200 || webhook.state !== 'Active') return 'done';
    }
    if (!this.#requeueFailedEvents) return 'done';
    if (this.#newEventIdPerCycle) {
      item.payload = { ...item.payload, EventId: randomUUID() };
      item.attempts = 0;
    }
    return 'requeue';
  }

  async #attempt(
    webhook: StoredWebhook,
    item: PendingDelivery,
    signal: AbortSignal,
  ): Promise<AttemptOutcome | 'aborted'> {
    const payload = { ...item.payload, WebhookName: webhook.name };
    const body = encodePayload(payload);
    const retry = item.attempts++;
    const at = new Date(this.#clock.now()).toISOString();
    const outcome = await postWebhook({
      url: webhook.targetUrl,
      body,
      headers: deliveryHeaders({ payload, body, secret: webhook.secret, retry }),
      timeoutMs: this.#timeoutMs,
      signal,
      dispatcher: this.#dispatcher,
    });
    if (outcome === 'aborted') return outcome;
    const targetUrl = redactTargetUrl(webhook.targetUrl);
    this.#records.push({
      webhookId: webhook.webhookId,
      eventId: payload.EventId,
      event: payload.Event,
      attempt: retry + 1,
      status: outcome,
      at,
      targetUrl,
    });
    if (this.#records.length > this.#maxDeliveryRecords)
      this.#records.splice(0, this.#records.length - this.#maxDeliveryRecords);
    this.#logger.debug(
      {
        webhookId: webhook.webhookId,
        event: payload.Event,
        eventId: payload.EventId,
        retry,
        status: outcome,
      },
      'webhook delivery attempt',
    );
    return outcome;
  }

  /** Keeps the count of failed attempts in a row; reaching the limit stops the webhook. */
  #countResult(webhook: StoredWebhook, delivered: boolean): void {
    const before = webhook.consecutiveErrors;
    webhook.consecutiveErrors = delivered ? 0 : before + 1;
    if (webhook.consecutiveErrors >= this.#maxConsecutiveErrors) this.#stopForErrors(webhook);
    if (webhook.consecutiveErrors !== before) this.#onChange();
  }

  #stopForErrors(webhook: StoredWebhook): void {
    webhook.state = 'TooManyErrors';
    this.#dropLane(webhook.webhookId);
    this.#logger.warn(
      {
        webhookId: webhook.webhookId,
        consecutiveErrors: webhook.consecutiveErrors,
        targetUrl: redactTargetUrl(webhook.targetUrl),
        errorsEmail: webhook.errorsEmail !== '',
      },
      'webhook switched to TooManyErrors; set State to Active with PUT to resume deliveries',
    );
  }
}

function describeOutcome(outcome: AttemptOutcome): string {
  if (outcome === 'timeout') return 'no answer in time';
  if (outcome === 'error') return 'a connection error';
  return `HTTP ${outcome}`;
}
