/**
 * The admin API under `/_sim/` (JSON, no auth, never counted or faulted): reset and seed data, act as a
 * human user of the firm (changes made in the advoware UI: they get new rowIds like any write, and a human
 * may delete what the API may not), faults, quirks, token revocation, change webhooks, request counts and
 * a state dump.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { registerFaultRoutes, registerRequestCountRoutes } from '../kit/index.ts';
import type { FaultInjector, RequestStats } from '../kit/index.ts';
import type { TokenStore } from './auth.ts';
import {
  bodyObject,
  parseBeteiligterFields,
  parseKommunikationUpdate,
  parseNewKommunikation,
} from './body.ts';
import { badRequest, notFound } from './errors.ts';
import type { SimState } from './model.ts';
import type { Mutations } from './mutations.ts';
import { quirksPatchSchema } from './quirks.ts';
import type { AdvowareQuirks } from './quirks.ts';
import type { BeteiligteSchema } from './schema.ts';
import { DEFAULT_DEMO_COUNT, DEMO_SEED, addDemoBeteiligte } from './seed.ts';
import type { ChangeWebhooks } from './webhooks.ts';
import { webhookRegistrationSchema } from './webhooks.ts';

/** What the admin routes need. */
export interface AdminRoutesOptions {
  readonly state: SimState;
  readonly schema: BeteiligteSchema;
  readonly mutations: Mutations;
  readonly tokens: TokenStore;
  readonly faults: FaultInjector;
  readonly stats: RequestStats;
  readonly webhooks: ChangeWebhooks;
  /** The live quirks object (changed in place). */
  readonly quirks: AdvowareQuirks;
  /** Names `/_sim/act/:user/...` accepts (compared case-insensitively). */
  readonly humanUsers: readonly string[];
  /** Back to a fresh simulator; `seed` as the option of the same name. */
  readonly reset: (seed: boolean | number) => void;
}

const resetSchema = z.strictObject({ seed: z.union([z.boolean(), z.number().int().min(0)]).optional() });

const seedSchema = z.strictObject({
  /** Demo Beteiligte to add; default 300, or 0 when `beteiligte` is given. */
  count: z.number().int().min(0).max(100_000).optional(),
  /** Seed of the demo data; default derived from the records already there, so repeated calls differ. */
  randomSeed: z.number().int().optional(),
  /** Explicit records: text fields plus optional `kommunikation: [{tlf, kommKz, bemerkung?, online?}]`. */
  beteiligte: z.array(z.unknown()).optional(),
});

function parsed<T>(schema: z.ZodType<T>, body: unknown, where: string): T {
  const result = schema.safeParse(body ?? {});
  if (!result.success) throw badRequest(`${where}: ${z.prettifyError(result.error)}`);
  return result.data;
}

function numericParam(value: string, what: string): number {
  if (!/^\d{1,15}$/.test(value)) throw badRequest(`${what} must be a number, got "${value}".`);
  return Number(value);
}

/** Reads a Beteiligter to create: text fields and optional Kommunikationen. */
function parseNewBeteiligter(input: unknown, schema: BeteiligteSchema, where: string) {
  const fields = parseBeteiligterFields(input, schema, where, { requireName: true });
  const items = bodyObject(input, where).kommunikation;
  if (items !== undefined && !Array.isArray(items))
    throw badRequest(`${where}: kommunikation must be an array.`);
  const kommunikation = (items ?? []).map((item, index) =>
    parseNewKommunikation(item, `${where} kommunikation[${index}]`),
  );
  return { fields, kommunikation };
}

