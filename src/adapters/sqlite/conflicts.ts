/**
 * The conflict inbox on SQLite. Runs add and close conflicts inside the transaction of their outcome commit
 * (JobAttempts.end, see attempts.ts); operators list, count and resolve them. One pending (`open` or
 * `resolved`) conflict per link and place in the record is held by a partial unique index, and a parked
 * conflict reported again updates that row through it (one upsert). Counts per status come from
 * `conflict_counts`, kept by triggers (migration 7).
 */
import { InputError, NotFoundError } from '../../core/errors.ts';
import type { JsonValue } from '../../core/types.ts';
import type { Clock } from '../../ports/clock.ts';
import type {
  ConflictInput,
  ConflictQuery,
  ConflictRecord,
  ConflictRepository,
  ConflictResolution,
  ConflictStatus,
  OutcomeCommit,
} from '../../ports/store.ts';
import type { Row, SqlParam, SqliteDatabase } from './database.ts';
import { Filter, cursorOf, limitOf, parseJson, parseJsonOrNull, rowIdOf } from './values.ts';

interface ConflictRow extends Row {
  id: number;
  flow: string;
  link_id: number;
  field: string;
  item: string | null;
  attribute: string | null;
  value_a: string;
  value_b: string;
  base_a: string;
  base_b: string;
  policy: string;
  outcome: ConflictRecord['outcome'];
  status: ConflictStatus;
  resolution: string | null;
  run_id: string | null;
  created_at: number;
  updated_at: number;
}

/** What an outcome commit does to the inbox. */
export type ConflictChanges = NonNullable<OutcomeCommit['conflicts']>;

const OUTCOMES: readonly unknown[] = ['a', 'b', 'parked'];
const TAKES: readonly unknown[] = ['a', 'b', 'value'];

/** SQLite's extended result code for a violated FOREIGN KEY constraint. */
const SQLITE_CONSTRAINT_FOREIGNKEY = 787;

const SQL = {
  byId: 'SELECT * FROM conflicts WHERE id = ?',
  // A closed row never meets the partial index, so a settled conflict always inserts (history); a parked one
  // whose place has a pending row updates it, status and resolution unchanged.
  add: `INSERT INTO conflicts (flow, link_id, field, item, attribute, slot, value_a, value_b, base_a, base_b,
          policy, outcome, status, resolution, run_id, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (link_id, slot) WHERE status IN ('open', 'resolved') DO UPDATE SET
          value_a = excluded.value_a, value_b = excluded.value_b, base_a = excluded.base_a,
          base_b = excluded.base_b, run_id = excluded.run_id, updated_at = excluded.updated_at`,
  close: `UPDATE conflicts SET status = 'closed', resolution = ?, run_id = ?, updated_at = ?
          WHERE id = ? AND status <> 'closed'`,
  resolve: `UPDATE conflicts SET status = 'resolved', resolution = ?, updated_at = ?
            WHERE id = ? AND status = 'open'
            RETURNING *`,
  counts: 'SELECT status, count FROM conflict_counts WHERE flow = ?',
  // One batch (see SqliteDatabase.deleteInBatches). Without statistics SQLite would rather walk every
  // closed conflict in id order (conflicts_by_status) than the range of old ones; the term repeats the
  // partial index's WHERE.
  prune: `DELETE FROM conflicts WHERE id IN
            (SELECT id FROM conflicts INDEXED BY conflicts_closed_by_age
             WHERE status = 'closed' AND updated_at < ? LIMIT ?)`,
} as const;

/** ConflictRepository on SQLite. */
export class SqliteConflictRepository implements ConflictRepository {
  readonly #db: SqliteDatabase;
  readonly #clock: Clock;

  constructor(database: SqliteDatabase, clock: Clock) {
    this.#db = database;
    this.#clock = clock;
  }

  get(id: string): Promise<ConflictRecord | null> {
    return this.#db.autocommit(() => this.#byId(id));
  }

