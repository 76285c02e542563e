/**
 * One SQLite connection (node:sqlite, synchronous) shared by the queue, the locks and the store of a backend:
 * pragmas, a statement cache, transactions, and the translation of driver errors into StorageError.
 *
 * A transaction's work runs synchronously between its BEGIN and its COMMIT, inside one tick, so two async
 * callers on the same connection never interleave inside a transaction. Other processes may share the file;
 * BEGIN IMMEDIATE takes the write lock up front, which avoids the SQLITE_BUSY that a read transaction gets
 * when it tries to upgrade to a write while another process writes.
 *
 * Waiting for another process's write lock never blocks the event loop: node:sqlite would wait out
 * `busy_timeout` synchronously, stopping every timer of the process (heartbeats, lock extension, ingest). So
 * the driver's busy timeout is 0, and an operation that meets SQLITE_BUSY (at BEGIN IMMEDIATE, or in an
 * autocommit statement) is tried again after a short, growing, jittered pause (a timer), until the configured
 * busy budget is used up; then it fails with a retryable StorageError.
 */
import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import { setImmediate as nextTurn, setTimeout as delay } from 'node:timers/promises';
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

/** The first pause after SQLITE_BUSY; each further pause doubles, up to {@link MAX_BUSY_PAUSE_MS}. */
const FIRST_BUSY_PAUSE_MS = 1;
/** Short enough that a freed lock is taken soon, long enough that waiting costs next to no CPU. */
const MAX_BUSY_PAUSE_MS = 25;

/** Rows one batch of {@link SqliteDatabase.deleteInBatches} deletes at most. */
export const DELETE_BATCH_ROWS = 1_000;

/** What an attempt returns when the file was busy: nothing was done, try again later. */
const BUSY: unique symbol = Symbol('SQLITE_BUSY');

/** An open SQLite file with cached prepared statements. */
export class SqliteDatabase {
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();
  readonly #path: string;
  readonly #busyTimeoutMs: number;

  private constructor(db: DatabaseSync, path: string, busyTimeoutMs: number) {
    this.#db = db;
    this.#path = path;
    this.#busyTimeoutMs = busyTimeoutMs;
  }

  /**
   * Opens (creating parent folders and the file as needed) and applies the pragmas. `process` durability is
   * WAL with synchronous=NORMAL: a commit is in the WAL before it returns, so it survives a crash of the
   * process, but the last commits may be lost on power loss. `power` uses synchronous=FULL: every commit is
   * fsynced, so it also survives power loss, at the price of one fsync per commit.
   *
   * The file holds cached access tokens, so only its owner may read it: a new file is created with mode 0600
   * (SQLite gives its -wal and -shm files the mode of the main file), and an existing file of ours that
   * others may read is tightened to 0600 (with its -wal and -shm).
   */
  static open(options: DatabaseOptions): SqliteDatabase {
    let db: DatabaseSync | undefined;
    try {
      if (options.path !== ':memory:') {
        mkdirSync(dirname(options.path), { recursive: true });
        restrictToOwner(options.path);
      }
      db = new DatabaseSync(options.path, { timeout: 0 });
      const database = new SqliteDatabase(db, options.path, Math.max(0, Math.floor(options.busyTimeoutMs)));
      database.#waitingSynchronously(() => {
        db!.exec('PRAGMA journal_mode = WAL');
        db!.exec(`PRAGMA synchronous = ${options.durability === 'power' ? 'FULL' : 'NORMAL'}`);
        db!.exec('PRAGMA foreign_keys = ON');
      });
      return database;
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
   * Runs `work` in a write transaction (BEGIN IMMEDIATE) and commits; rolls back if it throws. `work` runs
   * synchronously between BEGIN and COMMIT, so nothing else on this connection interleaves with it. While
   * another connection holds the write lock, BEGIN is retried asynchronously (see the module comment); `work`
   * only runs once the lock is ours. Settles as a promise: the ports are async, and their callers must never
   * see a synchronous throw. Driver errors become StorageError; deliberate crmsync errors (InputError,
   * LeaseLostError, ...) pass through unchanged.
   */
  transaction<T>(work: () => T): Promise<T> {
    return this.#retryWhileBusy(() => this.#guard(() => this.#inTransaction(work)));
  }

