/**
 * SQLite contention never freezes the process: while another process holds the file's write lock, our
 * transactions and autocommit writes wait with timers, so the event loop keeps turning (counted with a
 * 10 ms interval timer, not measured in time), and they succeed once the lock is free.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';
import type { TestContext } from 'node:test';
import { openSqliteBackend } from '../../src/adapters/sqlite/index.ts';
import { StorageError } from '../../src/core/errors.ts';
import { eventually } from '../support/eventually.ts';
import { makeTempDir } from '../support/temp-dir.ts';
import { HOLDING_LOCK } from './fixtures/write-lock-holder.ts';

const HOLDER = fileURLToPath(new URL('./fixtures/write-lock-holder.ts', import.meta.url));
/** The holder commits on its own after this long, so the old (blocking) code finishes the test too. */
const HOLDER_SAFETY_MS = 4_000;
/** Ticks of the 10 ms timer that must pass while our writes wait. */
const TICKS_WHILE_WAITING = 20;

/** A child process holding the write lock of `path`; `release()` makes it commit and exit. */
async function holdWriteLock(t: TestContext, path: string): Promise<{ release(): Promise<void> }> {
  const child = spawn(process.execPath, ['--no-warnings', HOLDER, path, String(HOLDER_SAFETY_MS)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  await eventually(() => output.includes(HOLDING_LOCK), { timeoutMs: 20_000 });
  return {
    release: async () => {
      child.stdin.end('release\n');
      await exited;
    },
  };
}

/** Counts the ticks of a 10 ms interval timer until the test ends. */
function tickCounter(t: TestContext): { readonly count: number } {
  const counter = { count: 0 };
  const timer = setInterval(() => (counter.count += 1), 10);
  t.after(() => clearInterval(timer));
  return counter;
}

function setup(t: TestContext, busyTimeoutMs: number) {
  const temp = makeTempDir('crmsync-sqlite-busy-');
  const path = join(temp.path, 'crmsync.db');
  const backend = openSqliteBackend({ path, durability: 'process', busyTimeoutMs });
  t.after(async () => {
    await backend.close();
    temp.remove();
  });
  return { backend, path };
}

it('keeps the event loop turning while another process holds the write lock, then writes', async (t) => {
  const { backend, path } = setup(t, 30_000);
  const holder = await holdWriteLock(t, path);
  const ticks = tickCounter(t);

  const settled = { transaction: false, autocommit: false };
  const transaction = backend.queue
    .enqueue({ flow: 'f', recordKey: 'r/1', payload: 1 })
    .finally(() => (settled.transaction = true));
  const autocommit = backend.locks.acquire('k', 60_000).finally(() => (settled.autocommit = true));

  const ticksAtStart = ticks.count;
  await eventually(() => ticks.count - ticksAtStart >= TICKS_WHILE_WAITING, { timeoutMs: 20_000 });
  assert.deepEqual(settled, { transaction: false, autocommit: false }, 'both still wait for the lock');

  await holder.release();
  assert.equal((await transaction).status, 'enqueued');
  assert.notEqual(await autocommit, null);
  assert.equal((await backend.queue.counts()).PENDING, 1);
});

it('fails with a retryable StorageError once the busy budget is used up', async (t) => {
  const { backend, path } = setup(t, 50);
  const holder = await holdWriteLock(t, path);
  const error = await backend.queue.enqueue({ flow: 'f', recordKey: 'r/1', payload: 1 }).then(
    () => assert.fail('enqueue succeeded while another process held the write lock'),
    (reason: unknown) => reason,
  );
  assert.ok(error instanceof StorageError, String(error));
  assert.equal(error.retryable, true);
  assert.match(error.message, /held the write lock for longer than the busy timeout \(50 ms\)/);
  await holder.release();
  assert.equal((await backend.queue.enqueue({ flow: 'f', recordKey: 'r/1', payload: 1 })).status, 'enqueued');
});
