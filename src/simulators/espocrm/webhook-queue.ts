/**
 * The vendor's webhook queue (reference §5, SRC `Core/Webhook/Queue.php`). A record change raises events,
 * which are recorded only while an active webhook for that exact event exists. The scheduled job *Process
 * Webhook Queue* (every `webhookIntervalMs`, the vendor's `*\/2 * * * *`, or now through `process()`) does
 * per run:
 *
 * 1. turns up to `webhookEventPortionSize` (20) recorded events, oldest first, into one queue item per
 *    active webhook of the event, leaving out webhooks with `skipOwn` whose user caused the event;
 * 2. for up to `webhookPortionSize` (20) webhooks with due items (ordered by their oldest item), sends one
 *    batch of up to `webhookBatchSize` (50) items ordered by sequence.
 *
 * Results: 2xx/3xx succeed; 410 deletes the webhook and its pending items; 0 (see the quirk
 * `webhookConnectionErrorRetried`), 401, 403, 404, 405, 408 (timeouts), 500 and 503 are retried after
 * `webhookRetryDelayMs` (the vendor's 10 minutes) until `webhookMaxAttempts` (4) attempts failed; anything
 * else fails at once. Items of a missing or inactive webhook, or of a record that no longer exists, are
 * deleted unsent. With the default portion sizes a backlog of 120 events drains 20 per run; raise
 * `webhookEventPortionSize` to see the batches of 50.
 */
import { Agent } from 'undici';
import type { Clock } from '../../ports/clock.ts';
import type { Logger } from '../../ports/logger.ts';
import { redactTargetUrl } from '../kit/index.ts';
import { isEntityType } from './entity-defs.ts';
import type { EspoCrmQuirks } from './quirks.ts';
import type { RecordChange } from './records.ts';
import type { DeliveryRecord, SimState, WebhookQueueItem } from './state.ts';
import type { UserDirectory } from './users.ts';
import { formatDateTime } from './values.ts';
import { eventsOfChange } from './webhook-events.ts';
import { encodeBatch, sendBatch } from './webhook-sender.ts';
import type { SendResult } from './webhook-sender.ts';

/** Status codes the vendor retries (0 is a connection error in 9.3.x). */
const RETRIED_CODES = new Set([0, 401, 403, 404, 405, 408, 500, 503]);

/** The delivery log keeps this many attempts (oldest dropped first). */
const MAX_DELIVERY_LOG = 2000;

/** Dependencies of {@link WebhookQueue}. */
export interface WebhookQueueOptions {
  readonly state: SimState;
  readonly users: UserDirectory;
  readonly clock: Clock;
  readonly quirks: () => EspoCrmQuirks;
  /** The vendor's `webhookFailAttemptPeriod` (10 minutes). */
  readonly retryDelayMs: number;
  /** Called after every change of the queue (persistence). */
  readonly onChange: () => void;
  readonly logger?: Logger | undefined;
}

/** Records webhook events and delivers them in scheduled runs. */
export class WebhookQueue {
  readonly #options: WebhookQueueOptions;
  #chain: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #controller = new AbortController();

  constructor(options: WebhookQueueOptions) {
    this.#options = options;
  }

  /** Records the events of a record change for which an active webhook exists. */
  record(change: RecordChange): void {
    const { state } = this.#options;
    for (const { event, data } of eventsOfChange(change)) {
      if (!state.webhooks.some((webhook) => webhook.isActive && webhook.event === event)) continue;
      state.eventItems.push({
        number: state.nextNumber(),
        event,
        targetType: change.entityType,
        targetId: change.id,
        data,
        userId: change.actor.id,
        isProcessed: false,
      });
    }
  }

  /** Runs the scheduled job every `intervalMs` until {@link close}; 0 runs it only when asked. */
  start(intervalMs: number): void {
    if (intervalMs <= 0) return;
    this.#timer = setInterval(() => void this.process(), intervalMs);
    this.#timer.unref();
  }

