/**
 * The tenant API under `/{ctx}/api/v1` (reference §3, §4, §2.5): Contact, Person and Sale CRUD with both
 * PATCH forms and the conditional headers, archive lists, list items, the current principal, and the UDF
 * field metadata. Authentication, the 421 host check, faults and the webhook routes are installed around it
 * by the server.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerHookHandler } from 'fastify';
import { providerKind, runArchiveQuery } from './archive.ts';

import { authenticatedAssociateId } from './auth.ts';
import { ENTITY_NAMES, primaryKeyOf, renderEntity } from './entities.ts';
import { SimHttpError, badRequest, notFound } from './errors.ts';
import { applyJsonPatch, applyMergePatch } from './json-patch.ts';
import type { EntityKind, SimState } from './model.ts';
import type { Mutations } from './mutations.ts';
import { udefInfo } from './udf.ts';

/** What the tenant routes need. */
export interface TenantRoutesOptions {
  readonly state: SimState;
  readonly mutations: Mutations;
  /** `/Cust12345/api/v1` */
  readonly prefix: string;
  /** The tenant's current endpoint (http://HOST:PORT/Cust12345). */
  readonly tenantUrl: () => string;
  readonly authenticate: preHandlerHookHandler;
  /** Largest archive page (reference §4: [UNCONFIRMED], default 200). */
  readonly archivePageSize: () => number;
}

/** Parses an HTTP-date header; undefined when absent, 400 when malformed. */
function httpDate(request: FastifyRequest, name: string): number | undefined {
  const value = request.headers[name];
  if (typeof value !== 'string') return undefined;
  const parsed = Date.parse(value);
  if (Number.isNaN(parsed)) throw badRequest(`${name} must be an HTTP-date, got "${value}".`);
  return Math.floor(parsed / 1000) * 1000;
}

function parseId(text: string, kind: EntityKind): number {
  const id = Number(text);
  if (!Number.isInteger(id) || id <= 0) throw notFound(`${ENTITY_NAMES[kind]} "${text}" does not exist.`);
  return id;
}