  list(query: ConflictQuery = {}): Promise<ConflictRecord[]> {
    return this.#db.autocommit(() => {
      const { sql, params } = new Filter()
        .when(query.flow, 'flow = ?', (flow) => [flow])
        .when(query.linkId, 'link_id = ?', (linkId) => [rowIdOf(linkId)])
        .when(query.status, 'status = ?', (status) => [status])
        .when(query.afterId, 'id > ?', (afterId) => [cursorOf(afterId, 'afterId')])
        .select('*', 'conflicts', 'id', limitOf(query.limit, 100));
      return this.#db.all<ConflictRow>(sql, ...params).map(toRecord);
    });
  }

  count(flow: string): Promise<Record<ConflictStatus, number>> {
    return this.#db.autocommit(() => {
      const counts = { open: 0, resolved: 0, closed: 0 };
      for (const row of this.#db.all<{ status: ConflictStatus; count: number }>(SQL.counts, flow)) {
        counts[row.status] = row.count;
      }
      return counts;
    });
  }

  resolve(id: string, resolution: ConflictResolution): Promise<ConflictRecord> {
    return this.#db.transaction(() => {
      assertResolution(resolution);
      const params = [JSON.stringify(resolution), this.#clock.now(), rowIdOf(id)];
      const row = this.#db.get<ConflictRow>(SQL.resolve, ...params);
      if (row !== undefined) return toRecord(row);
      const stored = this.#byId(id);
      if (stored === null) throw notFound(id);
      throw new InputError(
        'CONFLICT_NOT_OPEN',
        `Conflict ${id} is ${stored.status}, not open: only an open conflict can be resolved (list the open ones with status 'open').`,
        409,
        { conflictId: id, status: stored.status },
      );
    });
  }

  prune(olderThan: number): Promise<number> {
    return this.#db.deleteInBatches(SQL.prune, olderThan);
  }

  /**
   * The conflicts of an outcome commit, inside the caller's transaction: adds first, then closes, so a run
   * that reports a conflict again and closes it in the same commit leaves it closed. `linkId` stands for
   * the `''` link id of an input (the link the same commit saved); `runId` is the committing run, recorded
   * on the rows it closes. Throws InputError for an input the inbox cannot hold, NotFoundError when its
   * link does not exist.
   */
  commitSync(
    changes: ConflictChanges,
    context: { readonly linkId: string | null; readonly runId: string; readonly now: number },
  ): void {
    for (const conflict of changes.add ?? []) {
      this.#add(conflict, conflict.linkId === '' ? context.linkId : conflict.linkId, context.now);
    }
    for (const { id, resolution } of changes.close ?? []) {
      assertResolution(resolution);
      // An id that matches nothing was closed and pruned since: closing it again changes nothing.
      this.#db.run(SQL.close, JSON.stringify(resolution), context.runId, context.now, rowIdOf(id));
    }
  }

  #add(conflict: ConflictInput, linkId: string | null, now: number): void {
    assertInput(conflict);
    if (linkId === null) {
      throw new InputError(
        'CONFLICT_LINK_MISSING',
        `A conflict of field ${conflict.field} has linkId '' (the link of this commit), but the commit saves no link; pass the link's id.`,
      );
    }
    const linkRowId = rowIdOf(linkId);
    if (linkRowId === null) throw linkNotFound(linkId);
    const parked = conflict.outcome === 'parked';
    const resolution = parked ? null : (conflict.resolution ?? policyResolution(conflict, now));
    const { field, item, attribute } = conflict;
    const params: SqlParam[] = [
      conflict.flow,
      linkRowId,
      field,
      item,
      attribute,
      JSON.stringify([field, item, attribute]),
      JSON.stringify(conflict.a),
      JSON.stringify(conflict.b),
      JSON.stringify(conflict.base.a),
      JSON.stringify(conflict.base.b),
      conflict.policy,
      conflict.outcome,
      parked ? 'open' : 'closed',
      resolution === null ? null : JSON.stringify(resolution),
      conflict.runId ?? null,
      now,
      now,
    ];
    try {
      this.#db.run(SQL.add, ...params);
    } catch (error) {
      if ((error as { errcode?: unknown } | null)?.errcode === SQLITE_CONSTRAINT_FOREIGNKEY)
        throw linkNotFound(linkId);
      throw error;
    }
  }

  #byId(id: string): ConflictRecord | null {
    const row = this.#db.get<ConflictRow>(SQL.byId, rowIdOf(id));
    return row === undefined ? null : toRecord(row);
  }
}

/** The resolution of a conflict a policy settled: the winner's value for both sides. */
function policyResolution(conflict: ConflictInput, at: number): ConflictResolution {
  const take = conflict.outcome === 'a' ? 'a' : 'b';
  return { take, value: take === 'a' ? conflict.a : conflict.b, by: 'policy', at };
}

/** Refuses, before any write, a conflict the inbox cannot hold (a caller's bug, not retryable). */
function assertInput(conflict: ConflictInput): void {
  const problem = problemOf(conflict);
  if (problem === null) return;
  throw new InputError(
    'CONFLICT_INVALID',
    `A conflict of link ${conflict.linkId} (field ${String(conflict.field)}) needs ${problem}.`,
  );
}

/** What `conflict` lacks, or null. */
function problemOf(conflict: ConflictInput): string | null {
  if (typeof conflict.field !== 'string' || conflict.field === '') return 'a field name';
  if (conflict.item === undefined || conflict.attribute === undefined)
    return 'item and attribute (null when not applicable)';
  if (!OUTCOMES.includes(conflict.outcome)) return "outcome 'a', 'b' or 'parked'";
  const values = [conflict.a, conflict.b, conflict.base?.a, conflict.base?.b];
  if (values.some((value) => value === undefined)) return 'values a, b, base.a and base.b (null for none)';
  if (conflict.outcome === 'parked' && (conflict.resolution ?? null) !== null)
    return 'no resolution while parked';
  return null;
}

function assertResolution(resolution: ConflictResolution): void {
  const valid =
    TAKES.includes(resolution.take) &&
    resolution.value !== undefined &&
    typeof resolution.by === 'string' &&
    resolution.by !== '' &&
    Number.isFinite(resolution.at);
  if (!valid) {
    throw new InputError(
      'CONFLICT_RESOLUTION_INVALID',
      `A conflict resolution needs take 'a', 'b' or 'value', a JSON value, who settled it (by) and when (at); got ${JSON.stringify(resolution)}.`,
    );
  }
}

function notFound(id: string): NotFoundError {
  return new NotFoundError('CONFLICT_NOT_FOUND', `Conflict ${id} does not exist (closed ones are pruned).`);
}

function linkNotFound(linkId: string): NotFoundError {
  return new NotFoundError(
    'LINK_NOT_FOUND',
    `A conflict names link ${linkId}, which does not exist; a conflict of a link created in the same commit has linkId ''.`,
  );
}

function toRecord(row: ConflictRow): ConflictRecord {
  return {
    id: String(row.id),
    flow: row.flow,
    linkId: String(row.link_id),
    field: row.field,
    item: row.item,
    attribute: row.attribute,
    a: parseJson<JsonValue>(row.value_a),
    b: parseJson<JsonValue>(row.value_b),
    base: { a: parseJson<JsonValue>(row.base_a), b: parseJson<JsonValue>(row.base_b) },
    policy: row.policy,
    outcome: row.outcome,
    status: row.status,
    resolution: parseJsonOrNull<ConflictResolution>(row.resolution),
    runId: row.run_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
