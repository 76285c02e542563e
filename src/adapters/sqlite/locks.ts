/**
 * Locks with a TTL in one SQLite table. Each operation is a single statement, hence atomic across the
 * processes that share the file; a fenced acquire is one transaction (take the lock, issue the fence).
 */
import { randomUUID } from 'node:crypto';
import { FenceStaleError, InputError } from '../../core/errors.ts';
import type { Clock } from '../../ports/clock.ts';
import type { FencedLock, Locks } from '../../ports/locks.ts';
import type { SqliteDatabase } from './database.ts';

const SQL = {
  // Takes a free key, or an expired lock of someone else; a live lock makes the upsert change nothing.
  acquire: `INSERT INTO locks (key, token, expires_at) VALUES (?, ?, ?)
            ON CONFLICT (key) DO UPDATE SET token = excluded.token, expires_at = excluded.expires_at
            WHERE locks.expires_at <= ?`,
  issueFence: `INSERT INTO lock_fences (key, fence) VALUES (?, 1)
               ON CONFLICT (key) DO UPDATE SET fence = fence + 1
               RETURNING fence`,
  currentFence: 'SELECT fence FROM lock_fences WHERE key = ?',
  release: 'DELETE FROM locks WHERE key = ? AND token = ? RETURNING expires_at',
  extend: 'UPDATE locks SET expires_at = ? WHERE key = ? AND token = ? AND expires_at > ?',
  // One batch (see SqliteDatabase.deleteInBatches).
  prune: 'DELETE FROM locks WHERE key IN (SELECT key FROM locks WHERE expires_at <= ? LIMIT ?)',
} as const;

/** Locks port on SQLite. */
export class SqliteLocks implements Locks {
  readonly #db: SqliteDatabase;
  readonly #clock: Clock;

  constructor(database: SqliteDatabase, clock: Clock) {
    this.#db = database;
    this.#clock = clock;
  }

  acquire(key: string, ttlMs: number): Promise<string | null> {
    return this.#db.autocommit(() => this.#acquire(key, ttlMs));
  }

  #acquire(key: string, ttlMs: number): string | null {
    requireTtl(ttlMs);
    const now = this.#clock.now();
    const token = randomUUID();
    return this.#db.run(SQL.acquire, key, token, now + ttlMs, now).changes === 1 ? token : null;
  }

  acquireFenced(key: string, ttlMs: number): Promise<FencedLock | null> {
    return this.#db.transaction(() => {
      const token = this.#acquire(key, ttlMs);
      if (token === null) return null;
      return { token, fence: this.#db.get<{ fence: number }>(SQL.issueFence, key)!.fence };
    });
  }

  /**
   * Throws {@link FenceStaleError} unless `fence` is the last fence issued for `key`; for the outcome
   * commit, inside its transaction.
   */
  checkFenceSync(key: string, fence: number): void {
    const current = this.#db.get<{ fence: number }>(SQL.currentFence, key)?.fence ?? null;
    if (current !== fence) throw new FenceStaleError(key, fence, current);
  }

  release(key: string, token: string): Promise<boolean> {
    return this.#db.autocommit(() => {
      // An expired lock of ours is removed too (nobody holds it), but the holder learns that it had lapsed.
      const row = this.#db.get<{ expires_at: number }>(SQL.release, key, token);
      return row !== undefined && row.expires_at > this.#clock.now();
    });
  }

  extend(key: string, token: string, ttlMs: number): Promise<boolean> {
    return this.#db.autocommit(() => {
      requireTtl(ttlMs);
      const now = this.#clock.now();
      return this.#db.run(SQL.extend, now + ttlMs, key, token, now).changes === 1;
    });
  }

  prune(): Promise<number> {
    return this.#db.deleteInBatches(SQL.prune, this.#clock.now());
  }
}

function requireTtl(ttlMs: number): void {
  if (!Number.isSafeInteger(ttlMs) || ttlMs < 1) {
    throw new InputError(
      'LOCK_TTL_INVALID',
      `A lock TTL must be a positive integer of milliseconds, got ${ttlMs}.`,
    );
  }
}
