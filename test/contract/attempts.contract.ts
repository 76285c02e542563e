/**
 * Contract of the JobAttempts port (src/ports/backend.ts): the steps that change the queue and the run
 * history together. Every backend runs it unchanged, through the ports only, with a ManualClock.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import type { BackoffPolicy } from '../../src/core/backoff.ts';
import type { FieldChange, RecordRef } from '../../src/core/types.ts';
import { jobRecordKey } from '../../src/core/types.ts';
import type { Backend, BegunAttempt } from '../../src/ports/backend.ts';
import type { Job, Queue } from '../../src/ports/queue.ts';
import type { Run } from '../../src/ports/store.ts';
import { openFor } from './harness.ts';
import type { ContractBackendFactory } from './harness.ts';

const LEASE = 10_000;
const FLOW = 'sync';
const EXACT: BackoffPolicy = { baseMs: 1_000, maxMs: 60_000, jitter: 0 };
const CONTACT: RecordRef = { connection: 'crm', entityType: 'Contact', id: '42' };
const CHANGE: FieldChange = { ref: CONTACT, field: 'name', before: 'Acme', after: 'Acme GmbH' };

async function begin(backend: Backend, workerId = 'worker-1'): Promise<BegunAttempt & { runId: string }> {
  const attempt = await backend.attempts.begin({ workerId, leaseMs: LEASE });
  assert.ok(attempt, 'expected a due job');
  assert.ok(attempt.run, 'expected a run');
  return { ...attempt, runId: attempt.run.id };
}

async function mustGetJob(queue: Queue, id: string): Promise<Job> {
  const job = await queue.get(id);
  assert.ok(job, `job ${id} should exist`);
  return job;
}

async function mustGetRun(backend: Backend, id: string): Promise<Run> {
  const run = await backend.store.runs.get(id);
  assert.ok(run, `run ${id} should exist`);
  return run;
}

/** Defines the JobAttempts contract suite for one backend. */
export function defineAttemptsContract(adapter: string, factory: ContractBackendFactory): void {
  const open = async (t: TestContext, maxAttempts = 5) => {
    const opened = await openFor(t, factory, { queue: { backoff: EXACT, maxAttempts } });
    const { jobId } = await opened.backend.queue.enqueue({
      flow: FLOW,
      recordKey: jobRecordKey(FLOW, CONTACT),
      payload: { kind: 'updated' },
    });
    return { backend: opened.backend, clock: opened.clock, jobId };
  };

  describe(`JobAttempts contract: ${adapter}`, () => {
    it('begins an attempt: the job leased as dequeue would, and its run started', async (t) => {
      const { backend, clock, jobId } = await open(t);
      const { job, run, runId } = await begin(backend);
      assert.deepEqual(
        [job.id, job.state, job.attempts, job.leaseOwner, job.leaseUntil],
        [jobId, 'PROCESSING', 1, 'worker-1', clock.now() + LEASE],
      );
      assert.equal(run?.startedAt, clock.now());
      const stored = await mustGetRun(backend, runId);
      assert.deepEqual(
        [stored.jobId, stored.flow, stored.ref, stored.attempt, stored.outcome, stored.startedAt],
        [jobId, FLOW, CONTACT, 1, null, clock.now()],
      );
      assert.equal(await backend.attempts.begin({ workerId: 'worker-2', leaseMs: LEASE }), null);
    });

    it('begins no run for a job whose record key names no record', async (t) => {
      const { backend } = await open(t);
      await backend.queue.dequeue({ workerId: 'other', leaseMs: LEASE });
      const { jobId } = await backend.queue.enqueue({
        flow: FLOW,
        recordKey: 'not a record key',
        payload: 1,
      });
      const attempt = await backend.attempts.begin({ workerId: 'worker-1', leaseMs: LEASE });
      assert.deepEqual([attempt?.job.id, attempt?.job.state, attempt?.run], [jobId, 'PROCESSING', null]);
      assert.deepEqual(await backend.store.runs.list({ jobId }), []);
    });

    it('ends an attempt: run outcome recorded and job completed in one step', async (t) => {
      const { backend, clock, jobId } = await open(t);
      const { job, runId } = await begin(backend);
      clock.advance(250);
      const ended = await backend.attempts.end({
        jobId,
        leaseToken: job.leaseToken,
        runId,
        run: {
          outcome: 'COMPLETED',
          reason: 'wrote 1 field',
          changes: [CHANGE],
          apiCalls: 3,
          finishedAt: clock.now(),
        },
        job: { kind: 'complete', state: 'COMPLETED' },
      });
      assert.equal(ended, 'settled');
      assert.equal((await mustGetJob(backend.queue, jobId)).state, 'COMPLETED');
      const run = await mustGetRun(backend, runId);
      assert.deepEqual(
        [run.outcome, run.reason, run.changes, run.apiCalls, run.durationMs],
        ['COMPLETED', 'wrote 1 field', [CHANGE], 3, 250],
      );
    });

    it('ends a failed attempt with a retry, then DEAD when out of attempts', async (t) => {
      const { backend, clock, jobId } = await open(t, 2);
      const error = { code: 'VENDOR_DOWN', message: '503' };
      for (const expected of ['FAILED', 'DEAD'] as const) {
        const { job, runId } = await begin(backend);
        const ended = await backend.attempts.end({
          jobId,
          leaseToken: job.leaseToken,
          runId,
          run: { outcome: 'FAILED', error, finishedAt: clock.now() },
          job: { kind: 'fail', failure: { error, retryable: true } },
        });
        assert.equal(ended, 'settled');
        const stored = await mustGetJob(backend.queue, jobId);
        assert.deepEqual([stored.state, stored.lastError], [expected, error]);
        assert.deepEqual((await mustGetRun(backend, runId)).error, error);
        clock.advance(1_000);
      }
    });

    it('ends a released attempt: the job waits again without counting it', async (t) => {
      const { backend, clock, jobId } = await open(t);
      const { job, runId } = await begin(backend);
      const error = { code: 'WORKER_SHUTDOWN', message: 'shut down' };
      await backend.attempts.end({
        jobId,
        leaseToken: job.leaseToken,
        runId,
        run: { outcome: 'FAILED', error, finishedAt: clock.now() },
        job: { kind: 'release' },
      });
      const stored = await mustGetJob(backend.queue, jobId);
      assert.deepEqual([stored.state, stored.attempts, stored.runAt], ['PENDING', 0, clock.now()]);
      assert.equal((await mustGetRun(backend, runId)).outcome, 'FAILED');
    });

    it('ends the run of an attempt whose lease expired, together with the recovery', async (t) => {
      const { backend, clock, jobId } = await open(t);
      const dead = await begin(backend, 'dies');
      clock.advance(LEASE);
      assert.equal(await backend.attempts.begin({ workerId: 'w2', leaseMs: LEASE }), null, 'backoff');
      const run = await mustGetRun(backend, dead.runId);
      const job = await mustGetJob(backend.queue, jobId);
      assert.deepEqual([run.outcome, run.finishedAt], ['FAILED', clock.now()]);
      assert.equal(run.error?.code, 'QUEUE_LEASE_EXPIRED');
      assert.deepEqual(run.error, job.lastError, 'the run shows why the job waits again');
    });

    it('ends an open run of the job when its lease expires, however the run was started', async (t) => {
      const { backend, clock, jobId } = await open(t);
      const leased = await backend.queue.dequeue({ workerId: 'dies', leaseMs: LEASE });
      assert.ok(leased);
      const runId = await backend.store.runs.start({
        jobId,
        flow: FLOW,
        ref: CONTACT,
        attempt: leased.attempts,
        startedAt: clock.now(),
      });
      clock.advance(LEASE);
      await backend.queue.dequeue({ workerId: 'w2', leaseMs: LEASE });
      const run = await mustGetRun(backend, runId);
      assert.deepEqual([run.outcome, run.error?.code], ['FAILED', 'QUEUE_LEASE_EXPIRED']);
    });

    it('ends the run of an attempt whose lease expired on the last attempt', async (t) => {
      const { backend, clock, jobId } = await open(t, 1);
      const dead = await begin(backend, 'dies');
      clock.advance(LEASE);
      await backend.queue.dequeue({ workerId: 'w2', leaseMs: LEASE });
      assert.equal((await mustGetJob(backend.queue, jobId)).state, 'DEAD');
      assert.equal((await mustGetRun(backend, dead.runId)).error?.code, 'QUEUE_LEASE_EXPIRED');
    });

    it('leaves the job to its new owner when the lease was lost, keeping the run as recovery ended it', async (t) => {
      const { backend, clock, jobId } = await open(t);
      const zombie = await begin(backend, 'zombie');
      clock.advance(LEASE);
      assert.equal(await backend.attempts.begin({ workerId: 'owner', leaseMs: LEASE }), null, 'backoff');
      clock.advance(1_000);
      const owner = await begin(backend, 'owner');
      const ended = await backend.attempts.end({
        jobId,
        leaseToken: zombie.job.leaseToken,
        runId: zombie.runId,
        run: { outcome: 'COMPLETED', changes: [CHANGE], finishedAt: clock.now() },
        job: { kind: 'complete', state: 'COMPLETED' },
      });
      assert.equal(ended, 'lease-lost');
      const job = await mustGetJob(backend.queue, jobId);
      assert.deepEqual([job.state, job.leaseOwner], ['PROCESSING', 'owner']);
      const zombieRun = await mustGetRun(backend, zombie.runId);
      assert.deepEqual([zombieRun.outcome, zombieRun.error?.code], ['FAILED', 'QUEUE_LEASE_EXPIRED']);
      assert.equal((await mustGetRun(backend, owner.runId)).outcome, null, 'the new attempt runs on');
      assert.equal(
        await backend.store.runs.finish(zombie.runId, { outcome: 'COMPLETED', finishedAt: 1 }),
        false,
      );
    });
  });
}
