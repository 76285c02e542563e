/** The write ledger on SQLite: what the engine wrote, so that the webhook echo of its own write is recognised. */
import type { RecordRef } from '../../core/types.ts';
import type { LedgerEntry, WriteLedger } from '../../ports/store.ts';
import type { Row, SqliteDatabase } from './database.ts';

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

const SQL = {
  insert: `INSERT INTO write_ledger (ref_connection, ref_entity_type, ref_id, field, value_hash, version, run_id,
             written_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  find: `SELECT * FROM write_ledger
         WHERE ref_connection = ? AND ref_entity_type = ? AND ref_id = ? AND written_at >= ?
         ORDER BY written_at DESC, id DESC`,
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
      for (const entry of entries) {
        this.#db.run(
          SQL.insert,
          entry.ref.connection,
          entry.ref.entityType,
          entry.ref.id,
          entry.field,
          entry.valueHash,
          entry.version ?? null,
          entry.runId ?? null,
          entry.writtenAt,
        );
      }
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
