/**
 * One SQLite connection (node:sqlite, synchronous) shared by the queue, the locks and the store of a backend:
 * pragmas, a statement cache, transactions, and the translation of driver errors into StorageError.
 *
 * Everything runs synchronously inside the caller's tick, so two async callers on the same connection never
 * interleave inside a transaction. Other processes may share the file; BEGIN IMMEDIATE takes the write lock
 * up front (waiting up to the busy timeout), which avoids the SQLITE_BUSY that a read transaction gets when it
 * tries to upgrade to a write while another process writes.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { StatementSync } from 'node:sqlite';
import { CrmsyncError, StorageError } from '../../core/errors.ts';

/** How much a commit survives. */
export type Durability = 'process' | 'power';

/** Options of {@link SqliteDatabase.open}. */
export interface DatabaseOptions {
  readonly path: string;
  readonly durability: Durability;
  readonly busyTimeoutMs: number;
}

/** A row as node:sqlite returns it. */
export type Row = Record<string, unknown>;

/** An open SQLite file with cached prepared statements. */
export class SqliteDatabase {
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();
  readonly #path: string;

  private constructor(db: DatabaseSync, path: string) {
    this.#db = db;
    this.#path = path;
  }

  /**
   * Opens (creating parent folders and the file as needed) and applies the pragmas. `process` durability is
   * WAL with synchronous=NORMAL: a commit is in the WAL before it returns, so it survives a crash of the
   * process, but the last commits may be lost on power loss. `power` uses synchronous=FULL: every commit is
   * fsynced, so it also survives power loss, at the price of one fsync per commit.
   */
  static open(options: DatabaseOptions): SqliteDatabase {
    let db: DatabaseSync | undefined;
    try {
      if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
      db = new DatabaseSync(options.path, { timeout: options.busyTimeoutMs });
      db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs))}`);
      db.exec('PRAGMA journal_mode = WAL');
      db.exec(`PRAGMA synchronous = ${options.durability === 'power' ? 'FULL' : 'NORMAL'}`);
      db.exec('PRAGMA foreign_keys = ON');
      return new SqliteDatabase(db, options.path);
    } catch (error) {
      if (db?.isOpen === true) db.close();
      throw new StorageError(
        `Could not open the SQLite database ${options.path}: ${messageOf(error)}`,
        error,
      );
    }
  }

  /** The file this database lives in. */
  get path(): string {
    return this.#path;
  }

  /** A prepared statement for `sql`, prepared once per connection. */
  #statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** First row of `sql`, or undefined. */
  get<T extends Row>(sql: string, ...params: SqlParam[]): T | undefined {
    return this.#statement(sql).get(...params) as T | undefined;
  }

  /** All rows of `sql`. */
  all<T extends Row>(sql: string, ...params: SqlParam[]): T[] {
    return this.#statement(sql).all(...params) as T[];
  }

  /** Runs a writing statement and returns how many rows it changed and the last inserted row id. */
  run(sql: string, ...params: SqlParam[]): { changes: number; lastInsertRowid: number } {
    const result = this.#statement(sql).run(...params);
    return { changes: Number(result.changes), lastInsertRowid: Number(result.lastInsertRowid) };
  }

  /** Runs DDL or several statements (no parameters, not cached). */
  exec(sql: string): void {
    this.#db.exec(sql);
  }

  /**
   * Runs `work` in a write transaction (BEGIN IMMEDIATE) and commits; rolls back if it throws. Settles as a
   * promise: the ports are async, and their callers must never see a synchronous throw. Driver errors become
   * StorageError; deliberate crmsync errors (InputError, LeaseLostError, ...) pass through unchanged.
   */
  transaction<T>(work: () => T): Promise<T> {
    return settle(() => this.transactionSync(work));
  }

  /** Runs reads or single (hence atomic) statements without an explicit transaction; settles like transaction. */
  autocommit<T>(work: () => T): Promise<T> {
    return settle(() => this.#guard(work));
  }

  /** {@link transaction}, synchronously: for migrations while the backend opens. */
  transactionSync<T>(work: () => T): T {
    return this.#guard(() => {
      this.#db.exec('BEGIN IMMEDIATE');
      try {
        const result = work();
        this.#db.exec('COMMIT');
        return result;
      } catch (error) {
        if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
        throw error;
      }
    });
  }

  #guard<T>(work: () => T): T {
    try {
      return work();
    } catch (error) {
      if (error instanceof CrmsyncError) throw error;
      throw new StorageError(`SQLite ${this.#path}: ${messageOf(error)}`, error);
    }
  }

  /** Closes the file. Safe to call twice. */
  close(): void {
    if (!this.#db.isOpen) return;
    this.#statements.clear();
    this.#db.close();
  }
}

/** A value SQLite can bind. */
export type SqlParam = string | number | bigint | null | Uint8Array;

/** The result of `work`, or its error, as a promise (a throw in the executor becomes the rejection). */
function settle<T>(work: () => T): Promise<T> {
  return new Promise((resolve) => resolve(work()));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
