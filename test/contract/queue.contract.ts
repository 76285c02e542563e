/**
 * Contract of the Queue port (src/ports/queue.ts). Every queue adapter runs this suite unchanged; it uses
 * only the port, a ManualClock to move time, and the adapter's factory.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import { backoffDelay } from '../../src/core/backoff.ts';
import type { BackoffPolicy } from '../../src/core/backoff.ts';
import { InputError, LeaseLostError, NotFoundError } from '../../src/core/errors.ts';
import type { JsonValue } from '../../src/core/types.ts';
import { JOB_STATES } from '../../src/ports/queue.ts';
import type { Job, JobInput, JobState, LeasedJob, Queue } from '../../src/ports/queue.ts';
import { openFor } from './harness.ts';
import type { ContractBackendFactory } from './harness.ts';
import { defineQueueCrashContract } from './queue-crash.contract.ts';
import { defineQueueModelContract } from './queue-model.contract.ts';

const LEASE = 10_000;
const FLOW = 'sync';
/** Backoff without jitter, so that runAt values are exact. */
const EXACT: BackoffPolicy = { baseMs: 1_000, maxMs: 60_000, jitter: 0 };

function input(recordKey: string, payload: JsonValue = recordKey, extra: Partial<JobInput> = {}): JobInput {
  return { flow: FLOW, recordKey, payload, ...extra };
}

async function lease(queue: Queue, workerId = 'worker-1'): Promise<LeasedJob> {
  const job = await queue.dequeue({ workerId, leaseMs: LEASE });
  assert.ok(job, 'expected a due job');
  return job;
}

async function mustGet(queue: Queue, id: string): Promise<Job> {
  const job = await queue.get(id);
  assert.ok(job, `job ${id} should exist`);
  return job;
}

function nonZero(counts: Record<JobState, number>): Partial<Record<JobState, number>> {
  return Object.fromEntries(Object.entries(counts).filter(([, count]) => count > 0));
}

