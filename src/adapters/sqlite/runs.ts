/** Run history on SQLite. */
import { NotFoundError } from '../../core/errors.ts';
import type { FieldChange, RunOutcome } from '../../core/types.ts';
import type { Run, RunFinish, RunQuery, RunRepository, RunStart } from '../../ports/store.ts';
import type { Row, SqliteDatabase } from './database.ts';
import { Filter, cursorOf, limitOf, parseJson, rowIdOf } from './values.ts';
import type { SqlQuery } from './values.ts';

interface RunRow extends Row {
  id: number;
  job_id: string;
  flow: string;
  ref_connection: string;
  ref_entity_type: string;
  ref_id: string;
  attempt: number;
  outcome: RunOutcome | null;
  reason: string | null;
  error_code: string | null;
  error_message: string | null;
  changes: string;
  intended_changes: string;
  api_calls: number;
  display_name: string | null;
  owner_name: string | null;
  started_at: number;
  finished_at: number | null;
}

const SQL = {
  start: `INSERT INTO runs (job_id, flow, ref_connection, ref_entity_type, ref_id, attempt, started_at)
          VALUES (?, ?, ?, ?, ?, ?, ?)`,
  // A name that is not given keeps the one already known.
  setNames: `UPDATE runs SET display_name = CASE WHEN ? THEN ? ELSE display_name END,
               owner_name = CASE WHEN ? THEN ? ELSE owner_name END
             WHERE id = ?`,
  finish: `UPDATE runs SET outcome = ?, reason = ?, error_code = ?, error_message = ?, changes = ?, api_calls = ?,
             finished_at = ?
           WHERE id = ? AND outcome IS NULL`,
  endAbandoned: `UPDATE runs SET outcome = 'FAILED', error_code = ?, error_message = ?, finished_at = ?
                 WHERE job_id = ? AND outcome IS NULL`,
  recordIntent: 'UPDATE runs SET intended_changes = ? WHERE id = ?',
  byId: 'SELECT * FROM runs WHERE id = ?',
  // Runs whose worker died never finish; they go once they started before the cutoff. One batch (see
  // SqliteDatabase.deleteInBatches).
  prune: `DELETE FROM runs WHERE id IN (SELECT id FROM runs WHERE coalesce(finished_at, started_at) < ? LIMIT ?)`,
} as const;

/** RunRepository on SQLite. */
export class SqliteRunRepository implements RunRepository {
  readonly #db: SqliteDatabase;

  constructor(database: SqliteDatabase) {
    this.#db = database;
  }

  start(run: RunStart): Promise<string> {
    return this.#db.autocommit(() => this.startSync(run));
  }

  /** {@link start} inside the caller's transaction (see SqliteJobAttempts). */
  startSync(run: RunStart): string {
    const { ref } = run;
    const values = [run.jobId, run.flow, ref.connection, ref.entityType, ref.id, run.attempt, run.startedAt];
    return String(this.#db.run(SQL.start, ...values).lastInsertRowid);
  }

  setNames(runId: string, names: { displayName?: string | null; ownerName?: string | null }): Promise<void> {
    return this.#db.autocommit(() => {
      const { changes } = this.#db.run(
        SQL.setNames,
        names.displayName === undefined ? 0 : 1,
        names.displayName ?? null,
        names.ownerName === undefined ? 0 : 1,
        names.ownerName ?? null,
        rowIdOf(runId),
      );
      if (changes === 0) throw notFound(runId);
    });
  }

  recordIntent(runId: string, changes: readonly FieldChange[]): Promise<void> {
    return this.#db.autocommit(() => {
      const { changes: updated } = this.#db.run(SQL.recordIntent, JSON.stringify(changes), rowIdOf(runId));
      if (updated === 0) throw notFound(runId);
    });
  }

  finish(runId: string, result: RunFinish): Promise<boolean> {
    return this.#db.autocommit(() => this.finishSync(runId, result));
  }

  /** {@link finish} inside the caller's transaction (see SqliteJobAttempts). */
  finishSync(runId: string, result: RunFinish): boolean {
    const id = rowIdOf(runId);
    const { changes } = this.#db.run(
      SQL.finish,
      result.outcome,
      result.reason ?? null,
      result.error?.code ?? null,
      result.error?.message ?? null,
      JSON.stringify(result.changes ?? []),
      result.apiCalls ?? 0,
      result.finishedAt,
      id,
    );
    if (changes === 0 && this.#db.get(SQL.byId, id) === undefined) throw notFound(runId);
    return changes > 0;
  }

  /**
   * Ends every run of `jobId` still in progress as FAILED with `error`: the queue calls it, inside its lease
   * recovery, for a job whose worker stopped heartbeating, so the dead attempt's run does not stay open.
   */
  endAbandonedSync(jobId: string, error: { code: string; message: string }, finishedAt: number): void {
    this.#db.run(SQL.endAbandoned, error.code, error.message, finishedAt, jobId);
  }

  get(runId: string): Promise<Run | null> {
    return this.#db.autocommit(() => {
      const row = this.#db.get<RunRow>(SQL.byId, rowIdOf(runId));
      return row === undefined ? null : toRun(row);
    });
  }

  list(query: RunQuery = {}): Promise<Run[]> {
    return this.#db.autocommit(() => {
      const { sql, params } = listRunsQuery(query);
      return this.#db.all<RunRow>(sql, ...params).map(toRun);
    });
  }

  prune(olderThan: number): Promise<number> {
    return this.#db.deleteInBatches(SQL.prune, olderThan);
  }
}

/**
 * The SELECT of {@link SqliteRunRepository.list}: newest first by start time, then id. Every filter of
 * `runs list` has an index ending in started_at (migration 4), so SQLite walks it backwards from `since` (or
 * from the cursor run) and stops at the limit; several outcomes are one index walk each, merged.
 */
function listRunsQuery(query: RunQuery): SqlQuery {
  return new Filter()
    .whenAny(query.outcomes, 'outcome = ?')
    .when(query.flow, 'flow = ?', (flow) => [flow])
    .when(query.jobId, 'job_id = ?', (jobId) => [jobId])
    .when(query.ref, 'ref_connection = ? AND ref_entity_type = ? AND ref_id = ?', (ref) => [
      ref.connection,
      ref.entityType,
      ref.id,
    ])
    .when(query.since, 'started_at >= ?', (since) => [since])
    .when(query.beforeId, '(started_at, id) < (SELECT started_at, id FROM runs WHERE id = ?)', (beforeId) => [
      cursorOf(beforeId, 'beforeId'),
    ])
    .select('*', 'runs', 'started_at DESC, id DESC', limitOf(query.limit, 50));
}

function notFound(runId: string): NotFoundError {
  return new NotFoundError('RUN_NOT_FOUND', `Run ${runId} does not exist (it may have been pruned).`);
}

function toRun(row: RunRow): Run {
  return {
    id: String(row.id),
    jobId: row.job_id,
    flow: row.flow,
    ref: { connection: row.ref_connection, entityType: row.ref_entity_type, id: row.ref_id },
    attempt: row.attempt,
    outcome: row.outcome,
    reason: row.reason,
    error: row.error_code === null ? null : { code: row.error_code, message: row.error_message ?? '' },
    changes: parseJson<FieldChange[]>(row.changes),
    intendedChanges: parseJson<FieldChange[]>(row.intended_changes),
    apiCalls: row.api_calls,
    displayName: row.display_name,
    ownerName: row.owner_name,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    durationMs: row.finished_at === null ? null : row.finished_at - row.started_at,
  };
}
