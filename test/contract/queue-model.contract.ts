/**
 * Randomised contract tests of the queue: long seeded sequences of operations, checking after every step the
 * invariants the port promises (one waiting and one processing job per record, nothing lost but what prune
 * removed, dedup, counts per state), and
 * that enqueueMany behaves exactly like enqueue called once per input. The seed is printed; rerun a failure
 * with CRMSYNC_TEST_SEED=<seed>.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import { LeaseLostError } from '../../src/core/errors.ts';
import { JOB_STATES } from '../../src/ports/queue.ts';
import type { EnqueueResult, Job, JobInput, JobState, LeasedJob, Queue } from '../../src/ports/queue.ts';
import { openFor } from './harness.ts';
import type { ContractBackendFactory } from './harness.ts';
import { pick, seededRandom, testSeed } from './seeded-random.ts';

const RECORDS = ['r/a', 'r/b', 'r/c', 'r/d'];
const STEPS = 800;
const SETTINGS = {
  maxAttempts: 3,
  maxPayloadsPerJob: 100_000,
  backoff: { baseMs: 500, maxMs: 4_000, jitter: 0.3 },
};

async function allJobs(queue: Queue): Promise<Job[]> {
  return queue.list({ limit: 10_000 });
}

/** Checks the port's invariants on the whole queue; `accepted` are the payloads of all non-duplicate inputs. */
function assertInvariants(jobs: readonly Job[], accepted: readonly number[], context: string): void {
  for (const recordKey of RECORDS) {
    const ofRecord = jobs.filter((job) => job.recordKey === recordKey);
    const waiting = ofRecord.filter((job) => job.state === 'PENDING' || job.state === 'FAILED');
    const processing = ofRecord.filter((job) => job.state === 'PROCESSING');
    assert.ok(waiting.length <= 1, `${context}: ${waiting.length} waiting jobs for ${recordKey}`);
    assert.ok(processing.length <= 1, `${context}: ${processing.length} processing jobs for ${recordKey}`);
  }
  for (const job of jobs) {
    assert.equal(job.payloads.length, job.inputCount, `${context}: payloads of job ${job.id} vs inputCount`);
    assert.ok(job.attempts <= job.maxAttempts, `${context}: job ${job.id} has ${job.attempts} attempts`);
    if (job.state === 'FAILED')
      assert.ok(job.attempts < job.maxAttempts, `${context}: FAILED job out of attempts`);
    assert.equal(
      job.leaseOwner !== null,
      job.state === 'PROCESSING',
      `${context}: lease owner of job ${job.id}`,
    );
  }
  const stored = jobs.flatMap((job) => job.payloads as number[]).sort((a, b) => a - b);
  assert.deepEqual(
    stored,
    [...accepted].sort((a, b) => a - b),
    `${context}: every accepted input is in a job`,
  );
}

/** Jobs per state, every state present. */
function countsOf(jobs: readonly Job[]): Record<JobState, number> {
  const counts = Object.fromEntries(JOB_STATES.map((state) => [state, 0])) as Record<JobState, number>;
  for (const job of jobs) counts[job.state] += 1;
  return counts;
}

/** Renames job ids to their order of first appearance, so that two queues' results can be compared. */
function normaliser(): (id: string) => number {
  const names = new Map<string, number>();
  return (id) => {
    if (!names.has(id)) names.set(id, names.size);
    return names.get(id)!;
  };
}

