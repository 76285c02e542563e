/**
 * Switchable behaviour of the EspoCRM simulator (`GET/POST /_sim/quirks`, option `quirks`): per entity type
 * metadata an admin can change in the real product (optimistic concurrency, duplicate check, audited fields,
 * disabled counts), the vendor's config parameters (list limit, webhook queue sizes and timeouts), and the
 * places where the vendor's behaviour is [UNCONFIRMED] and the simulator offers both readings.
 */
import { z } from 'zod';
import { ENTITY_TYPES, entityDef } from './entity-defs.ts';
import type { EntityType } from './entity-defs.ts';

const perEntity = <T extends z.ZodType>(value: T) => z.partialRecord(z.enum(ENTITY_TYPES), value).optional();

/** What `POST /_sim/quirks` accepts: any subset; per-entity maps are merged key by key. */
export const quirksInputSchema = z.strictObject({
  /** `entityDefs.{T}.optimisticConcurrencyControl` (defaults: Account on, Contact and CBeteiligte off). */
  optimisticConcurrency: perEntity(z.boolean()),
  /** Whether the duplicate check runs on create (defaults: Account and Contact on, CBeteiligte off). */
  duplicateCheck: perEntity(z.boolean()),
  /** `recordDefs.{T}.updateDuplicateCheck` (default off everywhere). */
  updateDuplicateCheck: perEntity(z.boolean()),
  /** `collection.countDisabled`: lists answer `total` -1/-2 as with `X-No-Total` (default off). */
  countDisabled: perEntity(z.boolean()),
  /** Fields whose changes leave Update notes in the stream. */
  auditedFields: perEntity(z.array(z.string())),
  /** The API user's role grants Audit (needed for `updateStream`; default yes). */
  apiUserAuditPermission: z.boolean().optional(),
  /**
   * Which header logins the API user accepts. The vendor binds one method per API user (`ApiKey` or `Hmac`);
   * the default `any` accepts both, so one simulated user serves clients of either kind.
   */
  apiUserAuthMethod: z.enum(['any', 'ApiKey', 'Hmac']).optional(),
  /** [UNCONFIRMED] reference §6: the API user may `POST /Notification` (default no: 403 as the ACL reads). */
  apiUserCanCreateNotification: z.boolean().optional(),
  /**
   * [UNCONFIRMED] Whether list rows carry `emailAddressData`/`phoneNumberData` without asking for them in
   * `select` (default no: the vendor loads them for single reads only, so a sync must read one by one).
   */
  listIncludesCommunicationData: z.boolean().optional(),
  /** `recordListMaxSizeLimit` (default 200). */
  maxSizeLimit: z.number().int().positive().optional(),
  /** `webhookQueueEventPortionSize`: events turned into queue items per run (default 20). */
  webhookEventPortionSize: z.number().int().positive().optional(),
  /** `webhookQueuePortionSize`: webhooks served per run (default 20). */
  webhookPortionSize: z.number().int().positive().optional(),
  /** `webhookBatchSize`: items per request (default 50). */
  webhookBatchSize: z.number().int().positive().optional(),
  /** `webhookMaxAttemptNumber` (default 4). */
  webhookMaxAttempts: z.number().int().positive().optional(),
  /** `webhookConnectTimeout` in ms (default 5000). */
  webhookConnectTimeoutMs: z.number().int().positive().optional(),
  /** `webhookTimeout` in ms (default 10000). */
  webhookTimeoutMs: z.number().int().positive().optional(),
  /** A connection error other than a timeout is retried (9.3.x: code 0) instead of failing at once (10.0). */
  webhookConnectionErrorRetried: z.boolean().optional(),
  /**
   * Reject webhook URLs on internal or loopback hosts, as the vendor does since 9.3.2 unless
   * `webhookAllowedAddressList` names them. Default off, since the simulator's receivers are local.
   */
  webhookRejectInternalUrls: z.boolean().optional(),
});

/** Input of `POST /_sim/quirks`. */
export type QuirksInput = z.input<typeof quirksInputSchema>;

/** The full quirk settings. */
export interface EspoCrmQuirks {
  optimisticConcurrency: Record<EntityType, boolean>;
  duplicateCheck: Record<EntityType, boolean>;
  updateDuplicateCheck: Record<EntityType, boolean>;
  countDisabled: Record<EntityType, boolean>;
  auditedFields: Record<EntityType, string[]>;
  apiUserAuditPermission: boolean;
  apiUserAuthMethod: 'any' | 'ApiKey' | 'Hmac';
  apiUserCanCreateNotification: boolean;
  listIncludesCommunicationData: boolean;
  maxSizeLimit: number;
  webhookEventPortionSize: number;
  webhookPortionSize: number;
  webhookBatchSize: number;
  webhookMaxAttempts: number;
  webhookConnectTimeoutMs: number;
  webhookTimeoutMs: number;
  webhookConnectionErrorRetried: boolean;
  webhookRejectInternalUrls: boolean;
}

function byEntity<T>(value: (type: EntityType) => T): Record<EntityType, T> {
  return Object.fromEntries(ENTITY_TYPES.map((type) => [type, value(type)])) as Record<EntityType, T>;
}

/** The vendor's defaults (reference §2, §3, §5). */
export function defaultQuirks(): EspoCrmQuirks {
  return {
    optimisticConcurrency: byEntity((type) => entityDef(type).optimisticConcurrency),
    duplicateCheck: byEntity((type) => entityDef(type).duplicateCheckFields.length > 0),
    updateDuplicateCheck: byEntity(() => false),
    countDisabled: byEntity(() => false),
    auditedFields: byEntity((type) => [...entityDef(type).auditedFields]),
    apiUserAuditPermission: true,
    apiUserAuthMethod: 'any',
    apiUserCanCreateNotification: false,
    listIncludesCommunicationData: false,
    maxSizeLimit: 200,
    webhookEventPortionSize: 20,
    webhookPortionSize: 20,
    webhookBatchSize: 50,
    webhookMaxAttempts: 4,
    webhookConnectTimeoutMs: 5000,
    webhookTimeoutMs: 10_000,
    webhookConnectionErrorRetried: false,
    webhookRejectInternalUrls: false,
  };
}

/** Applies `input` to `quirks` in place (per-entity maps key by key). */
export function applyQuirks(quirks: EspoCrmQuirks, input: z.output<typeof quirksInputSchema>): void {
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined) continue;
    const current = (quirks as unknown as Record<string, unknown>)[key];
    if (typeof value === 'object' && !Array.isArray(value) && typeof current === 'object' && current !== null)
      Object.assign(current, value);
    else (quirks as unknown as Record<string, unknown>)[key] = value;
  }
}
