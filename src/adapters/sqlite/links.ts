/**
 * Links of sync flows on SQLite, saved with optimistic concurrency on `revision`. Counts per status come from
 * `link_counts`, kept by triggers (migration 7).
 */
import { InputError, NotFoundError, StaleWriteError } from '../../core/errors.ts';
import type { JsonObject, RecordRef } from '../../core/types.ts';
import type { Clock } from '../../ports/clock.ts';
import type {
  Link,
  LinkDeletion,
  LinkQuery,
  LinkRepository,
  LinkSide,
  LinkStatus,
  LinkWrite,
} from '../../ports/store.ts';
import type { Row, SqlParam, SqliteDatabase } from './database.ts';
import { Filter, cursorOf, limitOf, parseJsonOrNull, rowIdOf } from './values.ts';

interface LinkRow extends Row {
  id: number;
  flow: string;
  a_connection: string;
  a_entity_type: string;
  a_id: string;
  a_base: string | null;
  a_version: string | null;
  b_connection: string;
  b_entity_type: string;
  b_id: string;
  b_base: string | null;
  b_version: string | null;
  status: LinkStatus;
  retry_count: number;
  last_error: string | null;
  last_synced_at: number | null;
  deletion_side: LinkDeletion['side'] | null;
  deletion_detected_at: number | null;
  deletion_applied: LinkDeletion['applied'];
  deletion_applied_at: number | null;
  revision: number;
  created_at: number;
  updated_at: number;
}

const LINK_STATUSES: readonly LinkStatus[] = ['clean', 'pending', 'failed', 'conflict', 'deleted'];
const DELETION_SIDES: readonly unknown[] = ['a', 'b'];
const DELETION_APPLIED: readonly unknown[] = ['deleted', 'flagged', null];

/** The WHERE term of the partial index links_deletion_pending (repeated exactly, so SQLite uses it). */
const DELETION_PENDING = 'deletion_side IS NOT NULL AND deletion_applied IS NULL';

/** SQLite's extended result code for a violated UNIQUE constraint. */
const SQLITE_CONSTRAINT_UNIQUE = 2067;

const SQL = {
  byId: 'SELECT * FROM links WHERE id = ?',
  byRef: `SELECT * FROM links WHERE flow = ?
            AND ((a_connection = ? AND a_entity_type = ? AND a_id = ?)
              OR (b_connection = ? AND b_entity_type = ? AND b_id = ?))
          LIMIT 1`,
  insert: `INSERT INTO links (flow, a_connection, a_entity_type, a_id, a_base, a_version,
             b_connection, b_entity_type, b_id, b_base, b_version, status, retry_count, last_error, last_synced_at,
             deletion_side, deletion_detected_at, deletion_applied, deletion_applied_at, revision, created_at,
             updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)
           RETURNING *`,
  // `? IS NULL` skips the revision check for a write that read no revision.
  update: `UPDATE links SET flow = ?, a_connection = ?, a_entity_type = ?, a_id = ?, a_base = ?, a_version = ?,
             b_connection = ?, b_entity_type = ?, b_id = ?, b_base = ?, b_version = ?, status = ?, retry_count = ?,
             last_error = ?, last_synced_at = ?, deletion_side = ?, deletion_detected_at = ?, deletion_applied = ?,
             deletion_applied_at = ?, revision = revision + 1, updated_at = ?
           WHERE id = ? AND (? IS NULL OR revision = ?)
           RETURNING *`,
  counts: 'SELECT status, count FROM link_counts WHERE flow = ?',
} as const;

/** LinkRepository on SQLite. */
export class SqliteLinkRepository implements LinkRepository {
  readonly #db: SqliteDatabase;
  readonly #clock: Clock;

  constructor(database: SqliteDatabase, clock: Clock) {
    this.#db = database;
    this.#clock = clock;
  }

  get(id: string): Promise<Link | null> {
    return this.#db.autocommit(() => this.#byId(id));
  }

