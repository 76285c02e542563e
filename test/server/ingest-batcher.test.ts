// Unit tests of the group commit on the real SQLite queue (in memory), with its commits recorded and, where a
// test needs it, held or failed; the HTTP tests run it behind the server.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { StorageError } from '../../src/core/errors.ts';
import type { JobInput } from '../../src/ports/queue.ts';
import { IngestBatcher } from '../../src/server/ingest-batcher.ts';
import { override } from '../engine/support.ts';
import { eventually } from '../support/eventually.ts';
import { memoryBackend } from '../support/memory-store.ts';
import { settlesWithoutTimers } from '../support/settles.ts';

const silent = pino({ level: 'silent' });

/**
 * A fresh in-memory SQLite queue whose enqueueMany calls are recorded. With `gated`, every commit waits
 * until `openGate()` is called, so a test can act while a commit is in flight; with `fail`, every commit
 * fails as a full disk would.
 */
function recordingQueue(options: { fail?: boolean; gated?: boolean } = {}) {
  const calls: JobInput[][] = [];
  let openGate = () => {};
  const gate = new Promise<void>((resolve) => (openGate = resolve));
  const real = memoryBackend().queue;
  const queue = override(real, {
    enqueueMany: async (inputs) => {
      calls.push([...inputs]);
      if (options.gated === true) await gate;
      if (options.fail === true) throw new Error('disk full');
      return real.enqueueMany(inputs);
    },
  });
  return { queue, calls, openGate };
}

function inputs(count: number, tag = 'r'): JobInput[] {
  return Array.from({ length: count }, (_, index) => ({
    flow: 'f',
    recordKey: `${tag}${index}`,
    payload: index,
  }));
}

describe('IngestBatcher', () => {
  it('commits concurrent submits together and hands each its own results in order', async () => {
    const { queue, calls } = recordingQueue();
    const batcher = new IngestBatcher({ queue, settings: { maxBatch: 100, maxWaitMs: 5 }, logger: silent });
    const [first, second] = await Promise.all([
      batcher.submit(inputs(2, 'a')),
      batcher.submit(inputs(3, 'b')),
    ]);
    assert.equal(calls.length, 1);
    assert.deepEqual(
      calls[0]?.map((input) => input.recordKey),
      ['a0', 'a1', 'b0', 'b1', 'b2'],
    );
    assert.deepEqual(
      first?.map((result) => result.jobId),
      ['1', '2'],
    );
    assert.deepEqual(
      second?.map((result) => result.jobId),
      ['3', '4', '5'],
    );
  });

  it('never puts more than maxBatch inputs in one commit, except a single larger submit', async () => {
    const { queue, calls } = recordingQueue();
    const sizes: number[] = [];
    const batcher = new IngestBatcher({
      queue,
      settings: { maxBatch: 4, maxWaitMs: 1_000 },
      logger: silent,
      onCommit: (count) => sizes.push(count),
    });
    // maxWaitMs is long: only the size limit can trigger these commits.
    await Promise.all([
      batcher.submit(inputs(3)),
      batcher.submit(inputs(3)),
      batcher.submit(inputs(6)),
      batcher.submit(inputs(1)),
    ]);
    assert.deepEqual(
      calls.map((call) => call.length),
      [3, 3, 6, 1],
    );
    assert.deepEqual(sizes, [3, 3, 6, 1]);
  });

  it('rejects every submit of a failed commit with STORAGE_UNAVAILABLE, trying one request alone first', async () => {
    const { queue, calls } = recordingQueue({ fail: true });
    const batcher = new IngestBatcher({ queue, settings: { maxBatch: 100, maxWaitMs: 2 }, logger: silent });
    const outcomes = await Promise.allSettled([batcher.submit(inputs(1)), batcher.submit(inputs(2))]);
    for (const outcome of outcomes) {
      assert.equal(outcome.status, 'rejected');
      assert.ok(outcome.reason instanceof StorageError);
      assert.equal(outcome.reason.code, 'STORAGE_UNAVAILABLE');
      assert.equal(outcome.reason.httpStatus, 503);
    }
    // The group commit, then the first request alone; its failure is the store's, so the other is not tried.
    assert.equal(calls.length, 2);
  });

  it('batches what arrives during a slow commit into the next one', async () => {
    const { queue, calls, openGate } = recordingQueue({ gated: true });
    const batcher = new IngestBatcher({ queue, settings: { maxBatch: 100, maxWaitMs: 0 }, logger: silent });
    const first = batcher.submit(inputs(1));
    await eventually(() => calls.length === 1); // the first commit is in flight now
    const later = [batcher.submit(inputs(1)), batcher.submit(inputs(1)), batcher.submit(inputs(1))];
    openGate();
    await Promise.all([first, ...later]);
    assert.deepEqual(
      calls.map((call) => call.length),
      [1, 3],
    );
  });

  it('flushes waiting inputs on close without waiting for maxWaitMs', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] }); // the batch window never ends by itself
    const { queue, calls } = recordingQueue();
    const batcher = new IngestBatcher({
      queue,
      settings: { maxBatch: 100, maxWaitMs: 60_000 },
      logger: silent,
    });
    const pending = batcher.submit(inputs(2));
    assert.equal(calls.length, 0, 'the inputs wait for their batch window');
    assert.equal(await settlesWithoutTimers(batcher.close()), true, 'close() did not wait for the window');
    assert.equal(calls.length, 1);
    assert.equal((await pending).length, 2);
    // After close, submits commit at once.
    assert.equal((await batcher.submit(inputs(1))).length, 1);
  });

  it('answers an empty submit without a commit', async () => {
    const { queue, calls } = recordingQueue();
    const batcher = new IngestBatcher({ queue, settings: { maxBatch: 10, maxWaitMs: 1 }, logger: silent });
    assert.deepEqual(await batcher.submit([]), []);
    assert.equal(calls.length, 0);
  });
});