/** Defines the queue contract suite for one adapter. */
export function defineQueueContract(adapter: string, factory: ContractBackendFactory): void {
  const open = async (t: TestContext, options: Parameters<typeof openFor>[2] = {}) => {
    const opened = await openFor(t, factory, { queue: { backoff: EXACT }, ...options });
    return { queue: opened.backend.queue, clock: opened.clock };
  };

  describe(`Queue contract: ${adapter}`, () => {
    describe('enqueue', () => {
      it('creates a PENDING job due now with the defaults', async (t) => {
        const { queue, clock } = await open(t);
        const result = await queue.enqueue(input('r/1', { hello: 'world' }));
        assert.equal(result.status, 'enqueued');
        assert.equal(typeof result.jobId, 'string');
        const job = await mustGet(queue, result.jobId);
        assert.deepEqual(
          { ...job },
          {
            id: result.jobId,
            flow: FLOW,
            recordKey: 'r/1',
            state: 'PENDING',
            payloads: [{ hello: 'world' }],
            inputCount: 1,
            attempts: 0,
            maxAttempts: 5,
            runAt: clock.now(),
            createdAt: clock.now(),
            updatedAt: clock.now(),
            lastError: null,
            leaseOwner: null,
            leaseUntil: null,
          },
        );
      });

      it('takes maxAttempts per input and from the queue settings', async (t) => {
        const { queue } = await open(t, { queue: { maxAttempts: 7 } });
        const byDefault = await queue.enqueue(input('r/1'));
        const overridden = await queue.enqueue(input('r/2', null, { maxAttempts: 2 }));
        assert.equal((await mustGet(queue, byDefault.jobId)).maxAttempts, 7);
        assert.equal((await mustGet(queue, overridden.jobId)).maxAttempts, 2);
      });

      it('recognises a redelivery by its dedup key and answers with the first job', async (t) => {
        const { queue } = await open(t);
        const first = await queue.enqueue(input('r/1', 'first', { dedupKey: 'evt-1' }));
        const again = await queue.enqueue(input('r/1', 'again', { dedupKey: 'evt-1' }));
        const elsewhere = await queue.enqueue(input('r/2', 'other record', { dedupKey: 'evt-1' }));
        assert.deepEqual(again, { status: 'duplicate', jobId: first.jobId });
        assert.deepEqual(elsewhere, { status: 'duplicate', jobId: first.jobId });
        const job = await mustGet(queue, first.jobId);
        assert.deepEqual([job.payloads, job.inputCount], [['first'], 1]);
        assert.deepEqual(nonZero(await queue.counts()), { PENDING: 1 });
      });

      it('remembers dedup keys of inputs that coalesced', async (t) => {
        const { queue } = await open(t);
        const first = await queue.enqueue(input('r/1', 1, { dedupKey: 'evt-1' }));
        await queue.enqueue(input('r/1', 2, { dedupKey: 'evt-2' }));
        assert.deepEqual(await queue.enqueue(input('r/1', 3, { dedupKey: 'evt-2' })), {
          status: 'duplicate',
          jobId: first.jobId,
        });
        assert.deepEqual((await mustGet(queue, first.jobId)).payloads, [1, 2]);
      });

      it('coalesces an input for a waiting record into its job, keeping every payload', async (t) => {
        const { queue, clock } = await open(t);
        const first = await queue.enqueue(input('r/1', 'a'));
        clock.advance(5);
        const second = await queue.enqueue(input('r/1', 'b'));
        await queue.enqueue(input('r/2', 'x'));
        assert.deepEqual(second, { status: 'coalesced', jobId: first.jobId });
        const job = await mustGet(queue, first.jobId);
        assert.deepEqual([job.payloads, job.inputCount, job.updatedAt], [['a', 'b'], 2, clock.now()]);
        assert.deepEqual(nonZero(await queue.counts()), { PENDING: 2 });
      });

      it('makes a coalesced PENDING job due at the earlier of both times', async (t) => {
        const { queue, clock } = await open(t);
        const start = clock.now();
        const delayed = await queue.enqueue(input('r/1', 1, { runAt: start + 60_000 }));
        await queue.enqueue(input('r/1', 2));
        assert.equal((await mustGet(queue, delayed.jobId)).runAt, start);
        const due = await queue.enqueue(input('r/2', 1));
        await queue.enqueue(input('r/2', 2, { runAt: start + 60_000 }));
        assert.equal((await mustGet(queue, due.jobId)).runAt, start);
      });

      it('lets a FAILED job keep its backoff when an input coalesces into it', async (t) => {
        const { queue, clock } = await open(t);
        const { jobId } = await queue.enqueue(input('r/1', 'a'));
        const leased = await lease(queue);
        const failed = await queue.fail(jobId, leased.leaseToken, {
          error: { code: 'X', message: 'x' },
          retryable: true,
        });
        assert.equal(failed.runAt, clock.now() + 1_000);
        assert.deepEqual(await queue.enqueue(input('r/1', 'b')), { status: 'coalesced', jobId });
        const job = await mustGet(queue, jobId);
        assert.deepEqual([job.state, job.runAt, job.payloads], ['FAILED', failed.runAt, ['a', 'b']]);
      });

      it('keeps only the newest payloads beyond maxPayloadsPerJob but counts every input', async (t) => {
        const { queue } = await open(t, { queue: { maxPayloadsPerJob: 3 } });
        let jobId = '';
        for (let n = 1; n <= 5; n++) jobId = (await queue.enqueue(input('r/1', n))).jobId;
        const job = await mustGet(queue, jobId);
        assert.deepEqual([job.payloads, job.inputCount], [[3, 4, 5], 5]);
      });

      it('creates one follow-up for a record that is only PROCESSING, held back until the first ends', async (t) => {
        const { queue } = await open(t);
        const first = await queue.enqueue(input('r/1', 'a'));
        const leased = await lease(queue);
        const followup = await queue.enqueue(input('r/1', 'b'));
        assert.equal(followup.status, 'followup');
        assert.notEqual(followup.jobId, first.jobId);
        assert.deepEqual(await queue.enqueue(input('r/1', 'c')), {
          status: 'coalesced',
          jobId: followup.jobId,
        });
        assert.equal(
          await queue.dequeue({ workerId: 'w2', leaseMs: LEASE }),
          null,
          'the follow-up must wait',
        );
        assert.deepEqual(nonZero(await queue.counts()), { PENDING: 1, PROCESSING: 1 });

        await queue.complete(leased.id, leased.leaseToken, 'COMPLETED');
        const next = await lease(queue);
        assert.deepEqual([next.id, next.payloads, next.inputCount], [followup.jobId, ['b', 'c'], 2]);
      });

      it('starts a fresh job for events that arrive after the record’s job died', async (t) => {
        const { queue } = await open(t);
        const first = await queue.enqueue(input('r/1', 'a'));
        const leased = await lease(queue);
        await queue.fail(first.jobId, leased.leaseToken, {
          error: { code: 'X', message: 'x' },
          retryable: false,
        });
        const fresh = await queue.enqueue(input('r/1', 'b'));
        assert.equal(fresh.status, 'enqueued');
        assert.notEqual(fresh.jobId, first.jobId);
      });

      it('rejects inputs without flow or record key', async (t) => {
        const { queue } = await open(t);
        await assert.rejects(queue.enqueue(input('')), InputError);
        await assert.rejects(queue.enqueue({ ...input('r/1'), flow: '' }), InputError);
        assert.deepEqual(nonZero(await queue.counts()), {});
      });
    });

    describe('enqueueMany', () => {
      it('returns results in input order, as if the inputs were enqueued one by one', async (t) => {
        const { queue } = await open(t);
        const results = await queue.enqueueMany([
          input('r/1', 1, { dedupKey: 'e1' }),
          input('r/2', 2, { dedupKey: 'e2' }),
          input('r/1', 3, { dedupKey: 'e3' }),
          input('r/3', 4, { dedupKey: 'e1' }),
          input('r/2', 5, { dedupKey: 'e2' }),
        ]);
        const [r1, r2] = [results[0]!.jobId, results[1]!.jobId];
        assert.deepEqual(results, [
          { status: 'enqueued', jobId: r1 },
          { status: 'enqueued', jobId: r2 },
          { status: 'coalesced', jobId: r1 },
          { status: 'duplicate', jobId: r1 },
          { status: 'duplicate', jobId: r2 },
        ]);
        assert.deepEqual((await mustGet(queue, r1)).payloads, [1, 3]);
        assert.deepEqual(await queue.enqueueMany([]), []);
      });

      it('stores nothing when one input of the batch is invalid', async (t) => {
        const { queue } = await open(t);
        await assert.rejects(queue.enqueueMany([input('r/1'), input('r/2'), input('')]), InputError);
        assert.deepEqual(nonZero(await queue.counts()), {});
      });
    });

    describe('dequeue', () => {
      it('returns null when nothing is due', async (t) => {
        const { queue } = await open(t);
        assert.equal(await queue.dequeue({ workerId: 'w', leaseMs: LEASE }), null);
      });

      it('leases the job: PROCESSING, one more attempt, owner, expiry and a token', async (t) => {
        const { queue, clock } = await open(t);
        const { jobId } = await queue.enqueue(input('r/1', 'a'));
        clock.advance(10);
        const leased = await lease(queue, 'host:1:0');
        assert.equal(leased.id, jobId);
        assert.equal(leased.state, 'PROCESSING');
        assert.equal(leased.attempts, 1);
        assert.equal(leased.leaseOwner, 'host:1:0');
        assert.equal(leased.leaseUntil, clock.now() + LEASE);
        assert.ok(leased.leaseToken.length >= 16, 'the lease token must be hard to guess');
        const stored = await mustGet(queue, jobId);
        assert.deepEqual([stored.state, stored.attempts, stored.leaseOwner], ['PROCESSING', 1, 'host:1:0']);
        assert.equal('leaseToken' in stored, false, 'get must not reveal the lease token');
      });

      it('hands out the due jobs in the order they became due', async (t) => {
        const { queue, clock } = await open(t);
        const start = clock.now();
        const late = await queue.enqueue(input('r/late', null, { runAt: start + 100 }));
        const first = await queue.enqueue(input('r/first'));
        clock.advance(1);
        const second = await queue.enqueue(input('r/second'));
        clock.advance(200);
        const order = [(await lease(queue)).id, (await lease(queue)).id, (await lease(queue)).id];
        assert.deepEqual(order, [first.jobId, second.jobId, late.jobId]);
      });

      it('holds a delayed job back until its runAt', async (t) => {
        const { queue, clock } = await open(t);
        const { jobId } = await queue.enqueue(input('r/1', null, { runAt: clock.now() + 5_000 }));
        assert.equal(await queue.dequeue({ workerId: 'w', leaseMs: LEASE }), null);
        clock.advance(4_999);
        assert.equal(await queue.dequeue({ workerId: 'w', leaseMs: LEASE }), null);
        clock.advance(1);
        assert.equal((await lease(queue)).id, jobId);
      });

      it('hands out only jobs of the requested flows', async (t) => {
        const { queue } = await open(t);
        const sync = await queue.enqueue({ flow: 'sync', recordKey: 'sync|r/1', payload: null });
        const enrich = await queue.enqueue({ flow: 'enrich', recordKey: 'enrich|r/1', payload: null });
        assert.equal(await queue.dequeue({ workerId: 'w', leaseMs: LEASE, flows: ['other'] }), null);
        assert.equal(await queue.dequeue({ workerId: 'w', leaseMs: LEASE, flows: [] }), null);
        const got = await queue.dequeue({ workerId: 'w', leaseMs: LEASE, flows: ['enrich', 'other'] });
        assert.equal(got?.id, enrich.jobId);
        assert.equal(
          (await queue.dequeue({ workerId: 'w', leaseMs: LEASE, flows: ['sync'] }))?.id,
          sync.jobId,
        );
      });

      it('never hands the same job to two concurrent workers (cannot fail on SQLite, whose calls never interleave; it guards async backends)', async (t) => {
        const { queue } = await open(t);
        await queue.enqueueMany(Array.from({ length: 5 }, (_, n) => input(`r/${n}`)));
        const got = await Promise.all(
          Array.from({ length: 10 }, (_, n) => queue.dequeue({ workerId: `w${n}`, leaseMs: LEASE })),
        );
        const ids = got.filter((job) => job !== null).map((job) => job.id);
        assert.equal(ids.length, 5);
        assert.equal(new Set(ids).size, 5);
      });
    });

    describe('leases', () => {
      it('extends a lease with heartbeat', async (t) => {
        const { queue, clock } = await open(t);
        await queue.enqueue(input('r/1'));
        const leased = await lease(queue);
        for (let beat = 0; beat < 5; beat++) {
          clock.advance(LEASE / 2);
          await queue.heartbeat(leased.id, leased.leaseToken, LEASE);
          assert.equal(await queue.dequeue({ workerId: 'w2', leaseMs: LEASE }), null, 'a live lease is kept');
        }
        assert.equal((await mustGet(queue, leased.id)).leaseUntil, clock.now() + LEASE);
        await queue.complete(leased.id, leased.leaseToken, 'COMPLETED');
      });

      it('re-runs a job whose lease expired, counting the lost attempt, after the backoff', async (t) => {
        const { queue, clock } = await open(t);
        const { jobId } = await queue.enqueue(input('r/1', 'a'));
        const dead = await lease(queue, 'dies');
        clock.advance(LEASE);
        assert.equal(await queue.dequeue({ workerId: 'w2', leaseMs: LEASE }), null, 'waits for the backoff');
        const waiting = await mustGet(queue, jobId);
        assert.equal(waiting.state, 'FAILED');
        assert.equal(waiting.lastError?.code, 'QUEUE_LEASE_EXPIRED');
        assert.equal(waiting.runAt, clock.now() + 1_000);
        assert.deepEqual([waiting.leaseOwner, waiting.leaseUntil], [null, null]);

        clock.advance(1_000);
        const again = await lease(queue, 'w2');
        assert.deepEqual([again.id, again.attempts], [jobId, 2]);
        assert.notEqual(again.leaseToken, dead.leaseToken);
        await assert.rejects(queue.complete(jobId, dead.leaseToken, 'COMPLETED'), LeaseLostError);
        await assert.rejects(queue.heartbeat(jobId, dead.leaseToken, LEASE), LeaseLostError);
        await queue.complete(jobId, again.leaseToken, 'COMPLETED');
        assert.equal((await mustGet(queue, jobId)).state, 'COMPLETED');
      });

      it('sends a job DEAD when its lease expires on the last attempt', async (t) => {
        const { queue, clock } = await open(t, { queue: { maxAttempts: 1, backoff: EXACT } });
        const { jobId } = await queue.enqueue(input('r/1'));
        await lease(queue);
        clock.advance(LEASE + 1);
        assert.equal(await queue.dequeue({ workerId: 'w2', leaseMs: LEASE }), null);
        const job = await mustGet(queue, jobId);
        assert.deepEqual([job.state, job.attempts, job.lastError?.code], ['DEAD', 1, 'QUEUE_LEASE_EXPIRED']);
      });

      it('refuses every lease operation without the current token', async (t) => {
        const { queue } = await open(t);
        await queue.enqueue(input('r/1'));
        const leased = await lease(queue);
        const failure = { error: { code: 'X', message: 'x' }, retryable: true };
        for (const [id, token] of [
          [leased.id, 'not-the-token'],
          ['999999', leased.leaseToken],
          ['no-such-id', leased.leaseToken],
        ] as const) {
          await assert.rejects(queue.heartbeat(id, token, LEASE), LeaseLostError);
          await assert.rejects(queue.complete(id, token, 'COMPLETED'), LeaseLostError);
          await assert.rejects(queue.fail(id, token, failure), LeaseLostError);
          await assert.rejects(queue.release(id, token), (error: unknown) => {
            assert.ok(error instanceof LeaseLostError);
            assert.equal(error.code, 'QUEUE_LEASE_LOST');
            return true;
          });
        }
        assert.equal((await mustGet(queue, leased.id)).state, 'PROCESSING');
      });

      it('refuses lease operations once the job has ended', async (t) => {
        const { queue } = await open(t);
        await queue.enqueue(input('r/1'));
        const leased = await lease(queue);
        await queue.complete(leased.id, leased.leaseToken, 'SKIPPED');
        const job = await mustGet(queue, leased.id);
        assert.deepEqual([job.state, job.leaseOwner, job.leaseUntil], ['SKIPPED', null, null]);
        await assert.rejects(queue.complete(leased.id, leased.leaseToken, 'COMPLETED'), LeaseLostError);
        await assert.rejects(queue.heartbeat(leased.id, leased.leaseToken, LEASE), LeaseLostError);
        await assert.rejects(queue.release(leased.id, leased.leaseToken), LeaseLostError);
      });
    });

    describe('fail and retry', () => {
      it('retries a retryable failure after the backoff, then runs it again', async (t) => {
        const { queue, clock } = await open(t);
        const { jobId } = await queue.enqueue(input('r/1'));
        const leased = await lease(queue);
        const error = { code: 'VENDOR_5XX', message: 'SuperOffice answered 503' };
        const result = await queue.fail(jobId, leased.leaseToken, { error, retryable: true });
        assert.deepEqual(result, { state: 'FAILED', runAt: clock.now() + 1_000 });
        const job = await mustGet(queue, jobId);
        assert.deepEqual(
          [job.state, job.runAt, job.lastError, job.leaseOwner],
          ['FAILED', result.runAt, error, null],
        );
        clock.advance(999);
        assert.equal(await queue.dequeue({ workerId: 'w', leaseMs: LEASE }), null);
        clock.advance(1);
        assert.equal((await lease(queue)).attempts, 2);
      });

      it('grows the backoff exponentially up to its cap', async (t) => {
        const backoff: BackoffPolicy = { baseMs: 1_000, maxMs: 5_000, jitter: 0 };
        const { queue, clock } = await open(t, { queue: { maxAttempts: 10, backoff } });
        const { jobId } = await queue.enqueue(input('r/1'));
        const delays: number[] = [];
        for (let attempt = 1; attempt <= 6; attempt++) {
          const leased = await lease(queue);
          const failed = await queue.fail(jobId, leased.leaseToken, {
            error: { code: 'X', message: 'x' },
            retryable: true,
          });
          delays.push(failed.runAt! - clock.now());
          clock.set(failed.runAt!);
        }
        assert.deepEqual(delays, [1_000, 2_000, 4_000, 5_000, 5_000, 5_000]);
      });

      it('spreads retries with jitter drawn from the random source', async (t) => {
        const backoff: BackoffPolicy = { baseMs: 1_000, maxMs: 60_000, jitter: 0.5 };
        for (const [draw, expected] of [
          [0, 500],
          [0.999_999, 1_500],
        ] as const) {
          const { queue, clock } = await open(t, { queue: { backoff }, random: () => draw });
          const { jobId } = await queue.enqueue(input('r/1'));
          const leased = await lease(queue);
          const failed = await queue.fail(jobId, leased.leaseToken, {
            error: { code: 'X', message: 'x' },
            retryable: true,
          });
          assert.equal(failed.runAt! - clock.now(), expected);
          assert.equal(
            expected,
            backoffDelay(1, backoff, () => draw),
          );
        }
      });

      it('waits for retryAfterMs instead of the backoff when the failure gives one', async (t) => {
        const { queue, clock } = await open(t);
        const { jobId } = await queue.enqueue(input('r/1'));
        const leased = await lease(queue);
        const error = { code: 'VENDOR_RATE_LIMITED', message: '429' };
        const failed = await queue.fail(jobId, leased.leaseToken, {
          error,
          retryable: true,
          retryAfterMs: 42_000,
        });
        assert.equal(failed.runAt, clock.now() + 42_000);
      });

      it('sends a job DEAD after maxAttempts failed attempts', async (t) => {
        const { queue, clock } = await open(t, { queue: { maxAttempts: 3, backoff: EXACT } });
        const { jobId } = await queue.enqueue(input('r/1'));
        const states: string[] = [];
        for (let attempt = 1; attempt <= 3; attempt++) {
          const leased = await lease(queue);
          const error = { code: 'X', message: `attempt ${attempt}` };
          const failed = await queue.fail(jobId, leased.leaseToken, { error, retryable: true });
          states.push(failed.state);
          if (failed.runAt !== null) clock.set(failed.runAt);
        }
        assert.deepEqual(states, ['FAILED', 'FAILED', 'DEAD']);
        clock.advance(24 * 3_600_000);
        assert.equal(await queue.dequeue({ workerId: 'w', leaseMs: LEASE }), null);
        const job = await mustGet(queue, jobId);
        assert.deepEqual([job.state, job.attempts, job.lastError?.message], ['DEAD', 3, 'attempt 3']);
      });

      it('sends a non-retryable failure DEAD at once', async (t) => {
        const { queue } = await open(t);
        const { jobId } = await queue.enqueue(input('r/1'));
        const leased = await lease(queue);
        const error = { code: 'CONFIG_INVALID', message: 'no mapping' };
        assert.deepEqual(await queue.fail(jobId, leased.leaseToken, { error, retryable: false }), {
          state: 'DEAD',
          runAt: null,
        });
        assert.deepEqual((await mustGet(queue, jobId)).lastError, error);
      });
    });

    describe('folding when a job returns to waiting', () => {
      /** A PROCESSING job for r/1 (payload a, dedup e-a) and its follow-up (payload b, dedup e-b). */
      const withFollowup = async (t: TestContext, options: Parameters<typeof openFor>[2] = {}) => {
        const opened = await open(t, options);
        const first = await opened.queue.enqueue(input('r/1', 'a', { dedupKey: 'e-a' }));
        const leased = await lease(opened.queue);
        const followup = await opened.queue.enqueue(input('r/1', 'b', { dedupKey: 'e-b' }));
        assert.equal(followup.status, 'followup');
        return { ...opened, first: first.jobId, leased, followup: followup.jobId };
      };

      const assertFolded = async (queue: Queue, survivor: string, absorbed: string, state: JobState) => {
        assert.equal(await queue.get(absorbed), null, 'the absorbed job is gone');
        const job = await mustGet(queue, survivor);
        assert.deepEqual([job.state, job.payloads, job.inputCount], [state, ['a', 'b'], 2]);
        assert.deepEqual(await queue.enqueue(input('r/1', 'dup', { dedupKey: 'e-b' })), {
          status: 'duplicate',
          jobId: survivor,
        });
        assert.deepEqual(await queue.enqueue(input('r/1', 'c')), { status: 'coalesced', jobId: survivor });
        assert.deepEqual(nonZero(await queue.counts()), { [state]: 1 });
      };

      it('folds the follow-up into a job that fails and will retry', async (t) => {
        const { queue, leased, first, followup } = await withFollowup(t);
        await queue.fail(first, leased.leaseToken, { error: { code: 'X', message: 'x' }, retryable: true });
        await assertFolded(queue, first, followup, 'FAILED');
      });

      it('folds the follow-up into a job whose lease expired', async (t) => {
        const { queue, clock, first, followup } = await withFollowup(t);
        clock.advance(LEASE);
        assert.equal(await queue.dequeue({ workerId: 'w2', leaseMs: LEASE }), null);
        await assertFolded(queue, first, followup, 'FAILED');
      });

      it('folds the follow-up into a released job', async (t) => {
        const { queue, leased, first, followup } = await withFollowup(t);
        await queue.release(first, leased.leaseToken);
        await assertFolded(queue, first, followup, 'PENDING');
      });

      it('does not fold into a job that goes DEAD: the follow-up runs on its own', async (t) => {
        const { queue, leased, first, followup } = await withFollowup(t);
        await queue.fail(first, leased.leaseToken, { error: { code: 'X', message: 'x' }, retryable: false });
        const next = await lease(queue);
        assert.deepEqual([next.id, next.payloads], [followup, ['b']]);
        assert.equal((await mustGet(queue, first)).state, 'DEAD');
      });

      it('folds the waiting job into a replayed one', async (t) => {
        const { queue, leased, first, followup } = await withFollowup(t);
        await queue.fail(first, leased.leaseToken, { error: { code: 'X', message: 'x' }, retryable: false });
        await queue.replay(first);
        await assertFolded(queue, first, followup, 'PENDING');
      });

      it('keeps the newest payloads when a fold goes beyond maxPayloadsPerJob', async (t) => {
        const { queue, leased, first, followup } = await withFollowup(t, {
          queue: { maxPayloadsPerJob: 2, backoff: EXACT },
        });
        await queue.enqueue(input('r/1', 'c'));
        await queue.release(first, leased.leaseToken);
        assert.equal(await queue.get(followup), null);
        const job = await mustGet(queue, first);
        assert.deepEqual([job.payloads, job.inputCount], [['b', 'c'], 3]);
      });
    });

    describe('release', () => {
      it('gives a job back due now without counting the attempt', async (t) => {
        const { queue, clock } = await open(t);
        const { jobId } = await queue.enqueue(input('r/1'));
        const leased = await lease(queue);
        clock.advance(100);
        await queue.release(jobId, leased.leaseToken);
        const job = await mustGet(queue, jobId);
        assert.deepEqual(
          [job.state, job.attempts, job.runAt, job.leaseOwner, job.leaseUntil],
          ['PENDING', 0, clock.now(), null, null],
        );
        assert.equal((await lease(queue)).attempts, 1);
      });
    });

    describe('replay', () => {
      it('moves a DEAD job back to PENDING with attempts reset and its last error still shown', async (t) => {
        const { queue, clock } = await open(t);
        const { jobId } = await queue.enqueue(input('r/1'));
        const leased = await lease(queue);
        const error = { code: 'X', message: 'broken' };
        await queue.fail(jobId, leased.leaseToken, { error, retryable: false });
        clock.advance(60_000);
        const replayed = await queue.replay(jobId);
        assert.deepEqual(
          [replayed.id, replayed.state, replayed.attempts, replayed.runAt, replayed.lastError],
          [jobId, 'PENDING', 0, clock.now(), error],
        );
        const again = await lease(queue);
        assert.deepEqual([again.id, again.attempts], [jobId, 1]);
        await queue.complete(jobId, again.leaseToken, 'COMPLETED');
      });

      it('refuses jobs that are not DEAD (409) and unknown jobs (404)', async (t) => {
        const { queue } = await open(t);
        const { jobId } = await queue.enqueue(input('r/1'));
        await assert.rejects(queue.replay(jobId), (error: unknown) => {
          assert.ok(error instanceof InputError);
          assert.deepEqual([error.code, error.httpStatus], ['JOB_NOT_DEAD', 409]);
          return true;
        });
        for (const id of ['999999', 'no-such-id']) {
          await assert.rejects(queue.replay(id), (error: unknown) => {
            assert.ok(error instanceof NotFoundError);
            assert.deepEqual([error.code, error.httpStatus], ['JOB_NOT_FOUND', 404]);
            return true;
          });
        }
      });
    });

    describe('get, list, counts, prune', () => {
      it('returns null for unknown ids', async (t) => {
        const { queue } = await open(t);
        assert.equal(await queue.get('999999'), null);
        assert.equal(await queue.get('not-an-id'), null);
      });

      it('lists newest first with filters and keyset paging', async (t) => {
        const { queue, clock } = await open(t);
        const ids: string[] = [];
        for (let n = 0; n < 7; n++) {
          clock.advance(1);
          ids.push(
            (await queue.enqueue({ flow: n % 2 === 0 ? 'even' : 'odd', recordKey: `r/${n}`, payload: n }))
              .jobId,
          );
        }
        const leased = await lease(queue);
        assert.equal(leased.id, ids[0]);
        const all = await queue.list();
        assert.deepEqual(
          all.map((job) => job.id),
          [...ids].reverse(),
        );
        assert.deepEqual(
          (await queue.list({ flow: 'odd' })).map((job) => job.payloads[0]),
          [5, 3, 1],
        );
        assert.deepEqual(
          (await queue.list({ states: ['PROCESSING'] })).map((job) => job.id),
          [ids[0]],
        );
        assert.deepEqual(
          (await queue.list({ states: ['PROCESSING', 'PENDING'], recordKey: 'r/3' })).map((job) => job.id),
          [ids[3]],
        );
        const paged: string[] = [];
        let page = await queue.list({ limit: 3 });
        while (page.length > 0) {
          paged.push(...page.map((job) => job.id));
          page = await queue.list({ limit: 3, beforeId: page.at(-1)!.id });
        }
        assert.deepEqual(paged, [...ids].reverse());
      });

      it('counts every state, zeros included', async (t) => {
        const { queue } = await open(t);
        const empty = await queue.counts();
        assert.deepEqual(Object.keys(empty).sort(), [...JOB_STATES].sort());
        assert.ok(Object.values(empty).every((count) => count === 0));

        await queue.enqueueMany(['a', 'b', 'c', 'd', 'e'].map((key) => input(key)));
        const error = { code: 'X', message: 'x' };
        const completed = await lease(queue);
        await queue.complete(completed.id, completed.leaseToken, 'COMPLETED');
        const skipped = await lease(queue);
        await queue.complete(skipped.id, skipped.leaseToken, 'SKIPPED');
        const failed = await lease(queue);
        await queue.fail(failed.id, failed.leaseToken, { error, retryable: true });
        const dead = await lease(queue);
        await queue.fail(dead.id, dead.leaseToken, { error, retryable: false });
        await lease(queue);
        assert.deepEqual(await queue.counts(), {
          PENDING: 0,
          PROCESSING: 1,
          COMPLETED: 1,
          SKIPPED: 1,
          FAILED: 1,
          DEAD: 1,
        });
      });

      it('prunes finished jobs and dedup keys older than the cutoff, and nothing else', async (t) => {
        const { queue, clock } = await open(t);
        const finish = async (state: 'COMPLETED' | 'SKIPPED') => {
          const leased = await lease(queue);
          await queue.complete(leased.id, leased.leaseToken, state);
          return leased.id;
        };
        await queue.enqueue(input('old/completed', null, { dedupKey: 'e-old' }));
        const oldCompleted = await finish('COMPLETED');
        await queue.enqueue(input('old/skipped'));
        const oldSkipped = await finish('SKIPPED');
        await queue.enqueue(input('old/dead'));
        const dead = await lease(queue);
        await queue.fail(dead.id, dead.leaseToken, { error: { code: 'X', message: 'x' }, retryable: false });
        const oldPending = (
          await queue.enqueue(input('old/pending', null, { runAt: clock.now() + 86_400_000 }))
        ).jobId;
        clock.advance(1_000);
        const cutoff = clock.now();
        await queue.enqueue(input('new/completed', null, { dedupKey: 'e-new' }));
        const newCompleted = await finish('COMPLETED');

        assert.equal(await queue.prune(cutoff), 2);
        assert.equal(await queue.get(oldCompleted), null);
        assert.equal(await queue.get(oldSkipped), null);
        for (const kept of [dead.id, oldPending, newCompleted])
          assert.ok(await queue.get(kept), `job ${kept} is kept`);
        assert.equal((await queue.enqueue(input('x/1', null, { dedupKey: 'e-old' }))).status, 'enqueued');
        assert.deepEqual(await queue.enqueue(input('x/2', null, { dedupKey: 'e-new' })), {
          status: 'duplicate',
          jobId: newCompleted,
        });
      });
    });

    defineQueueModelContract(factory);
    defineQueueCrashContract(factory);
  });
}
