/**
 * The SQLite backend: store, queue and locks in one file through node:sqlite (built into Node, no native
 * addon). Several processes may share the file (WAL mode; writers wait up to `busyTimeoutMs` for each other,
 * without blocking the event loop).
 */
import { DEFAULT_BACKOFF } from '../../core/backoff.ts';
import type { Backend } from '../../ports/backend.ts';
import { systemClock } from '../../ports/clock.ts';
import type { Clock } from '../../ports/clock.ts';
import type { QueueSettings } from '../../ports/queue.ts';
import { SqliteDatabase } from './database.ts';
import type { Durability } from './database.ts';
import { SqliteLocks } from './locks.ts';
import { migrate } from './migrations.ts';
import { SqliteQueue } from './queue.ts';
import { SqliteJobAttempts } from './attempts.ts';
import { SqliteStore } from './store.ts';

/** Options of {@link openSqliteBackend}. */
export interface SqliteBackendOptions {
  /** The database file; missing parent folders are created. Callers default to ./data/crmsync.db. */
  path: string;
  /**
   * `process`: WAL with synchronous=NORMAL, a commit survives a crash of the process (not of the machine).
   * `power`: synchronous=FULL, every commit is fsynced and survives power loss too.
   */
  durability: Durability;
  /** Source of every time the backend reads (default: the system clock). */
  clock?: Clock;
  /** Queue settings; defaults: 5 attempts, DEFAULT_BACKOFF, 100 payloads per job. */
  queue?: Partial<QueueSettings>;
  /** Jitter source for retry backoff, [0, 1) (default Math.random). */
  random?: () => number;
  /**
   * How long an operation waits for another process's write lock before failing with a retryable
   * StorageError (default 5000 ms). The wait is a series of short timers, never a blocking call.
   */
  busyTimeoutMs?: number;
}

/** Queue defaults, the same as the config's (src/config/defaults.ts). */
const DEFAULT_QUEUE_SETTINGS: QueueSettings = {
  maxAttempts: 5,
  backoff: DEFAULT_BACKOFF,
  maxPayloadsPerJob: 100,
};

/** Opens the file (creating it and its folder if needed), applies pending migrations, and returns the backend. */
export function openSqliteBackend(options: SqliteBackendOptions): Backend {
  const clock = options.clock ?? systemClock;
  const database = SqliteDatabase.open({
    path: options.path,
    durability: options.durability,
    busyTimeoutMs: options.busyTimeoutMs ?? 5_000,
  });
  try {
    migrate(database, clock.now());
  } catch (error) {
    database.close();
    throw error;
  }
  const store = new SqliteStore(database, clock);
  const queue = new SqliteQueue({
    database,
    clock,
    settings: {
      maxAttempts: options.queue?.maxAttempts ?? DEFAULT_QUEUE_SETTINGS.maxAttempts,
      backoff: options.queue?.backoff ?? DEFAULT_QUEUE_SETTINGS.backoff,
      maxPayloadsPerJob: options.queue?.maxPayloadsPerJob ?? DEFAULT_QUEUE_SETTINGS.maxPayloadsPerJob,
    },
    random: options.random ?? Math.random,
    // The dead attempt's run ends in the same transaction that recovers its job.
    onLeaseExpired: (jobId, error, now) => store.runs.endAbandonedSync(jobId, error, now),
  });
  const locks = new SqliteLocks(database, clock);
  return {
    store,
    queue,
    attempts: new SqliteJobAttempts({
      database,
      queue,
      runs: store.runs,
      links: store.links,
      conflicts: store.conflicts,
      ledger: store.ledger,
      locks,
      clock,
    }),
    locks,
    close: () => database.autocommit(() => database.close()),
  };
}

export type { Durability } from './database.ts';
