/**
 * The admin API under `/_sim/` (no auth, JSON): reset and seed data, act as a named human user, faults,
 * token revocation, moving the tenant to another cluster host, quirks, request counts and a state dump.
 */
import type { FastifyInstance } from 'fastify';
import { registerFaultRoutes, registerRequestCountRoutes } from '../kit/index.ts';
import type { FaultInjector, RequestStats } from '../kit/index.ts';
import type { TokenStore } from './auth.ts';
import { entityKindOf } from './entities.ts';
import type { SideTableQuirks } from './entity-columns.ts';
import { badRequest, notFound } from './errors.ts';
import type { SimState, EntityKind } from './model.ts';
import type { Mutations } from './mutations.ts';
import { addDemoRecords } from './seed.ts';
import { udefInfo } from './udf.ts';
import type { WebhookHub, WebhookQuirks } from './webhooks.ts';

/** Quirks of the simulator core (the hub's own quirks are forwarded to it). */
export interface CoreQuirks extends SideTableQuirks {
  /** Largest archive page (reference §4: [UNCONFIRMED]). */
  archivePageSize: number;
}

/** What the admin routes need. */
export interface AdminRoutesOptions {
  readonly state: SimState;
  readonly mutations: Mutations;
  readonly tokens: TokenStore;
  readonly faults: FaultInjector;
  readonly stats: RequestStats;
  readonly hub: Pick<WebhookHub, 'setQuirks' | 'deliveries' | 'reset'>;
  readonly quirks: CoreQuirks;
  /** The API user, default owner of records added through `/_sim/seed`. */
  readonly apiAssociateId: number;
  /** Empties the tenant and, when `seed`, fills it with the demo data again. */
  readonly reset: (seed: boolean) => void;
  /** Moves the tenant to `host` (or the other one) and returns the new endpoint. */
  readonly moveTenant: (host?: string) => string;
  readonly tenantUrl: () => string;
}

function kindOf(entity: string): EntityKind {
  const kind = entityKindOf(entity);
  if (kind === undefined) throw notFound(`Entity "${entity}" is not simulated; use Contact, Person or Sale.`);
  return kind;
}

/** Registers `/_sim/...`. */
export function registerAdminRoutes(app: FastifyInstance, options: AdminRoutesOptions): void {
  const { state, mutations } = options;

  app.post('/_sim/reset', (request) => {
    const body = (request.body ?? {}) as { seed?: boolean };
    options.reset(body.seed ?? true);
    return { ok: true, contacts: state.contacts.size, persons: state.persons.size, sales: state.sales.size };
  });

  app.post('/_sim/seed', (request) => {
    const body = (request.body ?? {}) as {
      demo?: boolean;
      contacts?: unknown[];
      persons?: unknown[];
      sales?: unknown[];
    };
    if (body.demo === true) addDemoRecords(state);
    const created: Record<EntityKind, number[]> = { contact: [], person: [], sale: [] };
    const groups: [EntityKind, unknown[] | undefined][] = [
      ['contact', body.contacts],
      ['person', body.persons],
      ['sale', body.sales],
    ];
    // Seeded data is background, not a change anybody made: no webhooks. Owner: `Associate` or the API user.
    const actor = options.apiAssociateId;
    for (const [kind, bodies] of groups)
      for (const entity of bodies ?? []) created[kind].push(mutations.createSilently(kind, entity, actor));
    return { ok: true, created };
  });

  const actor = (name: string) => {
    const associate = state.associateByName(name) ?? state.associateById(Number(name));
    if (associate === undefined)
      throw notFound(`No user "${name}" in the simulated tenant (e.g. RKAB, RCGO, WACK).`);
    return associate.associateId;
  };
  type ActParams = { Params: { user: string; entity: string; id?: string } };
  app.post<ActParams>('/_sim/act/:user/:entity', (request, reply) => {
    const kind = kindOf(request.params.entity);
    const record = mutations.create(kind, request.body ?? {}, actor(request.params.user));
    return reply.code(201).send({ ok: true, id: mutations.idOf(kind, record) });
  });
  app.post<ActParams>('/_sim/act/:user/:entity/:id', (request) => {
    const kind = kindOf(request.params.entity);
    const id = Number(request.params.id);
    // The body holds field changes in REST names, applied like a merge patch by the human in the UI.
    mutations.mergeChanges(kind, id, request.body ?? {}, actor(request.params.user));
    return { ok: true, id };
  });
  app.delete<ActParams>('/_sim/act/:user/:entity/:id', (request) => {
    const kind = kindOf(request.params.entity);
    mutations.delete(kind, Number(request.params.id), actor(request.params.user));
    return { ok: true };
  });

  registerFaultRoutes(app, options.faults, badRequest);

  app.post('/_sim/tokens/revoke', (request) => {
    const body = (request.body ?? {}) as { accessTokens?: boolean; refreshTokens?: boolean };
    options.tokens.revoke({
      accessTokens: body.accessTokens ?? true,
      refreshTokens: body.refreshTokens ?? true,
    });
    return { ok: true };
  });

  app.post('/_sim/tenant/move', (request) => {
    const body = (request.body ?? {}) as { host?: string };
    return { ok: true, endpoint: options.moveTenant(body.host) };
  });

  app.get('/_sim/quirks', () => options.quirks);
  app.post('/_sim/quirks', (request) => {
    const body = (request.body ?? {}) as Partial<CoreQuirks> & WebhookQuirks;
    const {
      duplicateContactCreated,
      duplicateContactCreatedEventId,
      reorder,
      urlChangeColumns,
      communicationChangeColumns,
      archivePageSize,
    } = body;
    if (
      duplicateContactCreated !== undefined ||
      duplicateContactCreatedEventId !== undefined ||
      reorder !== undefined
    )
      options.hub.setQuirks({
        ...(duplicateContactCreated !== undefined && { duplicateContactCreated }),
        ...(duplicateContactCreatedEventId !== undefined && { duplicateContactCreatedEventId }),
        ...(reorder !== undefined && { reorder }),
      });
    if (urlChangeColumns !== undefined) options.quirks.urlChangeColumns = urlChangeColumns;
    if (communicationChangeColumns !== undefined)
      options.quirks.communicationChangeColumns = communicationChangeColumns;
    if (archivePageSize !== undefined) {
      if (!Number.isInteger(archivePageSize) || archivePageSize < 1)
        throw badRequest('archivePageSize must be a positive integer.');
      options.quirks.archivePageSize = archivePageSize;
    }
    return { ok: true, quirks: options.quirks };
  });

  registerRequestCountRoutes(app, options.stats);

  app.get('/_sim/udefs', () => state.udefs.map((udef) => ({ owner: udef.owner, ...udefInfo(state, udef) })));
  app.get('/_sim/deliveries', () => options.hub.deliveries());

  app.get('/_sim/state', () => ({
    endpoint: options.tenantUrl(),
    quirks: options.quirks,
    faults: options.faults.settings,
    tenant: state.toJSON(),
    deliveries: options.hub.deliveries(),
  }));
}
