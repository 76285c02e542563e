/**
 * The write ledger on SQLite: what the engine wrote, so that the webhook echo of its own write is recognised.
 * Entries go intent -> confirmed -> consumed (see WriteLedger); the outcome commit confirms and consumes
 * inside the transaction of JobAttempts.end.
 */
import { StaleWriteError } from '../../core/errors.ts';
import type { RecordRef } from '../../core/types.ts';
import type {
  EchoMatch,
  EchoQuery,
  LedgerConfirmation,
  LedgerEntry,
  LedgerIntent,
  WriteLedger,
} from '../../ports/store.ts';
import type { Row, SqlParam, SqliteDatabase } from './database.ts';
import { rowIdOf } from './values.ts';

interface LedgerRow extends Row {
  ref_connection: string;
  ref_entity_type: string;
  ref_id: string;
  field: string;
  value_hash: string;
  version: string | null;
  run_id: string | null;
  written_at: number;
}

interface OpenEntryRow extends Row {
  id: number;
  field: string;
  value_hash: string;
  version: string | null;
  run_id: string | null;
}

const SQL = {
  insert: `INSERT INTO write_ledger (ref_connection, ref_entity_type, ref_id, field, value_hash, version, run_id,
             written_at, state)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           RETURNING id`,
  find: `SELECT * FROM write_ledger
         WHERE ref_connection = ? AND ref_entity_type = ? AND ref_id = ? AND written_at >= ?
         ORDER BY written_at DESC, id DESC`,
  open: `SELECT id, field, value_hash, version, run_id FROM write_ledger
         WHERE ref_connection = ? AND ref_entity_type = ? AND ref_id = ? AND state IN ('intent', 'confirmed')
         ORDER BY written_at DESC, id DESC`,
  confirm: `UPDATE write_ledger SET state = 'confirmed', version = ? WHERE id = ? AND state = 'intent'`,
  consume: `UPDATE write_ledger SET state = 'consumed', closed_at = ?
            WHERE id = ? AND state IN ('intent', 'confirmed')`,
  // Every open entry of a record but those a commit just confirmed (their ids are excluded by json_each).
  supersede: `UPDATE write_ledger SET state = 'superseded', closed_at = ?
              WHERE ref_connection = ? AND ref_entity_type = ? AND ref_id = ? AND state IN ('intent', 'confirmed')
                AND id NOT IN (SELECT value FROM json_each(?))`,
  // One batch (see SqliteDatabase.deleteInBatches).
  prune: `DELETE FROM write_ledger WHERE id IN (SELECT id FROM write_ledger WHERE written_at < ? LIMIT ?)`,
} as const;

/** WriteLedger on SQLite. */
export class SqliteWriteLedger implements WriteLedger {
  readonly #db: SqliteDatabase;

  constructor(database: SqliteDatabase) {
    this.#db = database;
  }

  record(entries: readonly LedgerEntry[]): Promise<void> {
    return this.#db.transaction(() => {
      for (const entry of entries) this.#insert(entry, entry.version ?? null, 'confirmed');
    });
  }

  recordIntents(intents: readonly LedgerIntent[]): Promise<string[]> {
    return this.#db.transaction(() => intents.map((intent) => this.#insert(intent, null, 'intent')));
  }

  matchEcho(ref: RecordRef, query: EchoQuery): Promise<EchoMatch | null> {
    return this.#db.autocommit(() => {
      const open = this.#db.all<OpenEntryRow>(SQL.open, ref.connection, ref.entityType, ref.id);
      const version = query.version ?? null;
      const byVersion = version === null ? [] : open.filter((row) => row.version === version);
      if (byVersion.length > 0) return matchOf('version', byVersion);
      const fields = Object.entries(query.fields);
      const byFields: OpenEntryRow[] = [];
      for (const [field, hash] of fields) {
        // Newest first: the latest write of that field and value.
        const row = open.find((entry) => entry.field === field && entry.value_hash === hash);
        if (row === undefined) return null;
        byFields.push(row);
      }
      return byFields.length === 0 ? null : matchOf('fields', byFields);
    });
  }

  find(ref: RecordRef, since: number): Promise<LedgerEntry[]> {
    return this.#db.autocommit(() =>
      this.#db.all<LedgerRow>(SQL.find, ref.connection, ref.entityType, ref.id, since).map(toEntry),
    );
  }

  prune(olderThan: number): Promise<number> {
    return this.#db.deleteInBatches(SQL.prune, olderThan);
  }

  /**
   * Confirms intents, consumes matched entries, and supersedes the other open entries of `supersede` (the
   * records of a saved link), inside the caller's transaction. Throws StaleWriteError when an entry is no
   * longer in the state the run found it in (another run consumed it, or it was pruned).
   */
  settleSync(
    changes: {
      readonly confirm: readonly LedgerConfirmation[];
      readonly consume: readonly string[];
      readonly supersede: readonly RecordRef[];
    },
    now: number,
  ): void {
    for (const { id, version } of changes.confirm) {
      if (this.#db.run(SQL.confirm, version ?? null, rowIdOf(id)).changes !== 1)
        throw goneError(id, 'intent');
    }
    for (const id of changes.consume) {
      if (this.#db.run(SQL.consume, now, rowIdOf(id)).changes !== 1) throw goneError(id, 'open entry');
    }
    const kept = JSON.stringify(changes.confirm.map(({ id }) => rowIdOf(id)));
    for (const ref of changes.supersede) {
      this.#db.run(SQL.supersede, now, ref.connection, ref.entityType, ref.id, kept);
    }
  }

  #insert(entry: LedgerIntent, version: string | null, state: 'intent' | 'confirmed'): string {
    const params: SqlParam[] = [
      entry.ref.connection,
      entry.ref.entityType,
      entry.ref.id,
      entry.field,
      entry.valueHash,
      version,
      entry.runId ?? null,
      entry.writtenAt,
      state,
    ];
    return String(this.#db.get<{ id: number }>(SQL.insert, ...params)!.id);
  }
}

function matchOf(by: EchoMatch['by'], rows: readonly OpenEntryRow[]): EchoMatch {
  const entryIds = [...new Set(rows.map((row) => String(row.id)))];
  const runIds = [...new Set(rows.flatMap((row) => (row.run_id === null ? [] : [row.run_id])))];
  return { by, entryIds, runIds };
}

function goneError(id: string, what: string): StaleWriteError {
  return new StaleWriteError(
    `Ledger entry ${id} is no longer an ${what} (another run consumed it, or it was pruned); run again.`,
    { entryId: id },
  );
}

function toEntry(row: LedgerRow): LedgerEntry {
  return {
    ref: { connection: row.ref_connection, entityType: row.ref_entity_type, id: row.ref_id },
    field: row.field,
    valueHash: row.value_hash,
    version: row.version,
    runId: row.run_id,
    writtenAt: row.written_at,
  };
}
