/**
 * Runs the Queue, Locks and Store contract suites against the SQLite backend, plus what only SQLite has:
 * migrations, pragmas, reopening a file, and several connections sharing one file.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import { openSqliteBackend } from '../../src/adapters/sqlite/index.ts';
import { SqliteDatabase } from '../../src/adapters/sqlite/database.ts';
import { MIGRATIONS, migrate } from '../../src/adapters/sqlite/migrations.ts';
import { StorageError } from '../../src/core/errors.ts';
import type { Backend } from '../../src/ports/backend.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { makeTempDir } from '../support/temp-dir.ts';
import { defineAttemptsContract } from './attempts.contract.ts';
import { defineConflictsContract } from './conflicts.contract.ts';
import type { ContractBackendFactory } from './harness.ts';
import { defineLedgerCrashContract } from './ledger-crash.contract.ts';
import { defineLedgerContract } from './ledger.contract.ts';
import { defineLocksContract } from './locks.contract.ts';
import { defineOutcomeCommitContract } from './outcome-commit.contract.ts';
import { defineQueueContract } from './queue.contract.ts';
import { defineStoreContract } from './store.contract.ts';

const SQLITE_MODULE = new URL('../../src/adapters/sqlite/index.ts', import.meta.url).href;

const sqlite: ContractBackendFactory = (options) => {
  const temp = makeTempDir('crmsync-sqlite-');
  const path = join(temp.path, 'crmsync.db');
  const backend = openSqliteBackend({ path, durability: 'process', ...options });
  const opener = {
    module: SQLITE_MODULE,
    exportName: 'openSqliteBackend',
    options: { path, durability: 'process' },
  };
  const cleanup = async () => {
    await backend.close();
    temp.remove();
  };
  return Promise.resolve({ backend, opener, cleanup });
};

defineQueueContract('sqlite', sqlite);
defineLocksContract('sqlite', sqlite);
defineStoreContract('sqlite', sqlite);
defineAttemptsContract('sqlite', sqlite);
defineLedgerContract('sqlite', sqlite);
defineOutcomeCommitContract('sqlite', sqlite);
defineConflictsContract('sqlite', sqlite);
defineLedgerCrashContract(sqlite);

describe('SQLite backend', () => {
  /** A folder for this test, removed afterwards, and a tracker that closes the backends it opens. */
  const setup = (t: TestContext) => {
    const temp = makeTempDir('crmsync-sqlite-');
    const opened: Backend[] = [];
    t.after(async () => {
      for (const backend of opened) await backend.close();
      temp.remove();
    });
    const open = (path = join(temp.path, 'nested', 'dir', 'crmsync.db'), clock = new ManualClock()) => {
      const backend = openSqliteBackend({ path, durability: 'process', clock });
      opened.push(backend);
      return backend;
    };
    return { temp, open, path: join(temp.path, 'nested', 'dir', 'crmsync.db') };
  };

  const inspect = <T>(path: string, read: (db: DatabaseSync) => T): T => {
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      return read(db);
    } finally {
      db.close();
    }
  };

  it('creates the folders and applies every migration once, in WAL mode', async (t) => {
    const { open, path } = setup(t);
    await open().close();
    await open().close();
    const versions = inspect(path, (db) =>
      db.prepare('SELECT version FROM schema_migrations ORDER BY version').all(),
    );
    assert.deepEqual(
      versions.map((row) => row.version),
      MIGRATIONS.map((migration) => migration.version),
    );
    assert.equal(
      inspect(path, (db) => db.prepare('PRAGMA journal_mode').get()?.journal_mode),
      'wal',
    );
  });

  it('keeps jobs, runs and checkpoints across a reopen', async (t) => {
    const { open } = setup(t);
    const first = open();
    const { jobId } = await first.queue.enqueue({
      flow: 'f',
      recordKey: 'r/1',
      dedupKey: 'e1',
      payload: { n: 1 },
    });
    await first.store.checkpoints.set('c', [1, 2]);
    await first.close();
    await first.close();
    const second = open();
    assert.deepEqual((await second.queue.get(jobId))?.payloads, [{ n: 1 }]);
    assert.equal(
      (await second.queue.enqueue({ flow: 'f', recordKey: 'r/1', dedupKey: 'e1', payload: 2 })).status,
      'duplicate',
    );
    assert.deepEqual((await second.store.checkpoints.get('c'))?.value, [1, 2]);
  });

  it('refuses a file migrated by a newer crmsync', async (t) => {
    const { open, path } = setup(t);
    await open().close();
    const db = new DatabaseSync(path);
    db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future', 0)").run();
    db.close();
    assert.throws(() => open(), StorageError);
  });

  it('never hands one job to two connections sharing the file', async (t) => {
    const { open, path } = setup(t);
    const clock = new ManualClock();
    const [a, b] = [open(path, clock), open(path, clock)];
    await a.queue.enqueueMany(
      Array.from({ length: 40 }, (_, n) => ({ flow: 'f', recordKey: `r/${n}`, payload: n })),
    );
    const ids: string[] = [];
    for (let round = 0; round < 25; round++) {
      for (const backend of [a, b]) {
        const job = await backend.queue.dequeue({ workerId: 'w', leaseMs: 60_000 });
        if (job !== null) ids.push(job.id);
      }
    }
    assert.equal(ids.length, 40);
    assert.equal(new Set(ids).size, 40);
  });

  it('deletes the payloads of pruned and folded jobs with them', async (t) => {
    const { open, path } = setup(t);
    const clock = new ManualClock();
    const backend = open(path, clock);
    const queue = backend.queue;
    await queue.enqueueMany([1, 2, 3].map((n) => ({ flow: 'f', recordKey: 'r/1', payload: n })));
    const leased = await queue.dequeue({ workerId: 'w', leaseMs: 1_000 });
    await queue.enqueue({ flow: 'f', recordKey: 'r/1', payload: 4 });
    await queue.release(leased!.id, leased!.leaseToken);
    const again = await queue.dequeue({ workerId: 'w', leaseMs: 1_000 });
    await queue.complete(again!.id, again!.leaseToken, 'COMPLETED');
    const payloadRows = () =>
      inspect(path, (db) => db.prepare('SELECT count(*) AS n FROM job_payloads').get()?.n);
    assert.equal(payloadRows(), 4);
    clock.advance(1);
    assert.equal(await queue.prune(clock.now()), 1);
    assert.equal(payloadRows(), 0);
  });

  it('counts the jobs of a file from before the job_counts table when it migrates it', async (t) => {
    const { open, path } = setup(t);
    const older = SqliteDatabase.open({ path, durability: 'process', busyTimeoutMs: 1_000 });
    migrate(
      older,
      0,
      MIGRATIONS.filter((migration) => migration.version < 4),
    );
    const insert = `INSERT INTO jobs (flow, record_key, state, input_count, max_attempts, run_at, created_at,
                      updated_at) VALUES ('f', ?, ?, 1, 5, 0, 0, 0)`;
    for (const [n, state] of ['PENDING', 'PENDING', 'DEAD', 'COMPLETED'].entries())
      older.run(insert, `r/${n}`, state);
    older.close();
    const queue = open(path).queue;
    assert.deepEqual(await queue.counts(), {
      PENDING: 2,
      PROCESSING: 0,
      COMPLETED: 1,
      SKIPPED: 0,
      FAILED: 0,
      DEAD: 1,
    });
  });

  it('counts the links of a file from before link_counts when it migrates it, with no deletion marks', async (t) => {
    const { open, path } = setup(t);
    const older = SqliteDatabase.open({ path, durability: 'process', busyTimeoutMs: 1_000 });
    migrate(
      older,
      0,
      MIGRATIONS.filter((migration) => migration.version < 7),
    );
    const insert = `INSERT INTO links (flow, a_connection, a_entity_type, a_id, b_connection, b_entity_type, b_id,
                      status, revision, created_at, updated_at) VALUES (?, 'a', 'T', ?, 'b', 'T', ?, ?, 1, 0, 0)`;
    for (const [n, [flow, status]] of [
      ['f', 'clean'],
      ['f', 'clean'],
      ['f', 'failed'],
      ['g', 'clean'],
    ].entries())
      older.run(insert, flow!, String(n), String(n), status!);
    older.close();
    const { store } = open(path);
    assert.deepEqual(await store.links.countByStatus('f'), {
      clean: 2,
      pending: 0,
      failed: 1,
      conflict: 0,
      deleted: 0,
    });
    const links = await store.links.list({ flow: 'f' });
    assert.deepEqual(
      links.map((link) => link.deletion),
      [null, null, null],
    );
    await store.links.save({ ...links[0]!, status: 'pending' });
    assert.deepEqual(
      [(await store.links.countByStatus('f')).clean, (await store.links.countByStatus('f')).pending],
      [1, 1],
    );
  });

  it('turns a closed database into StorageError', async (t) => {
    const { open } = setup(t);
    const backend = open();
    await backend.close();
    await assert.rejects(backend.store.ping(), StorageError);
    await assert.rejects(backend.queue.counts(), StorageError);
  });
});
