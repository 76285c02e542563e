/**
 * The stream (reference §7): a `Create` note when a record is made, and an `Update` note when an audited
 * field changes, with `data.fields` and `data.attributes.was/became` holding every attribute of each changed
 * field. Non-audited changes leave no history. `GET /{T}/{id}/stream` lists a record's notes newest first
 * (`{total, list, pinnedList}`); `GET /{T}/{id}/updateStream` lists its Update notes and needs the Audit
 * permission (403 otherwise; the API user has it unless the quirk `apiUserAuditPermission` is off).
 */
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../ports/clock.ts';
import type { JsonObject } from '../../core/types.ts';
import { currentUser } from './auth.ts';
import { entityDef, fieldAttributes, isEntityType } from './entity-defs.ts';
import { badRequest, forbidden, notFound } from './errors.ts';
import type { EspoCrmQuirks } from './quirks.ts';
import type { RecordChange, RecordService } from './records.ts';
import type { SimState, StoredNote } from './state.ts';
import type { SimUser, UserDirectory } from './users.ts';
import type { IdGenerator } from './values.ts';
import { formatDateTime } from './values.ts';

/** Dependencies of the stream. */
export interface StreamOptions {
  readonly state: SimState;
  readonly users: UserDirectory;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly quirks: () => EspoCrmQuirks;
}

/** Writes the notes of a record change. */
export function recordStreamNotes(change: RecordChange, options: StreamOptions): void {
  if (change.kind === 'delete') return;
  const ms = options.clock.now();
  const note = (type: StoredNote['type'], data: JsonObject): StoredNote => ({
    id: options.ids.next(ms),
    number: options.state.nextNumber(),
    type,
    parentType: change.entityType,
    parentId: change.id,
    data,
    createdAt: formatDateTime(ms),
    createdById: change.actor.id,
  });
  if (change.kind === 'create') {
    options.state.notes.push(note('Create', {}));
    return;
  }
  const audited = new Set(options.quirks().auditedFields[change.entityType]);
  const fields = entityDef(change.entityType).fields.filter(
    (field) =>
      audited.has(field.name) &&
      fieldAttributes(field).some((attribute) => Object.hasOwn(change.changed, attribute)),
  );
  if (fields.length === 0) return;
  const was: JsonObject = {};
  const became: JsonObject = {};
  for (const field of fields)
    for (const attribute of fieldAttributes(field)) {
      was[attribute] = change.before[attribute] ?? null;
      became[attribute] = change.after[attribute] ?? null;
    }
  options.state.notes.push(
    note('Update', { fields: fields.map((field) => field.name), attributes: { was, became } }),
  );
}

function renderNote(note: StoredNote, parentName: string | null, users: UserDirectory): JsonObject {
  return {
    id: note.id,
    type: note.type,
    post: null,
    data: note.data,
    parentType: note.parentType,
    parentId: note.parentId,
    parentName,
    relatedType: null,
    relatedId: null,
    number: note.number,
    isInternal: false,
    isPinned: false,
    createdAt: note.createdAt,
    createdById: note.createdById,
    createdByName: users.nameOf(note.createdById),
    modifiedAt: note.createdAt,
    deleted: false,
  };
}

/** `maxSize`, `offset` and `after` of a stream request (the list limit applies here too). */
function pageParams(query: Record<string, string | undefined>, limit: number) {
  const int = (text: string | undefined, fallback: number) => {
    if (text === undefined || text === '') return fallback;
    const value = Number.parseInt(text, 10);
    if (Number.isNaN(value) || value < 0) throw badRequest('Bad request.');
    return value;
  };
  const maxSize = int(query.maxSize, limit);
  if (maxSize > limit) throw forbidden(`Max size should not exceed ${limit}. Use offset and limit.`);
  return { maxSize, offset: int(query.offset, 0), after: query.after };
}

/** What the stream routes need. */
export interface StreamRoutesOptions extends StreamOptions {
  readonly records: RecordService;
}

/** Registers `GET /api/v1/:entityType/:id/stream` and `.../updateStream`. */
export function registerStreamRoutes(app: FastifyInstance, options: StreamRoutesOptions): void {
  type Route = {
    Params: { entityType: string; id: string };
    Querystring: Record<string, string | undefined>;
  };
  const notesOf = (entityType: string, id: string, updatesOnly: boolean) => {
    if (!isEntityType(entityType)) throw notFound(`Controller '${entityType}' does not exist.`);
    const parent = options.records.read(entityType, id);
    const notes = options.state.notes
      .filter((note) => note.parentType === entityType && note.parentId === id)
      .filter((note) => !updatesOnly || note.type === 'Update')
      .sort((a, b) => b.number - a.number);
    return { notes, parentName: typeof parent.name === 'string' ? parent.name : null };
  };
  const page = (
    query: Record<string, string | undefined>,
    notes: StoredNote[],
    parentName: string | null,
  ) => {
    const { maxSize, offset, after } = pageParams(query, options.quirks().maxSizeLimit);
    const matching = after === undefined ? notes : notes.filter((note) => note.createdAt > after);
    const list = matching
      .slice(offset, offset + maxSize)
      .map((note) => renderNote(note, parentName, options.users));
    return { total: matching.length, list };
  };
  const hasAudit = (user: SimUser) => user.type !== 'api' || options.quirks().apiUserAuditPermission;

  app.get<Route>('/api/v1/:entityType/:id/stream', (request) => {
    const { notes, parentName } = notesOf(request.params.entityType, request.params.id, false);
    return { ...page(request.query, notes, parentName), pinnedList: [] };
  });
  app.get<Route>('/api/v1/:entityType/:id/updateStream', (request) => {
    if (!hasAudit(currentUser(request))) throw forbidden();
    const { notes, parentName } = notesOf(request.params.entityType, request.params.id, true);
    return page(request.query, notes, parentName);
  });
}