/** Registers the tenant routes on `app`. */
export function registerTenantRoutes(app: FastifyInstance, options: TenantRoutesOptions): void {
  const { state, mutations, prefix } = options;
  const guarded = { preHandler: options.authenticate };
  const entityUrl = (kind: EntityKind, id: number) =>
    `${options.tenantUrl()}/api/v1/${ENTITY_NAMES[kind]}/${id}`;
  const render = (kind: EntityKind, id: number) =>
    renderEntity(state, kind, mutations.get(kind, id), entityUrl(kind, id));

  /** 412 when the record changed after If-Unmodified-Since (reference §3.3). */
  const checkUnmodified = (request: FastifyRequest, kind: EntityKind, id: number) => {
    const since = httpDate(request, 'if-unmodified-since');
    // HTTP dates carry whole seconds, so a record saved in the same second as the date is unmodified.
    if (since !== undefined && Math.floor(mutations.get(kind, id).updatedDate / 1000) * 1000 > since)
      throw new SimHttpError(
        412,
        'PreconditionFailed',
        `${ENTITY_NAMES[kind]} ${id} was modified after If-Unmodified-Since.`,
      );
  };

  const archive = (request: FastifyRequest, kind: EntityKind, providerPath: string) => {
    const requestUrl = new URL(request.url, options.tenantUrl());
    return runArchiveQuery(state, {
      kind,
      params: request.query as Record<string, string | undefined>,
      requestUrl,
      metadataUrl: `${options.tenantUrl()}/api/v1/Archive/${providerPath}/$metadata`,
      pageSize: options.archivePageSize(),
    });
  };

  for (const kind of Object.keys(ENTITY_NAMES) as EntityKind[]) {
    const base = `${prefix}/${ENTITY_NAMES[kind]}`;
    type WithId = { Params: { id: string } };

    app.get(base, guarded, (request) => archive(request, kind, ''));

    app.get(`${base}/default`, guarded, (request) =>
      renderEntity(
        state,
        kind,
        mutations.template(kind, authenticatedAssociateId(request)),
        entityUrl(kind, 0),
      ),
    );

    app.get<WithId>(`${base}/:id`, guarded, (request, reply) => {
      const id = parseId(request.params.id, kind);
      const since = httpDate(request, 'if-modified-since');
      if (since !== undefined && mutations.get(kind, id).updatedDate <= since) return reply.code(304).send();
      return render(kind, id);
    });

    app.post(base, guarded, (request, reply) => {
      if (request.body === undefined || request.body === null)
        throw badRequest(`POST ${ENTITY_NAMES[kind]} needs an entity body.`);
      const record = mutations.create(kind, request.body, authenticatedAssociateId(request));
      const id = primaryKeyOf(kind, record);
      // 201 for a created entity [UNCONFIRMED: the vendor may answer 200].
      return reply.code(201).send(render(kind, id));
    });

    app.put<WithId>(`${base}/:id`, guarded, (request) => {
      const id = parseId(request.params.id, kind);
      if (request.body === undefined || request.body === null)
        throw badRequest(
          `PUT ${ENTITY_NAMES[kind]}/${id} needs an entity body (reference §3.1: 400 without body).`,
        );
      checkUnmodified(request, kind, id);
      mutations.replace(kind, id, request.body, authenticatedAssociateId(request));
      return render(kind, id);
    });

    app.patch<WithId>(`${base}/:id`, guarded, (request) => {
      const id = parseId(request.params.id, kind);
      const document = render(kind, id);
      checkUnmodified(request, kind, id);
      const contentType = request.headers['content-type'] ?? '';
      // An array is RFC 6902, an object RFC 7396 (the vendor converts merge objects into operations).
      if (contentType.includes('json-patch') || Array.isArray(request.body))
        applyJsonPatch(document, request.body);
      else applyMergePatch(document, request.body);
      mutations.replace(kind, id, document, authenticatedAssociateId(request));
      return render(kind, id);
    });

    app.delete<WithId>(`${base}/:id`, guarded, (request, reply) => {
      const id = parseId(request.params.id, kind);
      mutations.delete(kind, id, authenticatedAssociateId(request));
      return reply.code(204).send();
    });
  }

  app.get<{ Params: { provider: string } }>(`${prefix}/Archive/:provider`, guarded, (request) =>
    archive(request, providerKind(request.params.provider), request.params.provider),
  );

  type ListParams = { Params: { name: string; id?: string }; Querystring: { includeDeleted?: string } };
  const listItems = (request: FastifyRequest<ListParams>) => {
    const list = state.list(request.params.name);
    if (list === undefined) throw notFound(`List "${request.params.name}" does not exist.`);
    const includeDeleted = request.query.includeDeleted?.toLowerCase() === 'true';
    return list.items
      .filter((item) => includeDeleted || !item.deleted)
      .map((item) => ({
        Id: item.id,
        Name: item.name,
        Tooltip: item.tooltip,
        Deleted: item.deleted,
        UdListDefinitionId: list.udListDefinitionId,
        Rank: item.rank,
        TableRight: null,
        FieldProperties: {},
      }));
  };
  app.get<ListParams>(`${prefix}/List/:name/Items`, guarded, (request) => listItems(request));
  app.get<ListParams>(`${prefix}/List/:name/Items/:id`, guarded, (request) => {
    const item = listItems(request).find((candidate) => String(candidate.Id) === request.params.id);
    if (item === undefined)
      throw notFound(`List "${request.params.name}" has no item ${request.params.id ?? ''}.`);
    return item;
  });

  app.get(`${prefix}/User/currentPrincipal`, guarded, (request) => {
    const associateId = authenticatedAssociateId(request);
    const associate = state.associateById(associateId);
    return {
      UserType: 'InternalAssociate',
      Associate: associate?.name ?? '',
      AssociateId: associateId,
      IsPerson: true,
      PersonId: associate?.personId ?? 0,
      ContactId: associate?.contactId ?? 0,
      CountryId: 276,
      HomeCountryId: 276,
      GroupId: 1,
      BusinessId: 0,
      CategoryId: 0,
      ContactOwner: associateId,
      RoleId: associate?.isAdministrator === true ? 1 : 2,
      RoleName: associate?.roleName ?? '',
      RoleDescription: '',
      RoleType: associate?.isAdministrator === true ? 'Admin' : 'User',
      FullName: associate?.fullName ?? '',
      EMailAddress: associate?.email ?? '',
      Licenses: [],
      FunctionRights: [],
      EjUserId: 0,
      EjAccessLevel: 0,
      EjUserStatus: 'Normal',
      ProvidedCredentials: [],
      SecondaryGroups: [],
      DatabaseContextIdentifier: prefix.split('/')[1] ?? '',
      UserName: associate?.email ?? '',
    };
  });

  // Seed 001: Associate/Me answers 500 when the API user has no linked person; the reference cannot find it.
  app.get(`${prefix}/Associate/Me`, guarded, (_request, reply: FastifyReply) =>
    reply.code(500).send({
      Error: true,
      ErrorType: 'NullReferenceException',
      Message: 'Object reference not set to an instance of an object.',
    }),
  );

  // Field metadata for `superoffice discover` [INFERRED]: the UserDefinedFieldInfo agent's list call.
  app.post(`${prefix}/Agents/UserDefinedFieldInfo/GetUserDefinedFieldList`, guarded, (request) => {
    const body = (request.body ?? {}) as { UDefType?: unknown; udefType?: unknown };
    const requested = body.UDefType ?? body.udefType;
    const type =
      typeof requested === 'string' || typeof requested === 'number' ? String(requested).toLowerCase() : '';
    const owner = (['contact', 'person', 'sale'] as const).find(
      (kind) => kind === type || String(UDEF_TYPE_NUMBERS[kind]) === type,
    );
    if (owner === undefined) throw badRequest('UDefType must be Contact, Person or Sale (or 7, 8, 10).');
    return state.udefsOf(owner).map((udef) => udefInfo(state, udef));
  });
}

/** UDefType numbers of the vendor's enum [INFERRED]. */
const UDEF_TYPE_NUMBERS: Readonly<Record<EntityKind, number>> = { contact: 7, person: 8, sale: 10 };
