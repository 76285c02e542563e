/**
 * The request budget in front of every vendor call (src/connectors/shared/token-bucket.ts), on an injected
 * time source whose sleep moves time forward by the wait and records it: spacing is checked exactly and no
 * test waits in real time.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenBucket } from '../../../src/connectors/shared/token-bucket.ts';

/** Monotonic test time in ms; `sleep` advances it by the wait and records the wait. */
interface TestTime {
  now: number;
  readonly sleeps: number[];
  sleep(ms: number): Promise<void>;
}

function testTime(): TestTime {
  const time: TestTime = {
    now: 0,
    sleeps: [],
    sleep: (ms) => {
      time.sleeps.push(ms);
      time.now += ms;
      return Promise.resolve();
    },
  };
  return time;
}

function bucketOn(time: TestTime, ratePerSecond: number, burst?: number): TokenBucket {
  return new TokenBucket({
    ratePerSecond,
    ...(burst !== undefined && { burst }),
    now: () => time.now,
    sleep: (ms) => time.sleep(ms),
  });
}

async function takeTimes(bucket: TokenBucket, times: number): Promise<void> {
  for (let i = 0; i < times; i += 1) await bucket.take();
}

describe('TokenBucket', () => {
  it('lets a burst of the rate through at once, then spaces calls at the rate', async () => {
    const time = testTime();
    const bucket = bucketOn(time, 4);
    await takeTimes(bucket, 4);
    assert.deepEqual(time.sleeps, [], 'the default burst is the rate per second');
    await takeTimes(bucket, 2);
    assert.deepEqual(time.sleeps, [250, 250]);
  });

  it('refills while idle, but never beyond its burst', async () => {
    const time = testTime();
    const bucket = bucketOn(time, 10, 3);
    await takeTimes(bucket, 3);
    time.now += 60_000;
    await takeTimes(bucket, 4);
    assert.deepEqual(time.sleeps, [100], 'three calls free after an idle minute, the fourth waits');
  });

  it('waits only for the part of a token that has not refilled yet', async () => {
    const time = testTime();
    const bucket = bucketOn(time, 10, 1);
    await bucket.take();
    time.now += 40;
    await bucket.take();
    assert.deepEqual(time.sleeps, [60]);
  });

  it('holds at least one token, so a rate below one a second still lets a call through', async () => {
    const time = testTime();
    const bucket = bucketOn(time, 0.5);
    await takeTimes(bucket, 2);
    assert.deepEqual(time.sleeps, [2_000]);
  });

  it('after drain() (a 429) makes the next call wait a full token, whatever was left', async () => {
    const time = testTime();
    const bucket = bucketOn(time, 10, 5);
    await bucket.take();
    bucket.drain();
    await bucket.take();
    assert.deepEqual(time.sleeps, [100]);
  });

  it('serves concurrent callers in arrival order, one token interval apart', async () => {
    const time = testTime();
    const bucket = bucketOn(time, 2, 1);
    const served: { caller: number; at: number }[] = [];
    await Promise.all(
      [1, 2, 3].map((caller) => bucket.take().then(() => served.push({ caller, at: time.now }))),
    );
    assert.deepEqual(served, [
      { caller: 1, at: 0 },
      { caller: 2, at: 500 },
      { caller: 3, at: 1_000 },
    ]);
  });

  it('keeps serving the callers behind one whose wait failed', async () => {
    const time = testTime();
    let failNext = true;
    const bucket = new TokenBucket({
      ratePerSecond: 10,
      burst: 1,
      now: () => time.now,
      sleep: (ms) => {
        if (!failNext) return time.sleep(ms);
        failNext = false;
        return Promise.reject(new Error('timer failed'));
      },
    });
    await bucket.take();
    const [failed, next] = await Promise.allSettled([bucket.take(), bucket.take()]);
    assert.equal(failed?.status, 'rejected');
    assert.equal(next?.status, 'fulfilled');
    assert.deepEqual(time.sleeps, [100]);
  });

  it('rejects a waiting caller with the reason when its signal aborts, and it takes no token', async () => {
    const time = testTime();
    const bucket = bucketOn(time, 10, 1);
    await bucket.take();
    const controller = new AbortController();
    const reason = new Error('lease lost');
    const [aborted, next] = await Promise.allSettled([
      bucket.take(controller.signal),
      bucket.take(),
      Promise.resolve().then(() => controller.abort(reason)),
    ]);
    assert.deepEqual(aborted, { status: 'rejected', reason });
    assert.equal(next?.status, 'fulfilled');
    assert.deepEqual(time.sleeps, [100], 'the caller behind got the token the aborted one did not take');
  });
});