  /**
   * Runs reads, or at most one writing statement (atomic by itself), without an explicit transaction; settles
   * like {@link transaction}. A statement that fails with SQLITE_BUSY has changed nothing, so on SQLITE_BUSY
   * the whole of `work` is run again later: it must not write more than once.
   */
  autocommit<T>(work: () => T): Promise<T> {
    return this.#retryWhileBusy(() =>
      this.#guard(() => {
        try {
          return work();
        } catch (error) {
          if (isBusy(error) && !this.#db.isTransaction) return BUSY;
          throw error;
        }
      }),
    );
  }

  /**
   * Runs `sql`, a DELETE of at most as many rows as its last parameter (bound to {@link DELETE_BATCH_ROWS},
   * after `params`), again and again until a batch deletes fewer, each batch its own commit, with a turn of
   * the event loop between batches: a large prune never holds the write lock, or the event loop, for longer
   * than one batch. Returns how many rows were deleted (cascaded rows not counted).
   */
  async deleteInBatches(sql: string, ...params: SqlParam[]): Promise<number> {
    let deleted = 0;
    for (;;) {
      const { changes } = await this.autocommit(() => this.run(sql, ...params, DELETE_BATCH_ROWS));
      deleted += changes;
      if (changes < DELETE_BATCH_ROWS) return deleted;
      await nextTurn();
    }
  }

  /**
   * {@link transaction}, synchronously, for migrations while the backend opens. This one blocks while it
   * waits for the write lock (up to the busy budget): opening is synchronous (`openSqliteBackend` returns the
   * backend, not a promise) and happens before the process serves anything, so no timer has work to do yet.
   */
  transactionSync<T>(work: () => T): T {
    return this.#waitingSynchronously(() =>
      this.#guard(() => {
        const result = this.#inTransaction(work);
        if (result === BUSY) throw new StorageError(this.#busyMessage());
        return result;
      }),
    );
  }

  /** BEGIN IMMEDIATE, `work`, COMMIT; {@link BUSY} when BEGIN found the write lock taken (nothing ran). */
  #inTransaction<T>(work: () => T): T | typeof BUSY {
    try {
      this.#db.exec('BEGIN IMMEDIATE');
    } catch (error) {
      if (isBusy(error)) return BUSY;
      throw error;
    }
    try {
      const result = work();
      this.#db.exec('COMMIT');
      return result;
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      throw error;
    }
  }

  /**
   * Runs `attempt` now (in the caller's tick, so uncontended calls keep their order) and, while it returns
   * {@link BUSY}, again after pauses of 1, 2, 4, ... ms (capped, with jitter so that waiting processes do not
   * retry in step) until the busy budget is used up.
   */
  async #retryWhileBusy<T>(attempt: () => T | typeof BUSY): Promise<T> {
    const first = attempt();
    if (first !== BUSY) return first;
    const deadline = performance.now() + this.#busyTimeoutMs;
    for (let pause = FIRST_BUSY_PAUSE_MS; ; pause = Math.min(2 * pause, MAX_BUSY_PAUSE_MS)) {
      const left = deadline - performance.now();
      if (left <= 0) throw new StorageError(this.#busyMessage());
      await delay(Math.min(left, pause * (0.5 + Math.random() / 2)));
      const result = attempt();
      if (result !== BUSY) return result;
    }
  }

  #busyMessage(): string {
    return (
      `SQLite ${this.#path}: another connection held the write lock for longer than the busy timeout ` +
      `(${this.#busyTimeoutMs} ms); nothing was written, try again.`
    );
  }

  /** Runs `work` with the driver waiting (blocking) for locks up to the busy budget; only while opening. */
  #waitingSynchronously<T>(work: () => T): T {
    this.#db.exec(`PRAGMA busy_timeout = ${this.#busyTimeoutMs}`);
    try {
      return work();
    } finally {
      if (this.#db.isOpen) this.#db.exec('PRAGMA busy_timeout = 0');
    }
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

/**
 * Creates `path` with mode 0600 if it is missing, and removes the group and other bits from it and its -wal
 * and -shm files where this process owns them (a file of another user is left to that user).
 */
function restrictToOwner(path: string): void {
  closeSync(openSync(path, 'a', 0o600));
  if (process.platform === 'win32') return;
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    const stat = statSync(file, { throwIfNoEntry: false });
    if (stat !== undefined && stat.uid === process.getuid?.() && (stat.mode & 0o077) !== 0) {
      chmodSync(file, stat.mode & 0o700);
    }
  }
}

/** Whether a driver error is SQLITE_BUSY (any extended code): another connection holds a lock. */
function isBusy(error: unknown): boolean {
  const code = (error as { errcode?: unknown } | null)?.errcode;
  return typeof code === 'number' && (code & 0xff) === 5;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
