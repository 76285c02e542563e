/** Small per-connection values (cached tokens, discovered URLs) on SQLite, with optional expiry. */
import type { JsonValue } from '../../core/types.ts';
import type { Clock } from '../../ports/clock.ts';
import type { ConnectorStateRepository } from '../../ports/store.ts';
import type { SqliteDatabase } from './database.ts';
import { parseJson } from './values.ts';

const SQL = {
  get: `SELECT value FROM connector_state
        WHERE connection = ? AND key = ? AND (expires_at IS NULL OR expires_at > ?)`,
  set: `INSERT INTO connector_state (connection, key, value, expires_at, updated_at) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (connection, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at,
          updated_at = excluded.updated_at`,
  delete: 'DELETE FROM connector_state WHERE connection = ? AND key = ?',
  // One batch (see SqliteDatabase.deleteInBatches).
  prune: `DELETE FROM connector_state WHERE (connection, key) IN (SELECT connection, key FROM connector_state
            WHERE expires_at IS NOT NULL AND expires_at <= ? LIMIT ?)`,
} as const;

/** ConnectorStateRepository on SQLite. An expired value reads as absent and is overwritten by the next set. */
export class SqliteConnectorStateRepository implements ConnectorStateRepository {
  readonly #db: SqliteDatabase;
  readonly #clock: Clock;

  constructor(database: SqliteDatabase, clock: Clock) {
    this.#db = database;
    this.#clock = clock;
  }

  get(connection: string, key: string): Promise<JsonValue | null> {
    return this.#db.autocommit(() => {
      const row = this.#db.get<{ value: string }>(SQL.get, connection, key, this.#clock.now());
      return row === undefined ? null : parseJson(row.value);
    });
  }

  set(connection: string, key: string, value: JsonValue, expiresAt: number | null = null): Promise<void> {
    return this.#db.autocommit(() => {
      this.#db.run(SQL.set, connection, key, JSON.stringify(value), expiresAt, this.#clock.now());
    });
  }

  delete(connection: string, key: string): Promise<void> {
    return this.#db.autocommit(() => {
      this.#db.run(SQL.delete, connection, key);
    });
  }

  prune(): Promise<number> {
    return this.#db.deleteInBatches(SQL.prune, this.#clock.now());
  }
}
