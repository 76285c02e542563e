/**
 * Shared set-up of the engine tests: a real SQLite backend in a temp dir, a silent logger, gates to hold a
 * handler until the test lets it go, and a way to make single backend methods fail.
 */
import { join } from 'node:path';
import { pino } from 'pino';
import { openSqliteBackend } from '../../src/adapters/sqlite/index.ts';
import type { BackoffPolicy } from '../../src/core/backoff.ts';
import type { Backend } from '../../src/ports/backend.ts';
import type { Clock } from '../../src/ports/clock.ts';
import type { Logger } from '../../src/ports/logger.ts';
import { makeTempDir } from '../support/temp-dir.ts';

/** The real logger, dropping everything. */
export const silentLogger: Logger = pino({ level: 'silent' });

/** Options of {@link openTestBackend}. */
export interface TestBackendOptions {
  readonly clock?: Clock;
  readonly maxAttempts?: number;
  readonly backoff?: BackoffPolicy;
}

/** A backend on a fresh database file, and a second connection to the same file (another "process"). */
export interface TestBackend {
  readonly backend: Backend;
  /** The database file. */
  readonly path: string;
  /** Opens another backend on the same file. Closed by {@link TestBackend.close}. */
  openAnother(clock?: Clock): Backend;
  close(): Promise<void>;
}

/** Retries are fast and exact (no jitter) unless a test asks otherwise. */
const FAST_BACKOFF: BackoffPolicy = { baseMs: 10, maxMs: 50, jitter: 0 };

/** Opens a real SQLite backend in a temp dir. */
export function openTestBackend(options: TestBackendOptions = {}): TestBackend {
  const temp = makeTempDir('crmsync-engine-');
  const path = join(temp.path, 'crmsync.db');
  const open = (clock: Clock | undefined) =>
    openSqliteBackend({
      path,
      durability: 'process',
      ...(clock === undefined ? {} : { clock }),
      queue: {
        maxAttempts: options.maxAttempts ?? 5,
        backoff: options.backoff ?? FAST_BACKOFF,
        maxPayloadsPerJob: 100,
      },
    });
  const backend = open(options.clock);
  const others: Backend[] = [];
  return {
    backend,
    path,
    openAnother: (clock) => {
      const other = open(clock ?? options.clock);
      others.push(other);
      return other;
    },
    close: async () => {
      for (const other of others) await other.close();
      await backend.close();
      temp.remove();
    },
  };
}

/** A promise the test resolves by hand: a handler awaits `gate.opened` until the test calls `gate.open()`. */
export interface Gate {
  readonly opened: Promise<void>;
  open(): void;
}

export function gate(): Gate {
  const { promise, resolve } = Promise.withResolvers<void>();
  return { opened: promise, open: () => resolve() };
}

/**
 * Wraps an object so that some methods are replaced and every other one still runs on the original (bound to
 * it, since adapters keep state in private fields).
 */
export function override<T extends object>(target: T, overrides: Partial<T>): T {
  return new Proxy(target, {
    get(object, property) {
      if (Object.hasOwn(overrides, property)) return overrides[property as keyof T];
      const value: unknown = Reflect.get(object, property, object);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(object) : value;
    },
  });
}
