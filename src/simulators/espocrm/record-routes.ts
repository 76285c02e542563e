/**
 * The record API under `/api/v1` (reference §2, §3): `GET /{T}` (list), `POST /{T}`, `GET /{T}/{id}`,
 * `PUT` and `PATCH /{T}/{id}` (identical partial updates), `DELETE /{T}/{id}` (answers `true`), and
 * `GET /App/user`. Success is 200, create included. An unknown entity type is 404 `Controller 'X' does not
 * exist.` (also for vendor types the simulator does not have, such as Lead). Authentication, faults and
 * request counts are installed around these routes by the server.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Clock } from '../../ports/clock.ts';
import type { JsonObject } from '../../core/types.ts';
import { currentUser } from './auth.ts';
import { ENTITY_TYPES, entityDef, isEntityType } from './entity-defs.ts';
import type { EntityType } from './entity-defs.ts';
import { versionNumberHeader } from './concurrency.ts';
import { notFound } from './errors.ts';
import { runList } from './list.ts';
import { parsePhpQuery } from './query-string.ts';
import { lazyOutputs } from './render.ts';
import type { EspoCrmQuirks } from './quirks.ts';
import type { RecordService } from './records.ts';
import { fetchSearchParams } from './search-params.ts';
import type { SimState } from './state.ts';
import type { SimUser } from './users.ts';

/** What the record routes need. */
export interface RecordRoutesOptions {
  readonly state: SimState;
  readonly records: RecordService;
  readonly clock: Clock;
  readonly quirks: () => EspoCrmQuirks;
}

function entityTypeOf(name: string): EntityType {
  if (!isEntityType(name)) throw notFound(`Controller '${name}' does not exist.`);
  return name;
}

function headerIsTrue(request: FastifyRequest, name: string): boolean {
  const value = request.headers[name];
  return (Array.isArray(value) ? value[0] : value)?.toLowerCase() === 'true';
}

/** `GET /App/user`: who the caller is, with an auth token for human users (reference §1). */
function appUser(state: SimState, user: SimUser): JsonObject {
  let token: string | null = null;
  if (user.type !== 'api') {
    const existing = [...state.tokens].find(([, userId]) => userId === user.id)?.[0];
    token = existing ?? randomBytes(16).toString('hex');
    state.tokens.set(token, user.id);
  }
  const scopes = Object.fromEntries(
    ENTITY_TYPES.map((type) => [
      type,
      { create: 'yes', read: 'all', edit: 'all', delete: 'all', stream: 'all' },
    ]),
  );
  return {
    user: {
      id: user.id,
      userName: user.userName,
      name: user.name,
      type: user.type,
      isActive: true,
      emailAddress: user.emailAddress,
    },
    acl: {
      table: { ...scopes, Webhook: user.type !== 'regular' },
      fieldTable: {},
      assignmentPermission: 'all',
    },
    preferences: { id: user.id, timeZone: 'UTC', language: 'en_US' },
    token,
    settings: { version: '10.0.0', timeZone: 'UTC', recordListMaxSizeLimit: 200 },
    language: {},
    appParams: {},
  };
}

/** Registers the record routes. */
export function registerRecordRoutes(app: FastifyInstance, options: RecordRoutesOptions): void {
  const { records, state } = options;
  type TypeRoute = { Params: { entityType: string } };
  type IdRoute = { Params: { entityType: string; id: string } };

  app.get('/api/v1/App/user', (request) => appUser(state, currentUser(request)));

  app.get<TypeRoute>('/api/v1/:entityType', (request) => {
    const entityType = entityTypeOf(request.params.entityType);
    const quirks = options.quirks();
    const query = parsePhpQuery((request.raw.url ?? '').split('?')[1] ?? '');
    const params = fetchSearchParams(query, quirks.maxSizeLimit);
    const read = records.outputReader(entityType);
    return runList({
      def: entityDef(entityType),
      records: [...state.table(entityType).values()].filter((record) => record.deleted !== true),
      view: lazyOutputs(read),
      render: (record) => records.render(entityType, record),
      params,
      noTotal: headerIsTrue(request, 'x-no-total'),
      quirks,
      userId: currentUser(request).id,
      now: options.clock.now(),
    });
  });

  app.post<TypeRoute>('/api/v1/:entityType', (request) =>
    records.create(entityTypeOf(request.params.entityType), request.body ?? {}, currentUser(request), {
      skipDuplicateCheck: headerIsTrue(request, 'x-skip-duplicate-check'),
    }),
  );

  app.get<IdRoute>('/api/v1/:entityType/:id', (request) =>
    records.read(entityTypeOf(request.params.entityType), request.params.id),
  );

  const update = (request: FastifyRequest<IdRoute>) =>
    records.update(
      entityTypeOf(request.params.entityType),
      request.params.id,
      request.body ?? {},
      currentUser(request),
      {
        skipDuplicateCheck: headerIsTrue(request, 'x-skip-duplicate-check'),
        versionNumber: versionNumberHeader(request.headers['x-version-number']),
      },
    );
  app.put<IdRoute>('/api/v1/:entityType/:id', update);
  app.patch<IdRoute>('/api/v1/:entityType/:id', update);

  app.delete<IdRoute>('/api/v1/:entityType/:id', (request) => {
    records.delete(entityTypeOf(request.params.entityType), request.params.id, currentUser(request));
    return true;
  });
}
