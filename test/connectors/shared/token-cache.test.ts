/**
 * Caching what vendors' auth hosts answer (src/connectors/shared/token-cache.ts): StateCache on a real SQLite
 * connector state with a ManualClock (expiry is moved by hand, never waited for), and SingleFlight with tasks
 * the test settles itself.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { openSqliteBackend } from '../../../src/adapters/sqlite/index.ts';
import { SingleFlight, StateCache } from '../../../src/connectors/shared/token-cache.ts';
import type { StateCacheOptions } from '../../../src/connectors/shared/token-cache.ts';
import type { Backend } from '../../../src/ports/backend.ts';
import { ManualClock } from '../../support/manual-clock.ts';
import { makeTempDir } from '../../support/temp-dir.ts';

/** A cached access token, as the vendors' auth modules keep it. */
interface Token {
  readonly accessToken: string;
  readonly expiresAt: number;
}

function isToken(value: Record<string, unknown>): value is Record<string, unknown> & Token {
  return typeof value['accessToken'] === 'string' && typeof value['expiresAt'] === 'number';
}

const KEY = 'auth.session';

describe('StateCache', () => {
  const temp = makeTempDir('crmsync-token-cache-');
  after(() => temp.remove());
  const backends: Backend[] = [];
  let databases = 0;
  afterEach(async () => {
    for (const backend of backends.splice(0)) await backend.close();
  });

  /** A fresh SQLite connector state, and caches on it as a restarted process or another instance would build them. */
  function setUp() {
    const clock = new ManualClock();
    const backend = openSqliteBackend({
      path: join(temp.path, `state-${++databases}.db`),
      clock,
      durability: 'process',
    });
    backends.push(backend);
    const state = backend.store.connectorState;
    const cache = (options: Partial<StateCacheOptions<Token>> = {}) =>
      new StateCache<Token>({ connection: 'crm', state, clock, key: KEY, isValid: isToken, ...options });
    const token = (accessToken: string, lifetimeMs = 60_000): Token => ({
      accessToken,
      expiresAt: clock.now() + lifetimeMs,
    });
    return { clock, state, cache, token };
  }

  it('has nothing before a value is set', async () => {
    const { cache } = setUp();
    assert.equal(await cache().get(), null);
  });

  it('returns the value it set, from memory and from the connector state after a restart', async () => {
    const { cache, token } = setUp();
    const first = cache();
    await first.set(token('tok-1'));
    assert.equal((await first.get())?.accessToken, 'tok-1');
    const restarted = cache();
    assert.equal(restarted.peek(), null, 'a new instance has nothing in memory yet');
    assert.equal((await restarted.get())?.accessToken, 'tok-1');
  });

  it('stops returning a value once it expires, in memory and in the connector state', async () => {
    const { clock, cache, token } = setUp();
    const first = cache();
    await first.set(token('tok-1', 60_000));
    clock.advance(59_999);
    assert.equal((await first.get())?.accessToken, 'tok-1');
    clock.advance(1);
    assert.equal(await first.get(), null);
    assert.equal(await cache().get(), null);
  });

  it('peek() shows the value in memory even after it expired, until a get() finds it gone', async () => {
    const { clock, cache, token } = setUp();
    const first = cache();
    await first.set(token('tok-1', 1_000));
    clock.advance(5_000);
    assert.equal(first.peek()?.accessToken, 'tok-1');
    await first.get();
    assert.equal(first.peek(), null);
  });

  it("ignores a stored value of another account, so a changed config never reuses the old account's token", async () => {
    const { cache, token } = setUp();
    await cache({ account: 'account-a' }).set(token('tok-a'));
    assert.equal(await cache({ account: 'account-b' }).get(), null);
    assert.equal((await cache({ account: 'account-a' }).get())?.accessToken, 'tok-a');
  });

  it('ignores a stored value without an account tag when it expects one', async () => {
    const { cache, token } = setUp();
    await cache().set(token('tok-untagged'));
    assert.equal(await cache({ account: 'account-a' }).get(), null);
  });

  it('ignores a stored value whose shape is not valid (data written by older code)', async () => {
    const { clock, state, cache } = setUp();
    await state.set('crm', KEY, { token: 'old-shape', expiresAt: clock.now() + 60_000 });
    assert.equal(await cache().get(), null);
  });

  it('keeps values of other connections and keys apart', async () => {
    const { cache, token } = setUp();
    await cache().set(token('tok-crm'));
    assert.equal(await cache({ connection: 'other' }).get(), null);
    assert.equal(await cache({ key: 'auth.discovery' }).get(), null);
  });

  it('delete() forgets the value in memory and in the connector state', async () => {
    const { cache, token } = setUp();
    const first = cache();
    await first.set(token('tok-1'));
    await first.delete();
    assert.equal(first.peek(), null);
    assert.equal(await first.get(), null);
    assert.equal(await cache().get(), null);
  });

  it('delete() wins over a get() that was already reading the connector state', async () => {
    const { cache, token } = setUp();
    await cache().set(token('tok-old'));
    const restarted = cache();
    const reading = restarted.get();
    await restarted.delete();
    await reading;
    assert.equal(restarted.peek(), null);
    assert.equal(await restarted.get(), null);
  });
});

describe('SingleFlight', () => {
  /** A task the test settles by hand, counting how often it was started. */
  function manualTask<T>() {
    const control = {
      starts: 0,
      resolve: (_value: T) => {},
      reject: (_error: Error) => {},
      task: () => {
        control.starts += 1;
        return new Promise<T>((resolve, reject) => {
          control.resolve = resolve;
          control.reject = reject;
        });
      },
    };
    return control;
  }

  it('lets concurrent callers share one running task and its result', async () => {
    const flight = new SingleFlight<string>();
    const refresh = manualTask<string>();
    const callers = [1, 2, 3].map(() => flight.run(refresh.task));
    refresh.resolve('tok-2');
    assert.deepEqual(await Promise.all(callers), ['tok-2', 'tok-2', 'tok-2']);
    assert.equal(refresh.starts, 1);
  });

  it('starts the task again for a caller who comes after it settled', async () => {
    const flight = new SingleFlight<string>();
    const refresh = manualTask<string>();
    const first = flight.run(refresh.task);
    refresh.resolve('tok-2');
    await first;
    const second = flight.run(refresh.task);
    refresh.resolve('tok-3');
    assert.equal(await second, 'tok-3');
    assert.equal(refresh.starts, 2);
  });

  it('gives every concurrent caller the failure, and lets the next caller try again', async () => {
    const flight = new SingleFlight<string>();
    const refresh = manualTask<string>();
    const callers = [flight.run(refresh.task), flight.run(refresh.task)];
    refresh.reject(new Error('token endpoint down'));
    for (const outcome of await Promise.allSettled(callers)) assert.equal(outcome.status, 'rejected');
    const retry = flight.run(refresh.task);
    refresh.resolve('tok-2');
    assert.equal(await retry, 'tok-2');
    assert.equal(refresh.starts, 2);
  });
});
