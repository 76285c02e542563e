/**
 * The in-process ApiBudget (src/connectors/shared/api-budget.ts): the pause of a connection holds every
 * caller until its wait is over. Waits are held until the test releases them, so a test sees who stands still
 * without waiting in real time; the bucket is fast enough never to hold a call back (it is tested on its own).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InProcessApiBudget, InProcessApiBudgets } from '../../../src/connectors/shared/api-budget.ts';
import type { Sleep } from '../../../src/connectors/shared/abortable.ts';
import { ManualClock } from '../../support/manual-clock.ts';

const FAST = { requestsPerSecond: 1_000 };

/** Waits recorded and held until released. */
function heldWaits(): {
  readonly waits: number[];
  readonly sleep: Sleep;
  /** Ends every held wait. */
  release(): void;
  /** Ends the oldest held wait. */
  releaseOldest(): void;
} {
  const waits: number[] = [];
  const pending: (() => void)[] = [];
  return {
    waits,
    sleep: (ms) => {
      waits.push(ms);
      return new Promise((resolve) => pending.push(resolve));
    },
    release: () => {
      for (const done of pending.splice(0)) done();
    },
    releaseOldest: () => pending.shift()?.(),
  };
}

/** Lets every promise continuation that is already due run (one turn of the event loop). */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Starts `take()` and reports whether it has resolved yet. */
function tracked(budget: InProcessApiBudget, signal?: AbortSignal) {
  const state = { done: false, promise: budget.take(signal) };
  state.promise = state.promise.then(() => {
    state.done = true;
  });
  return state;
}

describe('InProcessApiBudget', () => {
  it('holds every caller, also those that come later, until the pause is over', async () => {
    const clock = new ManualClock();
    const held = heldWaits();
    const budget = new InProcessApiBudget(FAST, { clock, sleep: held.sleep });
    await budget.take();
    await budget.pauseUntil(clock.now() + 2_000);
    const early = tracked(budget);
    const late = tracked(budget);
    await settle();
    assert.deepEqual([early.done, late.done], [false, false]);
    assert.deepEqual(held.waits, [2_000], 'one wait for the connection, not one per caller');
    held.release();
    await Promise.all([early.promise, late.promise]);
  });

  it('is never shortened by a pause that ends sooner, and is extended by one that ends later', async () => {
    const clock = new ManualClock();
    const held = heldWaits();
    const budget = new InProcessApiBudget(FAST, { clock, sleep: held.sleep });
    await budget.pauseUntil(clock.now() + 2_000);
    await budget.pauseUntil(clock.now() + 1_000);
    assert.deepEqual(held.waits, [2_000]);
    const caller = tracked(budget);
    await budget.pauseUntil(clock.now() + 5_000);
    assert.deepEqual(held.waits, [2_000, 5_000]);
    held.releaseOldest();
    await settle();
    assert.equal(caller.done, false, 'the longer pause still holds');
    held.releaseOldest();
    await caller.promise;
  });

  it('does not pause for a time that has passed', async () => {
    const clock = new ManualClock();
    const held = heldWaits();
    const budget = new InProcessApiBudget(FAST, { clock, sleep: held.sleep });
    await budget.pauseUntil(clock.now() - 1);
    await budget.take();
    assert.deepEqual(held.waits, []);
  });

  it('lets an aborted caller go with the reason while the pause holds the others', async () => {
    const clock = new ManualClock();
    const held = heldWaits();
    const budget = new InProcessApiBudget(FAST, { clock, sleep: held.sleep });
    await budget.pauseUntil(clock.now() + 2_000);
    const controller = new AbortController();
    const reason = new Error('worker stopping');
    const aborted = budget.take(controller.signal);
    const other = tracked(budget);
    controller.abort(reason);
    await assert.rejects(aborted, (error: unknown) => error === reason);
    await settle();
    assert.equal(other.done, false);
    held.release();
    await other.promise;
  });
});

describe('InProcessApiBudgets', () => {
  it('hands out one budget per connection name', () => {
    const budgets = new InProcessApiBudgets({ clock: new ManualClock() });
    assert.equal(budgets.forConnection('so', FAST), budgets.forConnection('so', FAST));
    assert.notEqual(budgets.forConnection('so', FAST), budgets.forConnection('espo', FAST));
  });
});
