/**
 * Retention on the serving process deletes in bounded batches: each batch is its own statement (and commit)
 * of at most DELETE_BATCH_ROWS rows, and the event loop turns between batches (counted with a setImmediate
 * chain, not measured in time), so webhooks and heartbeats are served while thousands of rows go.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { TestContext } from 'node:test';
import { DELETE_BATCH_ROWS } from '../../src/adapters/sqlite/database.ts';
import { openSqliteBackend } from '../../src/adapters/sqlite/index.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { recordStatements, statementsOf } from './sqlite-statements.ts';

const OLD_JOBS = 5_000;

/** Counts turns of the event loop (a chain of setImmediate callbacks) until stopped. */
function loopTurns(): { readonly count: number; stop(): void } {
  const turns = { count: 0, stopped: false };
  const next = () => {
    if (turns.stopped) return;
    turns.count += 1;
    setImmediate(next);
  };
  setImmediate(next);
  return {
    get count() {
      return turns.count;
    },
    stop: () => (turns.stopped = true),
  };
}

function setup(t: TestContext) {
  const clock = new ManualClock();
  const backend = openSqliteBackend({ path: ':memory:', durability: 'process', clock });
  t.after(() => backend.close());
  return { backend, clock };
}

it(`prunes ${OLD_JOBS} old jobs in batches of at most ${DELETE_BATCH_ROWS}, the event loop turning between them`, async (t) => {
  const { backend, clock } = setup(t);
  const { queue } = backend;
  await queue.enqueueMany(
    Array.from({ length: OLD_JOBS }, (_, n) => ({
      flow: 'f',
      recordKey: `r/${n}`,
      dedupKey: `e${n}`,
      payload: n,
    })),
  );
  for (let n = 0; n < OLD_JOBS; n++) {
    const job = await queue.dequeue({ workerId: 'w', leaseMs: 60_000 });
    await queue.complete(job!.id, job!.leaseToken, 'COMPLETED');
  }
  await queue.enqueue({ flow: 'f', recordKey: 'r/waiting', payload: 'kept' });
  clock.advance(1);

  const executed = recordStatements(t);
  const turns = loopTurns();
  let pruned = 0;
  const statements = await statementsOf(executed, async () => (pruned = await queue.prune(clock.now())));
  turns.stop();

  assert.equal(pruned, OLD_JOBS);
  const jobBatches = statements.filter((statement) => /^DELETE FROM jobs\b/.test(statement.sql));
  const keyBatches = statements.filter((statement) => /^DELETE FROM job_dedup_keys\b/.test(statement.sql));
  for (const batches of [jobBatches, keyBatches]) {
    assert.deepEqual(
      batches.map((batch) => batch.changes),
      [...Array.from({ length: OLD_JOBS / DELETE_BATCH_ROWS }, () => DELETE_BATCH_ROWS), 0],
    );
  }
  // Every full batch is followed by a turn of the loop (the chain may start one turn late).
  const fullBatches = [...jobBatches, ...keyBatches].filter((batch) => batch.changes === DELETE_BATCH_ROWS);
  assert.ok(
    turns.count >= fullBatches.length - 1,
    `${turns.count} turns of the event loop for ${fullBatches.length} full batches`,
  );
  assert.deepEqual(
    [(await queue.counts()).COMPLETED, (await queue.counts()).PENDING],
    [0, 1],
    'the waiting job is kept',
  );
});
