/**
 * The in-memory state of the EspoCRM simulator: records per entity type (soft-deleted ones kept, as the
 * vendor keeps them), webhooks with their two queues (event items and per-webhook queue items, as the
 * vendor's tables `webhook_event_queue_item` and `webhook_queue_item`), stream notes, notifications, auth
 * tokens, the delivery log and the sequence counters. It serialises to JSON for the persist file.
 */
import type { JsonObject } from '../../core/types.ts';
import { ENTITY_TYPES } from './entity-defs.ts';
import type { EntityType } from './entity-defs.ts';

/** A record's stored attributes (link names are resolved when rendered, not stored). */
export type StoredRecord = JsonObject;

/** A webhook registration (reference §5). */
export interface StoredWebhook {
  id: string;
  event: string;
  url: string;
  isActive: boolean;
  /** The owner, an API user; null for webhooks an admin made without one. */
  userId: string | null;
  entityType: string;
  type: string;
  field: string | null;
  secretKey: string;
  skipOwn: boolean;
  description: string | null;
  createdAt: string;
  modifiedAt: string;
  createdById: string;
  modifiedById: string;
}

/** An event waiting to be turned into queue items (`WebhookEventQueueItem`). */
export interface WebhookEventItem {
  number: number;
  event: string;
  targetType: string;
  targetId: string;
  /** The payload, snapshotted when the event happened. */
  data: JsonObject;
  /** Who caused the event (for `skipOwn`). */
  userId: string;
  isProcessed: boolean;
}

/** One payload for one webhook (`WebhookQueueItem`). */
export interface WebhookQueueItem {
  number: number;
  webhookId: string;
  event: string;
  targetType: string;
  targetId: string;
  data: JsonObject;
  status: 'Pending' | 'Success' | 'Failed';
  attempts: number;
  /** Epoch ms before which a retried item waits; null when due at once. */
  processAt: number | null;
}

/** A stream note (reference §7). */
export interface StoredNote {
  id: string;
  number: number;
  type: 'Create' | 'Update';
  parentType: EntityType;
  parentId: string;
  data: JsonObject;
  createdAt: string;
  createdById: string;
}

/** An in-app notification (reference §6). */
export interface StoredNotification {
  id: string;
  number: number;
  type: string;
  message: string | null;
  data: JsonObject | null;
  userId: string;
  read: boolean;
  createdAt: string;
  createdById: string;
}

/** One delivery attempt of a batch (`GET /_sim/webhooks/deliveries`). */
export interface DeliveryRecord {
  webhookId: string;
  /** The target without query string (it may carry a token). */
  url: string;
  /** The payloads sent, in order. */
  items: JsonObject[];
  /** The receiver's HTTP status, or why there was none. */
  status: number | 'timeout' | 'error';
  /** What the vendor made of it: delivered, to be retried, failed for good, or the webhook dropped (410). */
  outcome: 'success' | 'retry' | 'failed' | 'dropped';
  /** Vendor datetime of the attempt. */
  at: string;
}

/** Everything the persist file holds besides quirks. */
export interface StateData {
  records: Record<string, StoredRecord[]>;
  webhooks: StoredWebhook[];
  eventItems: WebhookEventItem[];
  queueItems: WebhookQueueItem[];
  notes: StoredNote[];
  notifications: StoredNotification[];
  tokens: Record<string, string>;
  deliveries: DeliveryRecord[];
  sequence: number;
}

/** The simulator's mutable state. */
export class SimState {
  readonly records = new Map<EntityType, Map<string, StoredRecord>>();
  webhooks: StoredWebhook[] = [];
  eventItems: WebhookEventItem[] = [];
  queueItems: WebhookQueueItem[] = [];
  notes: StoredNote[] = [];
  notifications: StoredNotification[] = [];
  /** Auth token -> user id (tokens handed out by `GET /App/user`). */
  readonly tokens = new Map<string, string>();
  deliveries: DeliveryRecord[] = [];
  /** Last number handed out (the vendor's autoincrement `number` columns share nothing; one counter is enough). */
  #sequence = 0;

  constructor() {
    this.clear();
  }

  /** The next sequence number (queue items, notes and notifications are ordered by it). */
  nextNumber(): number {
    this.#sequence += 1;
    return this.#sequence;
  }

  /** The records of `entityType`, soft-deleted ones included, in creation order. */
  table(entityType: EntityType): Map<string, StoredRecord> {
    const table = this.records.get(entityType);
    if (table === undefined) throw new Error(`No table for ${entityType}.`);
    return table;
  }

  /** Empties everything. */
  clear(): void {
    for (const type of ENTITY_TYPES) this.records.set(type, new Map());
    this.webhooks = [];
    this.eventItems = [];
    this.queueItems = [];
    this.notes = [];
    this.notifications = [];
    this.tokens.clear();
    this.deliveries = [];
    this.#sequence = 0;
  }

  toJSON(): StateData {
    const records: Record<string, StoredRecord[]> = {};
    for (const [type, table] of this.records) records[type] = [...table.values()];
    return {
      records,
      webhooks: this.webhooks,
      eventItems: this.eventItems,
      queueItems: this.queueItems,
      notes: this.notes,
      notifications: this.notifications,
      tokens: Object.fromEntries(this.tokens),
      deliveries: this.deliveries,
      sequence: this.#sequence,
    };
  }

  /** Replaces the state with `data` (from the persist file). */
  load(data: StateData): void {
    this.clear();
    for (const type of ENTITY_TYPES) {
      const table = this.table(type);
      for (const record of data.records[type] ?? [])
        table.set(typeof record.id === 'string' ? record.id : '', record);
    }
    this.webhooks = data.webhooks;
    this.eventItems = data.eventItems;
    this.queueItems = data.queueItems;
    this.notes = data.notes;
    this.notifications = data.notifications;
    for (const [token, userId] of Object.entries(data.tokens)) this.tokens.set(token, userId);
    this.deliveries = data.deliveries;
    this.#sequence = data.sequence;
  }
}
