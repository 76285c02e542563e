import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { valueHash } from '../../src/core/canonical.ts';
import { CrmsyncError, StorageError } from '../../src/core/errors.ts';
import type { FieldChange } from '../../src/core/types.ts';
import { createInspectHandler } from '../../src/engine/flows/inspect.ts';
import type { FlowHandler, OutcomeRecorded } from '../../src/engine/handlers.ts';
import { jobRecordKey } from '../../src/core/types.ts';
import { HandlerRegistry } from '../../src/engine/handlers.ts';
import type { RunFinishedInfo, WorkerPoolOptions } from '../../src/engine/worker-pool.ts';
import { WorkerPool } from '../../src/engine/worker-pool.ts';
import type { Backend } from '../../src/ports/backend.ts';
import { systemClock } from '../../src/ports/clock.ts';
import type { Job, Queue } from '../../src/ports/queue.ts';
import type { Run } from '../../src/ports/store.ts';
import { eventually } from '../support/eventually.ts';
import { walCommitCount } from '../support/wal-commits.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { holdsWithoutTimers, settlesWithoutTimers } from '../support/settles.ts';
import type { TestBackend } from './support.ts';
import { gate, openTestBackend, override, silentLogger } from './support.ts';

/** A handler that completes at once. */
const completed: FlowHandler = () => Promise.resolve({ outcome: 'COMPLETED' });

const contact = (id: string) => ({ connection: 'crm', entityType: 'Contact', id });

/** Enqueues one change event for Contact `id` in `flow`; returns the job id. */
async function enqueue(
  queue: Queue,
  flow: string,
  id: string,
  payload: object = { kind: 'updated' },
): Promise<string> {
  const result = await queue.enqueue({
    flow,
    recordKey: jobRecordKey(flow, contact(id)),
    payload: { ref: contact(id), ...payload },
  });
  return result.jobId;
}

async function jobState(queue: Queue, jobId: string): Promise<Job> {
  const job = await queue.get(jobId);
  assert.ok(job, `job ${jobId} exists`);
  return job;
}

/** Waits until the job is in `state` and returns it. */
function jobIn(queue: Queue, jobId: string, state: Job['state']): Promise<Job> {
  return eventually(async () => {
    const job = await jobState(queue, jobId);
    assert.equal(job.state, state, `job ${jobId}: ${JSON.stringify(job.lastError)}`);
    return job;
  });
}

async function onlyRun(backend: Backend, jobId: string): Promise<Run> {
  const runs = await backend.store.runs.list({ jobId });
  assert.equal(runs.length, 1, 'one run');
  return runs[0] as Run;
}

