/**
 * The admin API under `/_sim/` (JSON, no auth): reset and seed data, act as a named user (changes made
 * "in the UI", so their webhook events and `modifiedById` name that user, which is what `skipOwn` and echo
 * detection need), faults, quirks, request counts, and the webhook job (run now, delivery log, queue state).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { JsonObject } from '../../core/types.ts';
import { registerFaultRoutes, registerRequestCountRoutes } from '../kit/index.ts';
import type { FaultInjector, RequestStats } from '../kit/index.ts';
import { ENTITY_TYPES, isEntityType } from './entity-defs.ts';
import type { EntityType } from './entity-defs.ts';
import { badRequest, notFound } from './errors.ts';
import { applyQuirks, quirksInputSchema } from './quirks.ts';
import type { EspoCrmQuirks } from './quirks.ts';
import type { RecordService } from './records.ts';
import type { SimState } from './state.ts';
import type { UserDirectory } from './users.ts';
import { isJsonObject } from './values.ts';

/** What the admin routes need. */
export interface AdminRoutesOptions {
  readonly state: SimState;
  readonly users: UserDirectory;
  readonly records: RecordService;
  readonly faults: FaultInjector;
  readonly stats: RequestStats;
  readonly quirks: EspoCrmQuirks;
  /** Empties everything (faults, counts and quirks too) and, when `seed`, adds the demo data. */
  readonly reset: (seed: boolean) => void;
  /** Adds the demo data; returns the new ids per entity type. */
  readonly seedDemo: () => Record<string, string[]>;
  /** One run of the webhook job. */
  readonly processWebhookQueue: () => Promise<void>;
}

const seedBodySchema = z.strictObject({
  demo: z.boolean().optional(),
  /** Records per entity type, created silently by the admin without duplicate check. */
  records: z.partialRecord(z.enum(ENTITY_TYPES), z.array(z.record(z.string(), z.json()))).optional(),
});

function counts(state: SimState): Record<string, number> {
  return Object.fromEntries(
    ENTITY_TYPES.map((type) => [
      type,
      [...state.table(type).values()].filter((record) => !record.deleted).length,
    ]),
  );
}

/** Registers `/_sim/...`. */
export function registerAdminRoutes(app: FastifyInstance, options: AdminRoutesOptions): void {
  const { state, users, records } = options;

  app.post('/_sim/reset', (request) => {
    const body = isJsonObject(request.body) ? request.body : {};
    options.reset(body.seed !== false);
    return { ok: true, records: counts(state) };
  });

  app.post('/_sim/seed', (request) => {
    const parsed = seedBodySchema.safeParse(request.body ?? {});
    if (!parsed.success) throw badRequest(`POST /_sim/seed: ${z.prettifyError(parsed.error)}`);
    const { demo, records: bodies } = parsed.data;
    const created: Record<string, string[]> = {};
    if (demo ?? bodies === undefined) Object.assign(created, options.seedDemo());
    const admin = users.byUserName('admin');
    if (admin === undefined) throw new Error('The simulator has no admin user.');
    for (const [type, list] of Object.entries(bodies ?? {}) as [EntityType, JsonObject[]][])
      created[type] = [
        ...(created[type] ?? []),
        ...list.map(
          (body) => records.create(type, body, admin, { silent: true, skipDuplicateCheck: true }).id,
        ),
      ];
    return { ok: true, created, records: counts(state) };
  });

  type ActRoute = { Params: { userName: string; entityType: string; id?: string } };
  const actor = (params: ActRoute['Params']) => {
    const user = users.byUserName(params.userName);
    if (user === undefined) throw notFound(`No user "${params.userName}" (e.g. admin, anna, ben).`);
    if (!isEntityType(params.entityType))
      throw notFound(`Entity type "${params.entityType}" is not simulated; use ${ENTITY_TYPES.join(', ')}.`);
    return { user, entityType: params.entityType };
  };
  // A human in the UI gets a duplicate warning and saves anyway; the simulated one skips the check.
  app.post<ActRoute>('/_sim/act/:userName/:entityType', (request) => {
    const { user, entityType } = actor(request.params);
    const record = records.create(entityType, request.body ?? {}, user, { skipDuplicateCheck: true });
    return { ok: true, id: record.id, record };
  });
  app.post<ActRoute>('/_sim/act/:userName/:entityType/:id', (request) => {
    const { user, entityType } = actor(request.params);
    const record = records.update(entityType, request.params.id ?? '', request.body ?? {}, user, {
      skipDuplicateCheck: true,
    });
    return { ok: true, id: record.id, record };
  });
  app.delete<ActRoute>('/_sim/act/:userName/:entityType/:id', (request) => {
    const { user, entityType } = actor(request.params);
    records.delete(entityType, request.params.id ?? '', user);
    return { ok: true };
  });

  registerFaultRoutes(app, options.faults, badRequest);

  app.get('/_sim/quirks', () => options.quirks);
  app.post('/_sim/quirks', (request) => {
    const parsed = quirksInputSchema.safeParse(request.body ?? {});
    if (!parsed.success) throw badRequest(`POST /_sim/quirks: ${z.prettifyError(parsed.error)}`);
    applyQuirks(options.quirks, parsed.data);
    return { ok: true, quirks: options.quirks };
  });

  registerRequestCountRoutes(app, options.stats);

  app.post('/_sim/webhooks/run', async () => {
    const before = state.deliveries.length;
    await options.processWebhookQueue();
    return { ok: true, deliveries: state.deliveries.slice(before) };
  });
  app.get('/_sim/webhooks/deliveries', () => state.deliveries);
  app.get('/_sim/webhooks', () => ({
    webhooks: state.webhooks.map(({ secretKey: _secret, ...webhook }) => webhook),
    pendingEvents: state.eventItems.length,
    queue: state.queueItems.map(({ data: _data, ...item }) => item),
  }));
  app.get('/_sim/users', () =>
    users.all().map(({ id, userName, name, type }) => ({ id, userName, name, type })),
  );
}
