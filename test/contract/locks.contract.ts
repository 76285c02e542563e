/** Contract of the Locks port (src/ports/locks.ts), run unchanged against every adapter. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import { openFor } from './harness.ts';
import type { ContractBackendFactory } from './harness.ts';

const TTL = 10_000;

/** Defines the locks contract suite for one adapter. */
export function defineLocksContract(adapter: string, factory: ContractBackendFactory): void {
  const open = async (t: TestContext) => {
    const opened = await openFor(t, factory);
    return { locks: opened.backend.locks, clock: opened.clock };
  };

  describe(`Locks contract: ${adapter}`, () => {
    it('gives a free lock to one holder and refuses the others until it is released', async (t) => {
      const { locks } = await open(t);
      const token = await locks.acquire('cron:retention', TTL);
      assert.equal(typeof token, 'string');
      assert.equal(await locks.acquire('cron:retention', TTL), null);
      assert.ok(await locks.acquire('cron:other', TTL), 'other keys are independent');
      assert.equal(await locks.release('cron:retention', token!), true);
      const next = await locks.acquire('cron:retention', TTL);
      assert.ok(next);
      assert.notEqual(next, token);
    });

    it('lets exactly one of many concurrent acquirers win (cannot fail on SQLite, whose calls never interleave; it guards async backends)', async (t) => {
      const { locks } = await open(t);
      const tokens = await Promise.all(Array.from({ length: 10 }, () => locks.acquire('record:1', TTL)));
      assert.equal(tokens.filter((token) => token !== null).length, 1);
    });

    it('expires after its TTL, so another holder can take it and the old token is worthless', async (t) => {
      const { locks, clock } = await open(t);
      const old = await locks.acquire('k', TTL);
      clock.advance(TTL - 1);
      assert.equal(await locks.acquire('k', TTL), null, 'still held 1 ms before expiry');
      clock.advance(1);
      const taken = await locks.acquire('k', TTL);
      assert.ok(taken);
      assert.equal(await locks.release('k', old!), false);
      assert.equal(await locks.extend('k', old!, TTL), false);
      assert.equal(await locks.acquire('k', TTL), null, 'the old token did not free the new holder’s lock');
      assert.equal(await locks.release('k', taken), true);
    });

    it('releases only with the holder’s token', async (t) => {
      const { locks } = await open(t);
      const token = await locks.acquire('k', TTL);
      assert.equal(await locks.release('k', 'not-the-token'), false);
      assert.equal(await locks.acquire('k', TTL), null);
      assert.equal(await locks.release('k', token!), true);
      assert.equal(await locks.release('k', token!), false, 'a second release finds nothing to release');
      assert.equal(await locks.release('never-taken', token!), false);
    });

    it('extends only with the holder’s token and only while the lock is held', async (t) => {
      const { locks, clock } = await open(t);
      const token = await locks.acquire('k', TTL);
      clock.advance(TTL - 1_000);
      assert.equal(await locks.extend('k', 'not-the-token', TTL), false);
      assert.equal(await locks.extend('k', token!, TTL), true);
      clock.advance(TTL - 1);
      assert.equal(await locks.acquire('k', TTL), null, 'the extension keeps the lock');
      clock.advance(1);
      assert.equal(await locks.extend('k', token!, TTL), false, 'an expired lock cannot be extended');
    });

    it('reports a release after expiry as lost', async (t) => {
      const { locks, clock } = await open(t);
      const token = await locks.acquire('k', TTL);
      clock.advance(TTL);
      assert.equal(await locks.release('k', token!), false);
      assert.ok(await locks.acquire('k', TTL));
    });

    it('prunes expired locks only; a lapsed holder still learns it lost the lock', async (t) => {
      const { locks, clock } = await open(t);
      const lapsed = await locks.acquire('lapsed', TTL);
      clock.advance(TTL / 2);
      const held = await locks.acquire('held', TTL);
      assert.equal(await locks.prune(), 0);
      clock.advance(TTL / 2);
      assert.equal(await locks.prune(), 1);
      assert.equal(await locks.release('lapsed', lapsed!), false);
      assert.equal(await locks.extend('lapsed', lapsed!, TTL), false);
      assert.equal(await locks.acquire('held', TTL), null, 'the live lock survived the prune');
      assert.equal(await locks.release('held', held!), true);
    });

    describe('fenced', () => {
      it('issues a greater fence with every acquire of a key, independent per key', async (t) => {
        const { locks, clock } = await open(t);
        const first = await locks.acquireFenced('link:1', TTL);
        assert.ok(first);
        assert.equal(await locks.acquireFenced('link:1', TTL), null, 'held: no lock, no fence');
        assert.equal(await locks.acquire('link:1', TTL), null, 'the fenced lock is a lock like any other');
        clock.advance(TTL);
        const second = await locks.acquireFenced('link:1', TTL);
        assert.ok(second);
        assert.ok(second.fence > first.fence, `${second.fence} > ${first.fence}`);
        assert.equal(await locks.release('link:1', first.token), false, 'the lapsed token releases nothing');
        assert.equal(await locks.release('link:1', second.token), true);
        const other = await locks.acquireFenced('link:2', TTL);
        assert.ok(other);
        const third = await locks.acquireFenced('link:1', TTL);
        assert.ok(third !== null && third.fence > second.fence, 'another key did not reset the counter');
      });

      it('never reuses a fence, not after the lock was pruned', async (t) => {
        const { locks, clock } = await open(t);
        const first = await locks.acquireFenced('link:1', TTL);
        clock.advance(TTL);
        assert.equal(await locks.prune(), 1);
        const next = await locks.acquireFenced('link:1', TTL);
        assert.ok(first !== null && next !== null && next.fence > first.fence);
      });
    });
  });
}
