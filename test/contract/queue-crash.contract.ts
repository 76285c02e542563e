/**
 * Crash test of the queue contract: a worker in a child process begins an attempt (leases a job and starts
 * its run) and is killed with SIGKILL in the middle of it. Once the lease has expired the job is handed out
 * again and completes, the dead attempt's run is ended with the recovery instead of staying open; nothing
 * else is lost. Runs on the real clock with a short lease, polling with a deadline (no fixed sleeps).
 */
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { jobRecordKey } from '../../src/core/types.ts';
import { systemClock } from '../../src/ports/clock.ts';
import type { Job, Queue } from '../../src/ports/queue.ts';
import { openWithClock } from './harness.ts';
import type { ContractBackendFactory } from './harness.ts';
import { CRASH_DEADLINE_MS as DEADLINE_MS, holdThenKill } from './crash-child.ts';
import type { CrashWorkerSpec } from './fixtures/crash-protocol.ts';

const CHILD_LEASE_MS = 500;
const OTHER_JOBS = 20;
const VICTIM_KEY = jobRecordKey('crash', { connection: 'crm', entityType: 'Contact', id: 'victim' });

/**
 * Dequeues and completes jobs until `victim` has been run again and nothing is due any more. Returns the ids
 * completed, in order, and when the victim was handed out again.
 */
async function drainUntilRerun(
  queue: Queue,
  victim: string,
): Promise<{ completed: string[]; rerunAt: number }> {
  const completed: string[] = [];
  let rerunAt = 0;
  const deadline = Date.now() + DEADLINE_MS;
  while (Date.now() < deadline) {
    const job = await queue.dequeue({ workerId: 'parent', leaseMs: 30_000 });
    if (job === null) {
      if (rerunAt > 0) return { completed, rerunAt };
      await delay(10); // poll interval while the dead worker's lease runs out
      continue;
    }
    if (job.id === victim) rerunAt = Date.now();
    await queue.complete(job.id, job.leaseToken, 'COMPLETED');
    completed.push(job.id);
  }
  throw new Error(
    `job ${victim} was not run again within ${DEADLINE_MS} ms; completed: ${completed.join(',')}`,
  );
}

/** Defines the crash test for one adapter. */
export function defineQueueCrashContract(factory: ContractBackendFactory): void {
  describe('crash of a worker process', () => {
    it('re-runs the job of a worker killed with SIGKILL after its lease expired, losing nothing', async (t) => {
      const backoff = { baseMs: 20, maxMs: 100, jitter: 0 };
      const { backend, opener } = await openWithClock(t, factory, systemClock, { queue: { backoff } });
      const queue = backend.queue;
      const victim = await queue.enqueue({
        flow: 'crash',
        recordKey: VICTIM_KEY,
        dedupKey: 'v',
        payload: 'v',
      });
      const others = await queue.enqueueMany(
        Array.from({ length: OTHER_JOBS }, (_, n) => ({
          flow: 'crash',
          recordKey: `crash/${n}`,
          payload: n,
        })),
      );

      const spec: CrashWorkerSpec = { ...opener, leaseMs: CHILD_LEASE_MS, workerId: 'crash-child' };
      const heldId = await holdThenKill(t, spec);
      assert.equal(heldId, victim.jobId, 'the child took the oldest job');

      const held = await queue.get(victim.jobId);
      assert.deepEqual([held?.state, held?.leaseOwner, held?.attempts], ['PROCESSING', 'crash-child', 1]);
      // An event for the record while its worker is dead: kept, and run with the recovered job.
      const later = await queue.enqueue({ flow: 'crash', recordKey: VICTIM_KEY, payload: 'later' });
      assert.ok(['followup', 'coalesced'].includes(later.status), later.status);

      const { completed, rerunAt } = await drainUntilRerun(queue, victim.jobId);
      const jobs = await queue.list({ limit: 1_000 });
      const byId = new Map<string, Job>(jobs.map((job) => [job.id, job]));
      const rerun = byId.get(victim.jobId)!;
      assert.deepEqual(
        [rerun.state, rerun.attempts, rerun.lastError?.code, rerun.payloads],
        ['COMPLETED', 2, 'QUEUE_LEASE_EXPIRED', ['v', 'later']],
        'the follow-up folded into the recovered job',
      );
      assert.ok(rerunAt >= held!.leaseUntil!, 'not handed out again before its lease ended');
      const runs = await backend.store.runs.list({ jobId: victim.jobId });
      assert.deepEqual(
        runs.map((run) => [run.attempt, run.outcome, run.error?.code]),
        [[1, 'FAILED', 'QUEUE_LEASE_EXPIRED']],
        'the run of the killed attempt ended with the recovery of its lease',
      );
      for (const other of others) {
        const job = byId.get(other.jobId);
        assert.deepEqual([job?.state, job?.attempts], ['COMPLETED', 1], `job ${other.jobId}`);
      }
      assert.equal(completed.length, OTHER_JOBS + 1);
      assert.deepEqual(await queue.counts(), {
        PENDING: 0,
        PROCESSING: 0,
        COMPLETED: OTHER_JOBS + 1,
        SKIPPED: 0,
        FAILED: 0,
        DEAD: 0,
      });
    });
  });
}