  /** One run of the job, after any run in progress. */
  process(): Promise<void> {
    const run = this.#chain.then(() => this.#run());
    this.#chain = run.catch((error: unknown) => {
      this.#options.logger?.error({ err: error }, 'espocrm simulator: webhook queue run failed');
    });
    return run;
  }

  /** Deletes webhook `id` and its pending items (a 410 answer, or `DELETE /Webhook/{id}`). */
  dropWebhook(id: string): void {
    const { state } = this.#options;
    state.queueItems = state.queueItems.filter(
      (item) => !(item.webhookId === id && item.status === 'Pending'),
    );
    state.webhooks = state.webhooks.filter((webhook) => webhook.id !== id);
  }

  /** Stops the schedule, aborts a delivery in flight and waits for the run to end. */
  async close(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#controller.abort();
    await this.#chain;
    this.#controller = new AbortController();
  }

  async #run(): Promise<void> {
    const quirks = this.#options.quirks();
    this.#convertEvents(quirks.webhookEventPortionSize);
    const now = this.#options.clock.now();
    const due = (item: WebhookQueueItem) =>
      item.status === 'Pending' && (item.processAt === null || item.processAt <= now);
    const oldest = new Map<string, number>();
    for (const item of this.#options.state.queueItems)
      if (due(item) && !oldest.has(item.webhookId)) oldest.set(item.webhookId, item.number);
    const webhookIds = [...oldest]
      .sort(([, a], [, b]) => a - b)
      .slice(0, quirks.webhookPortionSize)
      .map(([id]) => id);
    const agent = new Agent({ connect: { timeout: quirks.webhookConnectTimeoutMs } });
    try {
      for (const webhookId of webhookIds) {
        if (this.#controller.signal.aborted) break;
        const items = this.#options.state.queueItems
          .filter((item) => item.webhookId === webhookId && due(item))
          .slice(0, quirks.webhookBatchSize);
        await this.#sendGroup(webhookId, items, quirks, agent);
      }
    } finally {
      await agent.close();
      this.#options.onChange();
    }
  }

  /** Step 1: recorded events into per-webhook queue items. */
  #convertEvents(portionSize: number): void {
    const { state } = this.#options;
    const portion = state.eventItems.filter((item) => !item.isProcessed).slice(0, portionSize);
    for (const eventItem of portion) {
      const webhooks = state.webhooks
        .filter((webhook) => webhook.isActive && webhook.event === eventItem.event)
        .filter((webhook) => !(webhook.skipOwn && webhook.userId === eventItem.userId))
        .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
      for (const webhook of webhooks)
        state.queueItems.push({
          number: state.nextNumber(),
          webhookId: webhook.id,
          event: eventItem.event,
          targetType: eventItem.targetType,
          targetId: eventItem.targetId,
          data: eventItem.data,
          status: 'Pending',
          attempts: 0,
          processAt: null,
        });
      eventItem.isProcessed = true;
    }
    // Processed event items are of no further use; the vendor keeps them until a cleanup job runs.
    state.eventItems = state.eventItems.filter((item) => !item.isProcessed);
  }

  #deleteItems(items: readonly WebhookQueueItem[]): void {
    const gone = new Set(items);
    this.#options.state.queueItems = this.#options.state.queueItems.filter((item) => !gone.has(item));
  }

  #targetExists(item: WebhookQueueItem): boolean {
    // Deleted records still count as present (the vendor reads them withDeleted()).
    return isEntityType(item.targetType) && this.#options.state.table(item.targetType).has(item.targetId);
  }

  /** Step 2 for one webhook: checks, one request, and the result applied to the items. */
  async #sendGroup(
    webhookId: string,
    items: WebhookQueueItem[],
    quirks: EspoCrmQuirks,
    agent: Agent,
  ): Promise<void> {
    const webhook = this.#options.state.webhooks.find((candidate) => candidate.id === webhookId);
    const ownerMissing = webhook?.userId != null && this.#options.users.byId(webhook.userId) === undefined;
    if (webhook === undefined || !webhook.isActive || ownerMissing) return this.#deleteItems(items);
    const sendable = items.filter((item) => this.#targetExists(item));
    this.#deleteItems(items.filter((item) => !sendable.includes(item)));
    if (sendable.length === 0) return;
    const payloads = sendable.map((item) => item.data);
    const result = await sendBatch({
      url: webhook.url,
      webhookId: webhook.id,
      secretKey: webhook.secretKey,
      body: encodeBatch(payloads),
      timeoutMs: quirks.webhookTimeoutMs,
      dispatcher: agent,
      signal: this.#controller.signal,
    });
    if (this.#controller.signal.aborted) return;
    const outcome = this.#applyResult(webhook.id, sendable, result, quirks);
    this.#log({
      webhookId: webhook.id,
      url: redactTargetUrl(webhook.url),
      items: payloads,
      status: result,
      outcome,
      at: formatDateTime(this.#options.clock.now()),
    });
  }

  #applyResult(
    webhookId: string,
    items: readonly WebhookQueueItem[],
    result: SendResult,
    quirks: EspoCrmQuirks,
  ): DeliveryRecord['outcome'] {
    const code =
      result === 'timeout'
        ? 408
        : result === 'error'
          ? quirks.webhookConnectionErrorRetried
            ? 0
            : -1
          : result;
    if (code >= 200 && code < 400) {
      // Delivered items are done; the vendor keeps them as Success rows, the simulator's log keeps the attempt.
      this.#deleteItems(items);
      return 'success';
    }
    if (code === 410) {
      this.dropWebhook(webhookId);
      return 'dropped';
    }
    const retry = RETRIED_CODES.has(code);
    const processAt = this.#options.clock.now() + this.#options.retryDelayMs;
    let failed = false;
    for (const item of items) {
      item.attempts += 1;
      item.processAt = processAt;
      if (!retry || item.attempts >= quirks.webhookMaxAttempts) {
        item.status = 'Failed';
        item.processAt = null;
        failed = true;
      }
    }
    return failed ? 'failed' : 'retry';
  }

  #log(record: DeliveryRecord): void {
    const log = this.#options.state.deliveries;
    log.push(record);
    if (log.length > MAX_DELIVERY_LOG) log.splice(0, log.length - MAX_DELIVERY_LOG);
  }
}