/** Defines the randomised queue tests for one adapter. */
export function defineQueueModelContract(factory: ContractBackendFactory): void {
  describe('randomised', () => {
    it('keeps its invariants through a random sequence of operations', async (t: TestContext) => {
      const seed = testSeed(20_251_122);
      t.diagnostic(`seed ${seed} (rerun with CRMSYNC_TEST_SEED=${seed})`);
      const random = seededRandom(seed);
      const { backend, clock } = await openFor(t, factory, {
        queue: SETTINGS,
        random: seededRandom(seed + 1),
      });
      const queue = backend.queue;
      const held: LeasedJob[] = [];
      /** Dedup keys stored, with when (prune forgets those older than its cutoff). */
      const seenDedupKeys = new Map<string, number>();
      const accepted: number[] = [];
      let nextPayload = 0;

      const newInput = (): JobInput => {
        const dedup = random() < 0.5 ? `evt-${pick(random, 60)}` : undefined;
        return {
          flow: 'model',
          recordKey: RECORDS[pick(random, RECORDS.length)]!,
          dedupKey: dedup,
          payload: nextPayload++,
        };
      };
      const check = (inputs: readonly JobInput[], results: readonly EnqueueResult[]) => {
        inputs.forEach((item, index) => {
          const expectDuplicate = item.dedupKey !== undefined && seenDedupKeys.has(item.dedupKey);
          assert.equal(results[index]!.status === 'duplicate', expectDuplicate, `dedup of ${item.dedupKey}`);
          if (item.dedupKey !== undefined && !expectDuplicate) seenDedupKeys.set(item.dedupKey, clock.now());
          if (!expectDuplicate) accepted.push(item.payload as number);
        });
      };
      /** Runs a lease operation on a held job: must succeed while the lease is live; may fail after. */
      const onHeld = async (operation: (job: LeasedJob) => Promise<unknown>) => {
        if (held.length === 0) return;
        const [job] = held.splice(pick(random, held.length), 1);
        const live = clock.now() < job!.leaseUntil!;
        try {
          await operation(job!);
        } catch (error) {
          if (live || !(error instanceof LeaseLostError)) throw error;
        }
      };

      for (let step = 0; step < STEPS; step++) {
        const roll = random();
        if (roll < 0.25) {
          const item = newInput();
          check([item], [await queue.enqueue(item)]);
        } else if (roll < 0.35) {
          const batch = Array.from({ length: 1 + pick(random, 6) }, newInput);
          check(batch, await queue.enqueueMany(batch));
        } else if (roll < 0.55) {
          const job = await queue.dequeue({ workerId: `w${step}`, leaseMs: 1_000 + pick(random, 4_000) });
          if (job !== null) held.push(job);
        } else if (roll < 0.65) {
          await onHeld((job) =>
            queue.complete(job.id, job.leaseToken, random() < 0.8 ? 'COMPLETED' : 'SKIPPED'),
          );
        } else if (roll < 0.75) {
          const retryable = random() < 0.8;
          await onHeld((job) =>
            queue.fail(job.id, job.leaseToken, { error: { code: 'X', message: 'x' }, retryable }),
          );
        } else if (roll < 0.8) {
          await onHeld((job) => queue.release(job.id, job.leaseToken));
        } else if (roll < 0.85) {
          await onHeld(async (job) => {
            await queue.heartbeat(job.id, job.leaseToken, 3_000);
            held.push({ ...job, leaseUntil: clock.now() + 3_000 });
          });
        } else if (roll < 0.9) {
          const dead = await queue.list({ states: ['DEAD'], limit: 10 });
          if (dead.length > 0) await queue.replay(dead[pick(random, dead.length)]!.id);
        } else if (roll < 0.93) {
          const cutoff = clock.now() - pick(random, 3_000);
          const gone = (await allJobs(queue)).filter(
            (job) => (job.state === 'COMPLETED' || job.state === 'SKIPPED') && job.updatedAt < cutoff,
          );
          assert.equal(await queue.prune(cutoff), gone.length, `seed ${seed}, step ${step}: pruned`);
          const prunedPayloads = new Set(gone.flatMap((job) => job.payloads as number[]));
          accepted.splice(0, accepted.length, ...accepted.filter((payload) => !prunedPayloads.has(payload)));
          for (const [key, at] of seenDedupKeys) if (at < cutoff) seenDedupKeys.delete(key);
        } else {
          clock.advance(pick(random, 3_000));
        }
        const jobs = await allJobs(queue);
        assertInvariants(jobs, accepted, `seed ${seed}, step ${step}`);
        assert.deepEqual(await queue.counts(), countsOf(jobs), `seed ${seed}, step ${step}: counts`);
      }
    });

    it('enqueueMany gives the same results and jobs as enqueue one by one', async (t: TestContext) => {
      const seed = testSeed(4_242);
      t.diagnostic(`seed ${seed} (rerun with CRMSYNC_TEST_SEED=${seed})`);
      const random = seededRandom(seed);
      const batched = (await openFor(t, factory)).backend.queue;
      const single = (await openFor(t, factory)).backend.queue;
      const [nameBatched, nameSingle] = [normaliser(), normaliser()];
      const shape = (results: readonly EnqueueResult[], name: (id: string) => number) =>
        results.map((result) => `${result.status}:${name(result.jobId)}`);

      for (let round = 0; round < 30; round++) {
        const batch: JobInput[] = Array.from({ length: 1 + pick(random, 12) }, () => ({
          flow: 'model',
          recordKey: RECORDS[pick(random, RECORDS.length)]!,
          dedupKey: random() < 0.6 ? `evt-${pick(random, 40)}` : undefined,
          payload: pick(random, 1_000),
        }));
        const fromBatch = await batched.enqueueMany(batch);
        const fromSingles: EnqueueResult[] = [];
        for (const item of batch) fromSingles.push(await single.enqueue(item));
        assert.deepEqual(
          shape(fromBatch, nameBatched),
          shape(fromSingles, nameSingle),
          `seed ${seed}, round ${round}`,
        );

        // Put some records into PROCESSING (and finish others) the same way on both, so follow-ups happen.
        const finish = random() < 0.5;
        for (const queue of [batched, single]) {
          const job = await queue.dequeue({ workerId: 'w', leaseMs: 60_000 });
          if (job !== null && finish) await queue.complete(job.id, job.leaseToken, 'COMPLETED');
        }
      }
      const view = (jobs: Job[], name: (id: string) => number) =>
        jobs
          .map((job) => ({
            id: name(job.id),
            recordKey: job.recordKey,
            state: job.state,
            payloads: job.payloads,
          }))
          .sort((a, b) => a.id - b.id);
      assert.deepEqual(view(await allJobs(batched), nameBatched), view(await allJobs(single), nameSingle));
    });
  });
}
