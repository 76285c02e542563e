import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { CrmsyncError } from '../../src/core/errors.ts';
import type { ScheduleDefinition, ScheduledTask } from '../../src/engine/scheduler.ts';
import { Scheduler, enqueueJobTask } from '../../src/engine/scheduler.ts';
import type { Backend } from '../../src/ports/backend.ts';
import type { Clock } from '../../src/ports/clock.ts';
import { systemClock } from '../../src/ports/clock.ts';
import { eventually } from '../support/eventually.ts';
import { ManualClock } from '../support/manual-clock.ts';
import type { TestBackend } from './support.ts';
import { gate, openTestBackend, silentLogger } from './support.ts';

/** 10:00:30 UTC: half a minute before the first tick of an every-minute schedule. */
const START = Date.UTC(2025, 0, 1, 10, 0, 30);
const tick = (minutes: number) => Date.UTC(2025, 0, 1, 10, minutes, 0);

/** A task that only notes its tick. */
const recording =
  (note: (tickAt: number) => unknown): ScheduledTask =>
  ({ tickAt }) => {
    note(tickAt);
    return Promise.resolve();
  };

describe('Scheduler', () => {
  let test_: TestBackend;
  let backend: Backend;
  let clock: ManualClock;
  const schedulers: Scheduler[] = [];

  beforeEach(() => {
    clock = new ManualClock(START);
    test_ = openTestBackend({ clock });
    backend = test_.backend;
  });

  afterEach(async () => {
    for (const scheduler of schedulers.splice(0)) await scheduler.stop();
    await test_.close();
  });

  function scheduler(on: Backend = backend, schedulerClock: Clock = clock): Scheduler {
    const created = new Scheduler({
      locks: on.locks,
      checkpoints: on.store.checkpoints,
      clock: schedulerClock,
      logger: silentLogger,
    });
    schedulers.push(created);
    return created;
  }

  function everyMinute(task: ScheduleDefinition['task']): ScheduleDefinition {
    return { name: 'reconcile', cron: '* * * * *', timezone: 'UTC', task };
  }

  test('two instances on the same database run each tick exactly once', async () => {
    const ranBy: string[] = [];
    const other = test_.openAnother();
    const a = scheduler(backend);
    const b = scheduler(other);
    a.add(everyMinute(recording((tickAt) => ranBy.push(`a@${tickAt}`))));
    b.add(everyMinute(recording((tickAt) => ranBy.push(`b@${tickAt}`))));

    // Both fire at the same moment.
    const [fromA, fromB] = await Promise.all([a.runDue(tick(1)), b.runDue(tick(1))]);
    const outcomes = [...(fromA ?? []), ...(fromB ?? [])].map((result) => result.outcome).sort();
    assert.equal(outcomes.filter((outcome) => outcome === 'ran').length, 1, JSON.stringify(outcomes));
    assert.equal(ranBy.length, 1);

    // B is late: A ran tick 2 and released the lock before B's timer fired. B must not run it again.
    assert.deepEqual(await a.runDue(tick(2) + 5), [{ name: 'reconcile', tickAt: tick(2), outcome: 'ran' }]);
    assert.deepEqual(await b.runDue(tick(2) + 900), [
      { name: 'reconcile', tickAt: tick(2), outcome: 'already-ran' },
    ]);
    assert.deepEqual(
      ranBy.map((entry) => entry.split('@')[1]),
      [String(tick(1)), String(tick(2))],
    );
    assert.equal((await backend.store.checkpoints.get('schedule:reconcile'))?.value, tick(2));
  });

  test('an instance that still runs a task keeps the others off the schedule', async () => {
    const a = scheduler();
    const b = scheduler();
    const slow = gate();
    let runs = 0;
    a.add(
      everyMinute(async () => {
        runs += 1;
        await slow.opened;
      }),
    );
    b.add(everyMinute(recording(() => (runs += 1))));
    const aTick = a.runDue(tick(1));
    await eventually(() => runs === 1);
    assert.deepEqual(await b.runDue(tick(2)), [{ name: 'reconcile', tickAt: tick(2), outcome: 'locked' }]);
    slow.open();
    assert.equal((await aTick)[0]?.outcome, 'ran');
    assert.equal(runs, 1);
  });

  test('a failing task is logged and counted, and the schedule goes on', async () => {
    const instance = scheduler();
    let calls = 0;
    instance.add(
      everyMinute(() => {
        calls += 1;
        if (calls > 1) return Promise.resolve();
        return Promise.reject(new CrmsyncError('VENDOR_DOWN', 'vendor answered 503', { retryable: true }));
      }),
    );
    assert.equal((await instance.runDue(tick(1)))[0]?.outcome, 'failed');
    assert.equal((await instance.runDue(tick(2)))[0]?.outcome, 'ran');
    const [status] = instance.status();
    assert.equal(status?.runs, 2);
    assert.equal(status?.failures, 1);
    assert.equal(status?.lastOutcome, 'ran');
    assert.equal(status?.lastTickAt, tick(2));
    assert.equal(status?.nextTickAt, tick(3));
    assert.equal(status?.lastError?.code, 'VENDOR_DOWN');
  });

  test('runs nothing before the next tick, and only the latest of several missed ticks', async () => {
    const instance = scheduler();
    const ticks: number[] = [];
    instance.add(everyMinute(recording((tickAt) => ticks.push(tickAt))));
    assert.deepEqual(await instance.runDue(tick(0) + 59_000), []);
    await instance.runDue(tick(5) + 10);
    await instance.runDue(tick(5) + 20);
    assert.deepEqual(ticks, [tick(5)]);
    assert.equal(instance.status()[0]?.nextTickAt, tick(6));
  });

  test('a schedule can enqueue a job for a flow', async () => {
    const instance = scheduler();
    instance.add({
      name: 'nightly-scan',
      cron: '0 3 * * *',
      timezone: 'UTC',
      task: enqueueJobTask(backend.queue, ({ tickAt }) => ({
        flow: 'reconcile',
        recordKey: 'reconcile|crm/Contact/*',
        payload: { tickAt },
      })),
    });
    const at = Date.UTC(2025, 0, 2, 3, 0, 0);
    assert.equal((await instance.runDue(at))[0]?.outcome, 'ran');
    const jobs = await backend.queue.list({ flow: 'reconcile' });
    assert.equal(jobs.length, 1);
    assert.deepEqual(jobs[0]?.payloads, [{ tickAt: at }]);
  });

  test('stop() waits for a running task', async () => {
    const instance = scheduler();
    const release = gate();
    let finished = false;
    instance.add(
      everyMinute(async () => {
        await release.opened;
        finished = true;
      }),
    );
    const running = instance.runDue(tick(1));
    let stopped = false;
    const stopping = instance.stop().then(() => (stopped = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(stopped, false);
    release.open();
    await stopping;
    assert.equal(finished, true);
    assert.equal((await running)[0]?.outcome, 'ran');
    assert.deepEqual(await instance.runDue(tick(9)), [], 'no ticks after stop');
  });

  test('start() fires ticks from the cron timer', async () => {
    await test_.close();
    test_ = openTestBackend();
    backend = test_.backend;
    const instance = scheduler(backend, systemClock);
    let runs = 0;
    instance.add({ name: 'every-second', cron: '* * * * * *', task: recording(() => (runs += 1)) });
    instance.start();
    await eventually(() => runs >= 1, { timeoutMs: 5_000 });
    await instance.stop();
  });

  test('rejects duplicate names and invalid expressions with typed errors', () => {
    const instance = scheduler();
    instance.add(everyMinute(recording(() => undefined)));
    assert.throws(() => instance.add(everyMinute(recording(() => undefined))), {
      code: 'SCHEDULE_DUPLICATE',
    });
    assert.throws(
      () => instance.add({ name: 'bad', cron: 'every tuesday', task: recording(() => undefined) }),
      {
        code: 'SCHEDULE_INVALID',
      },
    );
  });
});
