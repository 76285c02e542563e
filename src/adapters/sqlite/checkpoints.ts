/**
 * Checkpoints on SQLite. Values are stored as canonical JSON, so compare-and-set is one atomic statement
 * that compares text: equal JSON values (whatever their key order) have equal text.
 */
import type { JsonValue } from '../../core/types.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Checkpoint, CheckpointRepository } from '../../ports/store.ts';
import type { Row, SqliteDatabase } from './database.ts';
import { canonicalJson } from '../../core/canonical.ts';
import { parseJson } from './values.ts';

interface CheckpointRow extends Row {
  name: string;
  value: string;
  updated_at: number;
}

const SQL = {
  get: 'SELECT * FROM checkpoints WHERE name = ?',
  set: `INSERT INTO checkpoints (name, value, updated_at) VALUES (?, ?, ?)
        ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
  // Expected "absent" also matches a stored JSON null: get() cannot tell the two apart either.
  createIfAbsent: `INSERT INTO checkpoints (name, value, updated_at) VALUES (?, ?, ?)
                   ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
                   WHERE checkpoints.value = 'null'`,
  replaceIfEqual: 'UPDATE checkpoints SET value = ?, updated_at = ? WHERE name = ? AND value = ?',
  delete: 'DELETE FROM checkpoints WHERE name = ?',
} as const;

/** CheckpointRepository on SQLite. */
export class SqliteCheckpointRepository implements CheckpointRepository {
  readonly #db: SqliteDatabase;
  readonly #clock: Clock;

  constructor(database: SqliteDatabase, clock: Clock) {
    this.#db = database;
    this.#clock = clock;
  }

  get(name: string): Promise<Checkpoint | null> {
    return this.#db.autocommit(() => {
      const row = this.#db.get<CheckpointRow>(SQL.get, name);
      return row === undefined
        ? null
        : { name: row.name, value: parseJson(row.value), updatedAt: row.updated_at };
    });
  }

  set(name: string, value: JsonValue): Promise<void> {
    return this.#db.autocommit(() => {
      this.#db.run(SQL.set, name, canonicalJson(value), this.#clock.now());
    });
  }

  compareAndSet(name: string, expected: JsonValue | null, value: JsonValue): Promise<boolean> {
    return this.#db.autocommit(() => {
      const now = this.#clock.now();
      const text = canonicalJson(value);
      const { changes } =
        expected === null
          ? this.#db.run(SQL.createIfAbsent, name, text, now)
          : this.#db.run(SQL.replaceIfEqual, text, now, name, canonicalJson(expected));
      return changes === 1;
    });
  }

  delete(name: string): Promise<void> {
    return this.#db.autocommit(() => {
      this.#db.run(SQL.delete, name);
    });
  }
}