function registerActRoutes(app: FastifyInstance, options: AdminRoutesOptions): void {
  const { mutations, schema } = options;
  const checkUser = (user: string) => {
    const known = options.humanUsers.some((name) => name.toLowerCase() === user.toLowerCase());
    if (!known)
      throw notFound(`No user "${user}" in the simulated firm; use one of ${options.humanUsers.join(', ')}.`);
  };
  const checkEntity = (entity: string) => {
    if (entity.toLowerCase() !== 'beteiligte')
      throw notFound(`Entity "${entity}" is not simulated; use Beteiligte.`);
  };
  type Act = { Params: { user: string; entity: string; betnr: string; id: string } };
  const base = '/_sim/act/:user/:entity';
  const target = (params: Act['Params']) => {
    checkUser(params.user);
    checkEntity(params.entity);
    return numericParam(params.betnr, 'betnr');
  };

  app.post<Act>(base, (request, reply) => {
    checkUser(request.params.user);
    checkEntity(request.params.entity);
    const input = parseNewBeteiligter(request.body, schema, 'POST /_sim/act');
    const record = mutations.create(input.fields, input.kommunikation);
    return reply.code(201).send({ ok: true, id: record.betNr, betNr: record.betNr, rowId: record.rowId });
  });
  app.post<Act>(`${base}/:betnr`, (request) => {
    const betNr = target(request.params);
    // A human edits some fields in the UI: the others keep their values.
    const fields = parseBeteiligterFields(request.body, schema, 'POST /_sim/act', { requireName: false });
    const record = mutations.update(betNr, fields, 'merge');
    return { ok: true, id: betNr, betNr, rowId: record.rowId };
  });
  app.delete<Act>(`${base}/:betnr`, (request) => {
    mutations.delete(target(request.params));
    return { ok: true };
  });
  app.post<Act>(`${base}/:betnr/Kommunikationen`, (request, reply) => {
    const betNr = target(request.params);
    const item = mutations.addKommunikation(betNr, parseNewKommunikation(request.body, 'POST /_sim/act'));
    const rowId = mutations.requireBeteiligter(betNr).rowId;
    return reply.code(201).send({ ok: true, id: item.id, betNr, rowId, kommunikationRowId: item.rowId });
  });
  app.post<Act>(`${base}/:betnr/Kommunikationen/:id`, (request) => {
    const betNr = target(request.params);
    const id = numericParam(request.params.id, 'id');
    const changes = parseKommunikationUpdate(request.body, 'POST /_sim/act', {
      fullReplace: false,
      kommKzIgnored: true,
    });
    const item = mutations.updateKommunikation(betNr, id, changes);
    const rowId = mutations.requireBeteiligter(betNr).rowId;
    return { ok: true, id, betNr, rowId, kommunikationRowId: item.rowId };
  });
  app.delete<Act>(`${base}/:betnr/Kommunikationen/:id`, (request) => {
    const betNr = target(request.params);
    mutations.deleteKommunikation(betNr, numericParam(request.params.id, 'id'));
    return { ok: true, betNr, rowId: mutations.requireBeteiligter(betNr).rowId };
  });
}

function registerDataRoutes(app: FastifyInstance, options: AdminRoutesOptions): void {
  const { state } = options;
  app.post('/_sim/reset', (request) => {
    const body = parsed(resetSchema, request.body, 'POST /_sim/reset');
    options.reset(body.seed ?? true);
    return { ok: true, ...state.counts() };
  });

  app.post('/_sim/seed', (request) => {
    const body = parsed(seedSchema, request.body, 'POST /_sim/seed');
    const created: number[] = [];
    // Explicit records are background data too: written without events, like the demo records.
    for (const [index, input] of (body.beteiligte ?? []).entries()) {
      const { fields, kommunikation } = parseNewBeteiligter(
        input,
        options.schema,
        `POST /_sim/seed beteiligte[${index}]`,
      );
      created.push(options.mutations.create(fields, kommunikation, { silent: true }).betNr);
    }
    const count = body.count ?? (body.beteiligte === undefined ? DEFAULT_DEMO_COUNT : 0);
    const randomSeed = body.randomSeed ?? DEMO_SEED + state.beteiligte.size;
    created.push(...addDemoBeteiligte(state, options.schema, count, randomSeed));
    return { ok: true, created, ...state.counts() };
  });

  app.get('/_sim/state', () => ({
    quirks: options.quirks,
    faults: options.faults.settings,
    webhooks: options.webhooks.list(),
    counts: state.counts(),
    data: state.toJSON(),
  }));
}

function registerControlRoutes(app: FastifyInstance, options: AdminRoutesOptions): void {
  registerFaultRoutes(app, options.faults, badRequest);

  app.get('/_sim/quirks', () => options.quirks);
  app.post('/_sim/quirks', (request) => {
    Object.assign(options.quirks, parsed(quirksPatchSchema, request.body, 'POST /_sim/quirks'));
    return { ok: true, quirks: options.quirks };
  });

  registerRequestCountRoutes(app, options.stats);

  app.post('/_sim/tokens/revoke', () => {
    const revoked = options.tokens.revoke();
    return { ok: true, revoked };
  });

  app.get('/_sim/webhooks', () => options.webhooks.list());
  app.post('/_sim/webhooks', (request, reply) => {
    const registration = options.webhooks.register(
      parsed(webhookRegistrationSchema, request.body, 'POST /_sim/webhooks'),
    );
    return reply
      .code(201)
      .send({ ok: true, id: registration.id, url: registration.url, events: registration.events });
  });
  app.delete<{ Params: { id: string } }>('/_sim/webhooks/:id', (request) => {
    if (!options.webhooks.unregister(request.params.id))
      throw notFound(`No change webhook with id ${request.params.id}.`);
    return { ok: true };
  });
  app.get('/_sim/webhooks/deliveries', () => options.webhooks.deliveries());
}

/** Registers `/_sim/...`. */
export function registerAdminRoutes(app: FastifyInstance, options: AdminRoutesOptions): void {
  registerDataRoutes(app, options);
  registerActRoutes(app, options);
  registerControlRoutes(app, options);
}
