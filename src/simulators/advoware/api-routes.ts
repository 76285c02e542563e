/**
 * The Advoware API proper, served under both the relay and the connector prefix (reference §2), behind the
 * bearer check: `api/v1/advonet/Beteiligte[/{betnr}]` (seed 004) and its `Kommunikationen[/{id}]`
 * sub-resource (seed 003), each quirk read per request (`quirks.ts`).
 *
 * [UNCONFIRMED] Status codes of successful writes are not documented: POST answers 201 with the created
 * record, PUT 200 with the written one, an allowed DELETE 204. Clients should accept any 2xx.
 */
import type { FastifyInstance, FastifyRequest, preHandlerHookHandler } from 'fastify';
import { requireBearer } from './auth.ts';
import type { TokenStore } from './auth.ts';
import {
  parseBeteiligterFields,
  parseCount,
  parseKommunikationUpdate,
  parseNewKommunikation,
} from './body.ts';
import { SERVICE_PREFIXES } from './configurator.ts';
import { forbidden, kanzleiOffline, notFound } from './errors.ts';
import type { SimState } from './model.ts';
import type { Mutations } from './mutations.ts';
import type { AdvowareQuirks } from './quirks.ts';
import type { BeteiligteSchema } from './schema.ts';
import { beteiligterView, kommunikationView } from './views.ts';

/** Path of the Beteiligte collection below a service prefix. */
const BETEILIGTE_PATH = 'api/v1/advonet/Beteiligte';

/** What the API routes need. */
export interface ApiRoutesOptions {
  readonly state: SimState;
  readonly mutations: Mutations;
  readonly schema: BeteiligteSchema;
  readonly tokens: TokenStore;
  readonly quirks: () => AdvowareQuirks;
  readonly kanzlei: string;
}

type BetParams = { Params: { betnr: string } };
type KommParams = { Params: { betnr: string; id: string } };
type ListQuery = { Querystring: { skip?: string; take?: string } };

/** A path id (`betnr`, `id`); anything but digits matches no record ([INF] like an `{id:int}` route). */
function pathId(value: string, what: string): number {
  const id = /^\d{1,15}$/.test(value) ? Number(value) : Number.NaN;
  if (Number.isNaN(id)) throw notFound(`${what} "${value}" wurde nicht gefunden.`);
  return id;
}

/** 401 without a valid token, then 503 while the firm's advoware Manager is offline. */
function apiGuard(options: ApiRoutesOptions): preHandlerHookHandler {
  return (request, _reply, done) => {
    try {
      requireBearer(options.tokens, request);
      if (options.quirks().kanzleiOffline) throw kanzleiOffline(options.kanzlei);
      done();
    } catch (error) {
      done(error as Error);
    }
  };
}

/** `where` in 400 messages: the method and path as the client sent them. */
function where(request: FastifyRequest): string {
  return `${request.method} ${request.url.split('?')[0] ?? ''}`;
}

function registerBeteiligteRoutes(app: FastifyInstance, base: string, options: ApiRoutesOptions): void {
  const { mutations, schema } = options;
  const preHandler = apiGuard(options);

  app.get<ListQuery>(base, { preHandler }, (request) => {
    const quirks = options.quirks();
    let records = options.state.list();
    if (quirks.collectionPaging) {
      const skip = parseCount(request.query.skip, 'skip', where(request)) ?? 0;
      const take = parseCount(request.query.take, 'take', where(request));
      records = records.slice(skip, take === undefined ? undefined : skip + take);
    }
    return records.map((record) => beteiligterView(record, schema, quirks));
  });

  app.post(base, { preHandler }, (request, reply) => {
    const fields = parseBeteiligterFields(request.body, schema, where(request), { requireName: true });
    const record = mutations.create(fields);
    return reply.code(201).send(beteiligterView(record, schema, options.quirks(), 'write'));
  });

  app.get<BetParams>(`${base}/:betnr`, { preHandler }, (request) => {
    const quirks = options.quirks();
    const record = mutations.requireBeteiligter(pathId(request.params.betnr, 'Beteiligter'));
    const view = beteiligterView(record, schema, quirks);
    return quirks.getReturnsArray ? [view] : view;
  });

  app.put<BetParams>(`${base}/:betnr`, { preHandler }, (request) => {
    const quirks = options.quirks();
    const betNr = pathId(request.params.betnr, 'Beteiligter');
    mutations.requireBeteiligter(betNr);
    const fields = parseBeteiligterFields(request.body, schema, where(request), {
      requireName: quirks.putFullReplace,
    });
    // Server-owned keys in the body (id, rowId, kommunikation) are ignored, except for the optional check.
    const sentRowId = (request.body as { rowId?: unknown }).rowId;
    const expectedRowId = quirks.putChecksRowId && typeof sentRowId === 'string' ? sentRowId : undefined;
    const mode = quirks.putFullReplace ? 'replace' : 'merge';
    const record = mutations.update(betNr, fields, mode, expectedRowId);
    return beteiligterView(record, schema, quirks, 'write');
  });
}

function registerKommunikationRoutes(app: FastifyInstance, base: string, options: ApiRoutesOptions): void {
  const { mutations } = options;
  const preHandler = apiGuard(options);
  const collection = `${base}/:betnr/Kommunikationen`;
  const ids = (params: KommParams['Params']) =>
    [pathId(params.betnr, 'Beteiligter'), pathId(params.id, 'Kommunikation')] as const;

  app.get<BetParams>(collection, { preHandler }, (request) => {
    const record = mutations.requireBeteiligter(pathId(request.params.betnr, 'Beteiligter'));
    const quirks = options.quirks();
    return record.kommunikation.map((item) => kommunikationView(item, quirks));
  });

  app.get<KommParams>(`${collection}/:id`, { preHandler }, (request) => {
    const { item } = mutations.requireKommunikation(...ids(request.params));
    return kommunikationView(item, options.quirks());
  });

  app.post<BetParams>(collection, { preHandler }, (request, reply) => {
    const betNr = pathId(request.params.betnr, 'Beteiligter');
    mutations.requireBeteiligter(betNr);
    const item = mutations.addKommunikation(betNr, parseNewKommunikation(request.body, where(request)));
    return reply.code(201).send(kommunikationView(item, options.quirks(), 'write'));
  });

  app.put<KommParams>(`${collection}/:id`, { preHandler }, (request) => {
    const [betNr, id] = ids(request.params);
    mutations.requireKommunikation(betNr, id);
    const quirks = options.quirks();
    const changes = parseKommunikationUpdate(request.body, where(request), {
      fullReplace: quirks.putFullReplace,
      kommKzIgnored: quirks.kommKzIgnoredOnPut,
    });
    return kommunikationView(mutations.updateKommunikation(betNr, id, changes), quirks, 'write');
  });

  app.delete<KommParams>(`${collection}/:id`, { preHandler }, (request, reply) => {
    // Seed 003: the vendor forbids the method outright, whether or not the item exists.
    if (options.quirks().deleteForbidden)
      throw forbidden('Kommunikationen können nicht gelöscht werden (DELETE ist nicht erlaubt).');
    mutations.deleteKommunikation(...ids(request.params));
    return reply.code(204).send();
  });
}

/** Registers the API under the relay and the connector prefix. */
export function registerApiRoutes(app: FastifyInstance, options: ApiRoutesOptions): void {
  for (const prefix of [SERVICE_PREFIXES.relay, SERVICE_PREFIXES.connector]) {
    const base = `${prefix}${BETEILIGTE_PATH}`;
    registerBeteiligteRoutes(app, base, options);
    registerKommunikationRoutes(app, base, options);
  }
}