  findByRef(flow: string, ref: RecordRef): Promise<Link | null> {
    return this.#db.autocommit(() => {
      const refParams = [ref.connection, ref.entityType, ref.id];
      const row = this.#db.get<LinkRow>(SQL.byRef, flow, ...refParams, ...refParams);
      return row === undefined ? null : toLink(row);
    });
  }

  save(link: LinkWrite): Promise<Link> {
    return this.#db.transaction(() => this.saveSync(link));
  }

  /** {@link save} inside the caller's transaction (the outcome commit of JobAttempts.end). */
  saveSync(link: LinkWrite): Link {
    if (!LINK_STATUSES.includes(link.status)) {
      throw new InputError('LINK_STATUS_INVALID', `Link status must be one of ${LINK_STATUSES.join(', ')}.`);
    }
    assertDeletion(link.deletion ?? null);
    const saved = this.#write(link, this.#clock.now());
    if (saved !== undefined) return toLink(saved);
    // The update matched no row: tell a missing link from a stale revision.
    const stored = this.#byId(link.id!);
    if (stored === null) throw new NotFoundError('LINK_NOT_FOUND', `Link ${link.id} does not exist.`);
    throw new StaleWriteError(
      `Link ${link.id} was changed by another writer (revision ${stored.revision}, expected ${link.expectedRevision}); read it again.`,
      { linkId: link.id, revision: stored.revision, expectedRevision: link.expectedRevision },
    );
  }

  list(query: LinkQuery): Promise<Link[]> {
    return this.#db.autocommit(() => {
      const filter = new Filter()
        .when(query.flow, 'flow = ?', (flow) => [flow])
        .when(query.status, 'status = ?', (status) => [status])
        .when(query.deletionPendingBefore, `${DELETION_PENDING} AND deletion_detected_at < ?`, (before) => [
          before,
        ])
        .when(query.afterId, 'id > ?', (afterId) => [cursorOf(afterId, 'afterId')]);
      const { sql, params } = filter.select('*', 'links', 'id', limitOf(query.limit, 100));
      return this.#db.all<LinkRow>(sql, ...params).map(toLink);
    });
  }

  countByStatus(flow: string): Promise<Record<LinkStatus, number>> {
    return this.#db.autocommit(() => {
      const counts = Object.fromEntries(LINK_STATUSES.map((status) => [status, 0])) as Record<
        LinkStatus,
        number
      >;
      for (const row of this.#db.all<{ status: LinkStatus; count: number }>(SQL.counts, flow)) {
        counts[row.status] = row.count;
      }
      return counts;
    });
  }

  /** Inserts or updates; undefined when the update matched no row (missing, or another revision). */
  #write(link: LinkWrite, now: number): LinkRow | undefined {
    const values: SqlParam[] = [
      link.flow,
      ...sideParams(link.a),
      ...sideParams(link.b),
      link.status,
      link.retryCount ?? 0,
      link.lastError ?? null,
      link.lastSyncedAt ?? null,
      ...deletionParams(link.deletion ?? null),
    ];
    try {
      if (link.id === undefined) return this.#db.get<LinkRow>(SQL.insert, ...values, now, now)!;
      const expected = link.expectedRevision ?? null;
      return this.#db.get<LinkRow>(SQL.update, ...values, now, rowIdOf(link.id), expected, expected);
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      throw new StaleWriteError(
        `Flow ${link.flow} already links one of these records in another link; find it with findByRef and save again.`,
        { flow: link.flow, a: link.a.ref, b: link.b.ref },
      );
    }
  }

  #byId(id: string): Link | null {
    const row = this.#db.get<LinkRow>(SQL.byId, rowIdOf(id));
    return row === undefined ? null : toLink(row);
  }
}

function sideParams(side: LinkSide): SqlParam[] {
  return [
    side.ref.connection,
    side.ref.entityType,
    side.ref.id,
    side.base === null ? null : JSON.stringify(side.base),
    side.version ?? null,
  ];
}

function deletionParams(deletion: LinkDeletion | null): SqlParam[] {
  if (deletion === null) return [null, null, null, null];
  return [deletion.side, deletion.detectedAt, deletion.applied, deletion.appliedAt];
}

/** A deletion mark the schema can hold; a caller's mistake otherwise, refused before any write. */
function assertDeletion(deletion: LinkDeletion | null): void {
  if (deletion === null) return;
  const valid =
    DELETION_SIDES.includes(deletion.side) &&
    Number.isFinite(deletion.detectedAt) &&
    DELETION_APPLIED.includes(deletion.applied) &&
    (deletion.applied === null) === (deletion.appliedAt === null) &&
    (deletion.appliedAt === null || Number.isFinite(deletion.appliedAt));
  if (!valid) {
    throw new InputError(
      'LINK_DELETION_INVALID',
      `Link deletion must have side 'a' or 'b', a detectedAt time, and applied 'deleted' or 'flagged' with its appliedAt (both null while waiting); got ${JSON.stringify(deletion)}.`,
    );
  }
}

function toDeletion(row: LinkRow): LinkDeletion | null {
  if (row.deletion_side === null) return null;
  return {
    side: row.deletion_side,
    detectedAt: row.deletion_detected_at!,
    applied: row.deletion_applied,
    appliedAt: row.deletion_applied_at,
  };
}

function isUniqueViolation(error: unknown): boolean {
  return (error as { errcode?: unknown } | null)?.errcode === SQLITE_CONSTRAINT_UNIQUE;
}

function toLink(row: LinkRow): Link {
  return {
    id: String(row.id),
    flow: row.flow,
    a: {
      ref: { connection: row.a_connection, entityType: row.a_entity_type, id: row.a_id },
      base: parseJsonOrNull<JsonObject>(row.a_base),
      version: row.a_version,
    },
    b: {
      ref: { connection: row.b_connection, entityType: row.b_entity_type, id: row.b_id },
      base: parseJsonOrNull<JsonObject>(row.b_base),
      version: row.b_version,
    },
    status: row.status,
    retryCount: row.retry_count,
    lastError: row.last_error,
    lastSyncedAt: row.last_synced_at,
    deletion: toDeletion(row),
    revision: row.revision,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