describe('WorkerPool', () => {
  let test_: TestBackend;
  let backend: Backend;
  let handlers: HandlerRegistry;
  let pool: WorkerPool | undefined;
  const observed: RunFinishedInfo[] = [];

  beforeEach(() => {
    test_ = openTestBackend();
    backend = test_.backend;
    handlers = new HandlerRegistry();
    observed.length = 0;
  });

  afterEach(async () => {
    await pool?.stop({ deadlineMs: 0 });
    pool = undefined;
    await test_.close();
  });

  /** A pool of another instance: its own connection to the same database, one loop, its own lease. */
  function startSecondInstance(leaseMs: number): WorkerPool {
    const other = test_.openAnother();
    const second = new WorkerPool({
      queue: other.queue,
      attempts: other.attempts,
      store: other.store,
      handlers,
      clock: systemClock,
      logger: silentLogger,
      concurrency: 1,
      leaseMs,
      pollMs: 5,
      workerIdPrefix: 'second',
    });
    second.start();
    return second;
  }

  function startPool(options: Partial<WorkerPoolOptions> = {}): WorkerPool {
    pool = new WorkerPool({
      queue: backend.queue,
      attempts: backend.attempts,
      store: backend.store,
      handlers,
      clock: systemClock,
      logger: silentLogger,
      concurrency: 2,
      leaseMs: 30_000,
      pollMs: 10,
      workerIdPrefix: 'test',
      observer: { runFinished: (info) => observed.push(info) },
      ...options,
    });
    pool.start();
    return pool;
  }

  test('runs at most `concurrency` handlers at once', async () => {
    let active = 0;
    let maxActive = 0;
    const allBusy = gate();
    handlers.register('work', async () => {
      active += 1;
      maxActive = Math.max(maxActive, active);
      if (active === 3) allBusy.open();
      await allBusy.opened;
      active -= 1;
      return { outcome: 'COMPLETED' };
    });
    const jobs = await Promise.all(
      Array.from({ length: 12 }, (_, index) => enqueue(backend.queue, 'work', String(index))),
    );
    startPool({ concurrency: 3 });
    for (const jobId of jobs) await jobIn(backend.queue, jobId, 'COMPLETED');
    assert.equal(maxActive, 3);
  });

  test('never runs two jobs of the same record at once', async () => {
    const active = new Map<string, number>();
    let overlaps = 0;
    const firstRunHeld = gate();
    let xRuns = 0;
    handlers.register('work', async (job) => {
      const running = (active.get(job.recordKey) ?? 0) + 1;
      active.set(job.recordKey, running);
      if (running > 1) overlaps += 1;
      if (job.recordKey.endsWith('/x') && ++xRuns === 1) await firstRunHeld.opened;
      active.set(job.recordKey, (active.get(job.recordKey) ?? 1) - 1);
      return { outcome: 'COMPLETED' };
    });
    startPool({ concurrency: 4 });
    const first = await enqueue(backend.queue, 'work', 'x');
    await eventually(() => xRuns === 1);
    // The record is PROCESSING: this input becomes its follow-up job, which must wait for the first.
    const followup = await enqueue(backend.queue, 'work', 'x', { kind: 'deleted' });
    assert.notEqual(followup, first);
    const other = await enqueue(backend.queue, 'work', 'y');
    pool?.wake();
    await jobIn(backend.queue, other, 'COMPLETED');
    assert.equal(xRuns, 1, 'the follow-up waits while the first job of its record runs');
    firstRunHeld.open();
    await jobIn(backend.queue, first, 'COMPLETED');
    await jobIn(backend.queue, followup, 'COMPLETED');
    assert.equal(xRuns, 2);
    assert.equal(overlaps, 0);
  });

  test('records runs with outcome, reason, changes, API calls and names', async () => {
    const change: FieldChange = { ref: contact('1'), field: 'name', before: 'Acme', after: 'Acme GmbH' };
    handlers.register('sync', async (job, context) => {
      await context.setNames({ displayName: 'Acme GmbH', ownerName: 'RK' });
      context.countApiCall();
      context.countApiCall();
      assert.equal(context.attempt, 1);
      const id = job.recordKey.split('/').at(-1);
      if (id === '2') return { outcome: 'SKIPPED', reason: 'echo' };
      if (id === '3') return { outcome: 'CONFLICT', reason: 'name changed on both sides' };
      return { outcome: 'COMPLETED', reason: 'wrote 1 field', changes: [change] };
    });
    const completed = await enqueue(backend.queue, 'sync', '1');
    const skipped = await enqueue(backend.queue, 'sync', '2');
    const conflict = await enqueue(backend.queue, 'sync', '3');
    startPool();
    await jobIn(backend.queue, completed, 'COMPLETED');
    await jobIn(backend.queue, skipped, 'SKIPPED');
    await jobIn(backend.queue, conflict, 'COMPLETED');

    const run = await onlyRun(backend, completed);
    assert.equal(run.outcome, 'COMPLETED');
    assert.equal(run.reason, 'wrote 1 field');
    assert.deepEqual(run.changes, [change]);
    assert.equal(run.apiCalls, 2);
    assert.equal(run.displayName, 'Acme GmbH');
    assert.equal(run.ownerName, 'RK');
    assert.deepEqual(run.ref, contact('1'));
    assert.equal(run.flow, 'sync');
    assert.equal(run.attempt, 1);
    assert.equal(run.error, null);
    assert.ok(run.finishedAt !== null && run.finishedAt >= run.startedAt);

    assert.deepEqual(
      [(await onlyRun(backend, skipped)).outcome, (await onlyRun(backend, skipped)).reason],
      ['SKIPPED', 'echo'],
    );
    assert.equal((await onlyRun(backend, conflict)).outcome, 'CONFLICT');
    assert.deepEqual(observed.map((info) => info.outcome).sort(), ['COMPLETED', 'CONFLICT', 'SKIPPED']);
    assert.ok(observed.every((info) => info.flow === 'sync' && info.durationMs >= 0));
  });

  test('costs two commits per job: lease + run start, then run outcome + settlement', async () => {
    handlers.register('work', completed);
    handlers.register('strict', () =>
      Promise.reject(new CrmsyncError('MAPPING_INVALID', 'no mapping', { retryable: false })),
    );
    const done = await Promise.all(['1', '2', '3', '4'].map((id) => enqueue(backend.queue, 'work', id)));
    const dead = await enqueue(backend.queue, 'strict', '5');
    const commitsBefore = walCommitCount(test_.path);
    startPool({ concurrency: 1 });
    for (const jobId of done) await jobIn(backend.queue, jobId, 'COMPLETED');
    await jobIn(backend.queue, dead, 'DEAD');
    await pool?.stop({ deadlineMs: 1_000 });
    // Commit frames SQLite wrote to the WAL: idle polls and reads write none.
    assert.equal(walCommitCount(test_.path) - commitsBefore, 2 * 5);
    assert.equal((await backend.store.runs.list()).filter((run) => run.finishedAt !== null).length, 5);
  });

  test('retries a failed run and then succeeds', async () => {
    let calls = 0;
    handlers.register('flaky', (_job, context) => {
      calls += 1;
      if (context.attempt < 3) return Promise.reject(new Error(`vendor hiccup ${context.attempt}`));
      return Promise.resolve({ outcome: 'COMPLETED' });
    });
    const jobId = await enqueue(backend.queue, 'flaky', '1');
    startPool();
    const job = await jobIn(backend.queue, jobId, 'COMPLETED');
    assert.equal(job.attempts, 3);
    assert.equal(calls, 3);
    const runs = await backend.store.runs.list({ jobId });
    assert.deepEqual(runs.map((run) => [run.attempt, run.outcome, run.error?.code ?? null]).sort(), [
      [1, 'FAILED', 'UNEXPECTED'],
      [2, 'FAILED', 'UNEXPECTED'],
      [3, 'COMPLETED', null],
    ]);
    assert.equal(runs.find((run) => run.attempt === 1)?.error?.message, 'vendor hiccup 1');
  });

  /** A link of Contact `id` with an EspoCRM account, and an intent of a write to the account. */
  async function linkWithIntent(id: string) {
    const account = { connection: 'espocrm', entityType: 'Account', id: `a${id}` };
    const link = await backend.store.links.save({
      flow: 'sync',
      a: { ref: contact(id), base: { name: 'Acme' }, version: '1' },
      b: { ref: account, base: { name: 'Acme' }, version: '7' },
      status: 'clean',
    });
    const [intent] = await backend.store.ledger.recordIntents([
      { ref: account, field: 'name', valueHash: valueHash('Acme GmbH'), runId: null, writtenAt: 0 },
    ]);
    return { link, account, intentId: intent! };
  }

  test("commits the handler's returned link and ledger changes with its run", async () => {
    const { link, account, intentId } = await linkWithIntent('1');
    handlers.register('sync', async (job) => {
      const lock = await backend.locks.acquireFenced(`link:sync:${link.id}`, 30_000);
      assert.ok(lock);
      return {
        outcome: 'COMPLETED',
        commit: {
          fence: { key: `link:sync:${link.id}`, fence: lock.fence },
          link: {
            ...link,
            b: { ...link.b, base: { name: 'Acme GmbH' }, version: '8' },
            expectedRevision: link.revision,
          },
          confirm: [{ id: intentId, version: '8' }],
        },
        changes: [{ ref: account, field: 'name', before: 'Acme', after: `Acme GmbH ${job.id}` }],
      };
    });
    const jobId = await enqueue(backend.queue, 'sync', '1');
    startPool();
    await jobIn(backend.queue, jobId, 'COMPLETED');
    const run = await onlyRun(backend, jobId);
    assert.equal(run.outcome, 'COMPLETED');
    const saved = await backend.store.links.get(link.id);
    assert.deepEqual([saved?.revision, saved?.b.version], [link.revision + 1, '8']);
    const echo = await backend.store.ledger.matchEcho(account, { version: '8', fields: {} });
    assert.deepEqual(echo?.entryIds, [intentId], 'the intent was confirmed with the version');
  });

  test('a refused commit (stale link revision) fails the run and the retry commits on fresh data', async () => {
    const { link } = await linkWithIntent('1');
    const recorded: string[] = [];
    handlers.register('sync', async (_job, context) => {
      const current = (await backend.store.links.get(link.id))!;
      // The first attempt's link is changed under it by another writer before it commits.
      if (context.attempt === 1) {
        await backend.store.links.save({ ...current, lastError: 'x', expectedRevision: current.revision });
      }
      context.afterOutcome((ended) => {
        recorded.push(`${context.attempt}:${ended.committed}`);
        return Promise.resolve();
      });
      return {
        outcome: 'COMPLETED',
        commit: {
          link: { ...current, status: 'clean', lastError: null, expectedRevision: current.revision },
        },
      };
    });
    const jobId = await enqueue(backend.queue, 'sync', '1');
    startPool();
    const job = await jobIn(backend.queue, jobId, 'COMPLETED');
    assert.equal(job.attempts, 2);
    const runs = await backend.store.runs.list({ jobId });
    assert.deepEqual(runs.map((run) => [run.attempt, run.outcome, run.error?.code ?? null]).sort(), [
      [1, 'FAILED', 'STALE_WRITE'],
      [2, 'COMPLETED', null],
    ]);
    const saved = await backend.store.links.get(link.id);
    assert.deepEqual([saved?.revision, saved?.lastError], [link.revision + 2, null]);
    await eventually(() => recorded.length === 2);
    assert.deepEqual(
      recorded,
      ['1:false', '2:true'],
      'work after the outcome learns whether it was committed',
    );
    assert.deepEqual(
      observed
        .filter((info) => info.flow === 'sync')
        .map((info) => info.outcome)
        .sort(),
      ['COMPLETED', 'FAILED'],
    );
  });

  test('a returned FAILED outcome fails the job as a thrown error would, and commits the link with it', async () => {
    const { link } = await linkWithIntent('1');
    handlers.register('sync', () =>
      Promise.resolve({
        outcome: 'FAILED',
        error: new CrmsyncError('MAPPING_INVALID', 'no mapping for "x"', { retryable: false }),
        commit: {
          link: {
            ...link,
            status: 'failed',
            retryCount: 1,
            lastError: 'no mapping for "x"',
            expectedRevision: link.revision,
          },
        },
      }),
    );
    const jobId = await enqueue(backend.queue, 'sync', '1');
    startPool();
    const job = await jobIn(backend.queue, jobId, 'DEAD');
    assert.equal(job.lastError?.code, 'MAPPING_INVALID');
    assert.equal((await onlyRun(backend, jobId)).error?.code, 'MAPPING_INVALID');
    const saved = await backend.store.links.get(link.id);
    assert.deepEqual(
      [saved?.status, saved?.retryCount, saved?.lastError],
      ['failed', 1, 'no mapping for "x"'],
    );
  });

  test('sends a non-retryable failure straight to DEAD', async () => {
    handlers.register('strict', () =>
      Promise.reject(new CrmsyncError('MAPPING_INVALID', 'field "x" has no mapping', { retryable: false })),
    );
    const jobId = await enqueue(backend.queue, 'strict', '1');
    startPool();
    const job = await jobIn(backend.queue, jobId, 'DEAD');
    assert.equal(job.attempts, 1);
    assert.deepEqual(job.lastError, { code: 'MAPPING_INVALID', message: 'field "x" has no mapping' });
    const run = await onlyRun(backend, jobId);
    assert.equal(run.outcome, 'FAILED');
    assert.deepEqual(run.error, { code: 'MAPPING_INVALID', message: 'field "x" has no mapping' });
  });

  test("honours an error's retryAfterMs instead of the backoff", async () => {
    const rateLimited = new CrmsyncError('VENDOR_RATE_LIMITED', '429 from vendor', {
      retryable: true,
      retryAfterMs: 60_000,
    });
    handlers.register('limited', () => Promise.reject(rateLimited));
    const jobId = await enqueue(backend.queue, 'limited', '1');
    const before = Date.now();
    startPool();
    const job = await jobIn(backend.queue, jobId, 'FAILED');
    assert.ok(job.runAt >= before + 60_000, `runAt ${job.runAt - before} ms after the start`);
    assert.ok(job.runAt <= Date.now() + 60_000);
    assert.equal(job.lastError?.code, 'VENDOR_RATE_LIMITED');
  });

  test('sends a job of an unknown flow to DEAD with FLOW_UNKNOWN', async () => {
    handlers.register('known', completed);
    const jobId = await enqueue(backend.queue, 'removed-flow', '1');
    startPool();
    const job = await jobIn(backend.queue, jobId, 'DEAD');
    assert.equal(job.lastError?.code, 'FLOW_UNKNOWN');
    assert.equal(job.attempts, 1);
    const run = await onlyRun(backend, jobId);
    assert.equal(run.outcome, 'FAILED');
    assert.equal(run.error?.code, 'FLOW_UNKNOWN');
  });

  test('runs the inspect flow end to end', async () => {
    handlers.register('demo-inspect', createInspectHandler());
    const jobId = await enqueue(backend.queue, 'demo-inspect', '7', {
      kind: 'updated',
      vendorEvent: 'contact.changed',
      changedFields: ['name'],
    });
    startPool();
    await jobIn(backend.queue, jobId, 'COMPLETED');
    const run = await onlyRun(backend, jobId);
    assert.equal(run.outcome, 'COMPLETED');
    assert.equal(run.reason, '1 event (updated 1); fields: name; vendor events: contact.changed');
  });

  test('wake() makes idle workers pick up a new job without waiting for the poll', async () => {
    handlers.register('work', completed);
    let emptyPolls = 0;
    const attempts = override(backend.attempts, {
      begin: async (request) => {
        const attempt = await backend.attempts.begin(request);
        if (attempt === null) emptyPolls += 1;
        return attempt;
      },
    });
    startPool({ attempts, pollMs: 60_000, concurrency: 2 });
    await eventually(() => emptyPolls >= 2); // both loops polled, found nothing, and now sleep for a minute
    const jobId = await enqueue(backend.queue, 'work', '1');
    pool?.wake();
    await jobIn(backend.queue, jobId, 'COMPLETED');
  });

  test('keeps running when the backend fails, backing off between attempts', async () => {
    handlers.register('work', completed);
    let beginFailures = 0;
    const attempts = override(backend.attempts, {
      begin: async (request) => {
        if (beginFailures < 3) {
          beginFailures += 1;
          throw new Error('database is locked');
        }
        return backend.attempts.begin(request);
      },
    });
    const jobId = await enqueue(backend.queue, 'work', '1');
    startPool({ attempts, concurrency: 1, backendRetry: { baseMs: 5, maxMs: 20, jitter: 0 } });
    const job = await jobIn(backend.queue, jobId, 'COMPLETED');
    assert.equal(beginFailures, 3);
    // A failed begin leased nothing: no attempt was counted and no run was left behind.
    assert.equal(job.attempts, 1);
    assert.equal((await onlyRun(backend, jobId)).outcome, 'COMPLETED');
  });

  test('a lost lease aborts the handler and discards its result', async () => {
    const clock = new ManualClock(Date.UTC(2025, 0, 1));
    await test_.close();
    test_ = openTestBackend({ clock });
    backend = test_.backend;
    let signalAborted = false;
    const started = gate();
    handlers.register('slow', async (_job, context) => {
      started.open();
      // Ignores the signal on purpose: the pool must discard the result anyway.
      await new Promise<void>((resolve) =>
        context.signal.addEventListener('abort', () => resolve(), { once: true }),
      );
      signalAborted = true;
      return {
        outcome: 'COMPLETED',
        changes: [{ ref: contact('1'), field: 'name', before: null, after: 'late' }],
      };
    });
    const jobId = await enqueue(backend.queue, 'slow', '1');
    startPool({ clock, leaseMs: 1_000, heartbeatMs: 5, concurrency: 1 });
    await started.opened;
    // The lease runs out (the clock jumps past it) and another worker takes the job over.
    const thief = await eventually(async () => {
      clock.advance(10_000);
      return backend.queue.dequeue({ workerId: 'thief', leaseMs: 3_600_000 });
    });
    assert.equal(thief.id, jobId);
    await eventually(() => signalAborted);
    const runs = await eventually(async () => {
      const list = await backend.store.runs.list({ jobId });
      const first = list.find((run) => run.attempt === 1);
      return first?.outcome === 'FAILED' ? first : null;
    });
    // The thief's dequeue recovered the expired lease and ended the first attempt's run with it.
    assert.equal(runs.error?.code, 'QUEUE_LEASE_EXPIRED');
    assert.deepEqual(runs.changes, []);
    const job = await jobState(backend.queue, jobId);
    assert.equal(job.state, 'PROCESSING');
    assert.equal(job.leaseOwner, 'thief');
    // The thief still holds a valid lease: the first worker did not complete the job under its feet.
    await backend.queue.complete(jobId, thief.leaseToken, 'COMPLETED');
  });

  test('aborts a run whose heartbeats keep failing before its lease can run out: one handler per record', async () => {
    let active = 0;
    let maxActive = 0;
    const reasons: unknown[] = [];
    handlers.register('slow', async (_job, context) => {
      active += 1;
      maxActive = Math.max(maxActive, active);
      try {
        await new Promise<void>((resolve) =>
          context.signal.addEventListener('abort', () => resolve(), { once: true }),
        );
        reasons.push(context.signal.reason);
        throw context.signal.reason;
      } finally {
        active -= 1;
      }
    });
    const jobId = await enqueue(backend.queue, 'slow', '1');
    const locked = override(backend.queue, {
      heartbeat: () => Promise.reject(new StorageError('SQLite crmsync.db: database is locked')),
    });
    startPool({ queue: locked, leaseMs: 100, concurrency: 1 });
    // A second instance on its own connection, with working heartbeats, takes the job once the lease ends.
    const second = startSecondInstance(100);
    try {
      await eventually(async () => (await backend.store.runs.list({ jobId })).length === 2);
      assert.equal(maxActive, 1, 'the first handler was stopped before the second began');
      assert.equal((reasons[0] as CrmsyncError | undefined)?.code, 'LEASE_EXPIRED');
      const first = (await backend.store.runs.list({ jobId })).find((run) => run.attempt === 1);
      assert.deepEqual([first?.outcome, first?.error?.code], ['FAILED', 'LEASE_EXPIRED']);
    } finally {
      await second.stop({ deadlineMs: 0 });
    }
  });

  test('runs the work registered with afterOutcome once the outcome is recorded, also for a run that threw', async () => {
    // What each piece of work saw when it ran: the outcome of its run and the state of its job then.
    const seen: string[] = [];
    const note = (runId: string, jobId: string) => async (ended: OutcomeRecorded) => {
      const run = await backend.store.runs.get(runId);
      const job = await jobState(backend.queue, jobId);
      seen.push(`${run?.outcome ?? 'open'}/${job.state}/${ended.committed ? 'committed' : 'not committed'}`);
    };
    handlers.register('after', (job, context) => {
      context.afterOutcome(note(context.runId, job.id));
      context.afterOutcome(() => Promise.reject(new Error('a failing piece does not stop the next')));
      context.afterOutcome(note(context.runId, job.id));
      if (job.recordKey.endsWith('/2'))
        return Promise.reject(new CrmsyncError('BOOM', 'boom', { retryable: false }));
      return Promise.resolve({ outcome: 'COMPLETED' });
    });
    const done = await enqueue(backend.queue, 'after', '1');
    const dead = await enqueue(backend.queue, 'after', '2');
    startPool({ concurrency: 1 });
    await jobIn(backend.queue, done, 'COMPLETED');
    await jobIn(backend.queue, dead, 'DEAD');
    await eventually(() => seen.length === 4);
    assert.deepEqual(seen, [
      'COMPLETED/COMPLETED/committed',
      'COMPLETED/COMPLETED/committed',
      'FAILED/DEAD/committed',
      'FAILED/DEAD/committed',
    ]);
  });

  test('the run of an attempt that died after its write still shows the write the next attempt skips', async () => {
    // A vendor record held in memory: attempt 1 writes it and then never returns (its heartbeats fail, as
    // if its worker were cut off); attempt 2, on another instance, finds the value there.
    const vendor = new Map<string, string>();
    const written = 'Acme GmbH';
    const change: FieldChange = { ref: contact('1'), field: 'name', before: null, after: written };
    handlers.register('write', async (_job, context) => {
      if (vendor.get('name') === written) return { outcome: 'SKIPPED', reason: 'up to date' };
      await context.recordIntent([change]);
      vendor.set('name', written);
      await new Promise<void>(() => undefined); // dies mid-run: the result never comes back
      return { outcome: 'COMPLETED', changes: [change] };
    });
    const jobId = await enqueue(backend.queue, 'write', '1');
    const cutOff = override(backend.queue, {
      heartbeat: () => Promise.reject(new StorageError('SQLite crmsync.db: database is locked')),
    });
    startPool({ queue: cutOff, leaseMs: 100, concurrency: 1 });
    const second = startSecondInstance(30_000);
    try {
      await jobIn(backend.queue, jobId, 'SKIPPED');
      const runs = await backend.store.runs.list({ jobId });
      const [first, next] = [1, 2].map((attempt) => runs.find((run) => run.attempt === attempt));
      assert.deepEqual([next?.outcome, next?.reason], ['SKIPPED', 'up to date']);
      assert.equal(first?.outcome, 'FAILED');
      assert.deepEqual(
        first?.intendedChanges,
        [change],
        'the history shows the write the first attempt made',
      );
    } finally {
      await second.stop({ deadlineMs: 0 });
    }
  });

  test('stop() finishes quick jobs, releases slow ones after the deadline, and takes no new jobs', async () => {
    const quickMayFinish = gate();
    const running = new Set<string>();
    let slowSawAbort = false;
    const quick: FlowHandler = async (job) => {
      running.add(job.id);
      await quickMayFinish.opened;
      return { outcome: 'COMPLETED' };
    };
    const slow: FlowHandler = async (job, context) => {
      running.add(job.id);
      await new Promise<void>((resolve) =>
        context.signal.addEventListener('abort', () => resolve(), { once: true }),
      );
      slowSawAbort = true;
      throw context.signal.reason;
    };
    handlers.register('quick', quick);
    handlers.register('slow', slow);
    const quickJob = await enqueue(backend.queue, 'quick', '1');
    const slowJob = await enqueue(backend.queue, 'slow', '2');
    const activePool = startPool({ concurrency: 2 });
    await eventually(() => running.size === 2);

    const stopped = activePool.stop({ deadlineMs: 300 });
    const lateJob = await enqueue(backend.queue, 'quick', '3');
    activePool.wake();
    quickMayFinish.open();
    await stopped;

    assert.equal((await jobState(backend.queue, quickJob)).state, 'COMPLETED');
    const released = await jobState(backend.queue, slowJob);
    assert.equal(released.state, 'PENDING');
    assert.equal(released.attempts, 0, 'a released attempt does not count');
    assert.equal(released.leaseOwner, null);
    assert.ok(slowSawAbort, 'the slow handler saw its signal abort');
    const slowRun = await onlyRun(backend, slowJob);
    assert.equal(slowRun.outcome, 'FAILED');
    assert.equal(slowRun.error?.code, 'WORKER_SHUTDOWN');
    const late = await jobState(backend.queue, lateJob);
    assert.equal(late.state, 'PENDING');
    assert.equal(late.attempts, 0);
    assert.equal(activePool.inFlightCount, 0);
  });

  test('stop() resolves at once when idle, without waiting out the poll interval or the deadline', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] }); // neither the poll sleep nor the deadline ends by itself
    handlers.register('work', completed);
    let polls = 0;
    const attempts = override(backend.attempts, {
      begin: (request) => {
        polls += 1;
        return backend.attempts.begin(request);
      },
    });
    const idlePool = startPool({ attempts, pollMs: 60_000 });
    try {
      // Both workers found nothing and went to sleep for the poll interval.
      assert.equal(await holdsWithoutTimers(() => polls === 2), true);
      assert.equal(await settlesWithoutTimers(idlePool.stop({ deadlineMs: 10_000 })), true);
      assert.equal(polls, 2, 'no worker polled again');
    } finally {
      t.mock.timers.runAll(); // a failed stop() still ends, so the clean-up does not hang
    }
  });

  test('rejects a concurrency below 1', () => {
    assert.throws(() => startPool({ concurrency: 0 }), RangeError);
  });

  test('rejects a heartbeat that would come after the lease deadline', () => {
    assert.throws(() => startPool({ leaseMs: 1_000, heartbeatMs: 800 }), /heartbeatMs \(800\) must be below/);
  });
});
