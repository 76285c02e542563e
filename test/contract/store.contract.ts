/** Contract of the Store port (src/ports/store.ts), run unchanged against every adapter. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import { InputError, NotFoundError, StaleWriteError } from '../../src/core/errors.ts';
import type { RecordRef } from '../../src/core/types.ts';
import type { LinkDeletion, LinkRepository, LinkStatus, LinkWrite, RunStart } from '../../src/ports/store.ts';
import { openFor } from './harness.ts';
import type { ContractBackendFactory } from './harness.ts';

const CONTACT: RecordRef = { connection: 'superoffice', entityType: 'Contact', id: '42' };
const ACCOUNT: RecordRef = { connection: 'espocrm', entityType: 'Account', id: '6543aa' };

function ref(id: string, connection = 'superoffice'): RecordRef {
  return { connection, entityType: 'Contact', id };
}

/** Defines the store contract suite for one adapter. */
export function defineStoreContract(adapter: string, factory: ContractBackendFactory): void {
  const open = async (t: TestContext) => {
    const opened = await openFor(t, factory);
    return { store: opened.backend.store, clock: opened.clock };
  };

  describe(`Store contract: ${adapter}`, () => {
    it('answers ping', async (t) => {
      const { store } = await open(t);
      await store.ping();
    });

    describe('runs', () => {
      const start = (overrides: Partial<RunStart> = {}): RunStart => ({
        jobId: '17',
        flow: 'sync',
        ref: CONTACT,
        attempt: 1,
        startedAt: 1_000,
        ...overrides,
      });

      it('records a run from start to finish', async (t) => {
        const { store } = await open(t);
        const id = await store.runs.start(start());
        assert.equal(typeof id, 'string');
        assert.deepEqual(await store.runs.get(id), {
          id,
          jobId: '17',
          flow: 'sync',
          ref: CONTACT,
          attempt: 1,
          outcome: null,
          reason: null,
          error: null,
          changes: [],
          intendedChanges: [],
          apiCalls: 0,
          displayName: null,
          ownerName: null,
          startedAt: 1_000,
          finishedAt: null,
          durationMs: null,
        });

        await store.runs.setNames(id, { displayName: 'Müller GmbH' });
        await store.runs.setNames(id, { ownerName: 'RAB' });
        const change = { ref: ACCOUNT, field: 'name', before: 'Mueller', after: 'Müller GmbH' };
        const finished = await store.runs.finish(id, {
          outcome: 'COMPLETED',
          reason: 'synced',
          changes: [change],
          apiCalls: 3,
          finishedAt: 1_250,
        });
        assert.equal(finished, true);
        // A run ends once: a late second finish (a zombie worker's) changes nothing.
        assert.equal(await store.runs.finish(id, { outcome: 'FAILED', finishedAt: 1_300 }), false);
        const run = await store.runs.get(id);
        assert.deepEqual(
          [run?.outcome, run?.reason, run?.changes, run?.apiCalls, run?.displayName, run?.ownerName],
          ['COMPLETED', 'synced', [change], 3, 'Müller GmbH', 'RAB'],
        );
        assert.deepEqual([run?.finishedAt, run?.durationMs, run?.error], [1_250, 250, null]);
      });

      it('stores the error of a FAILED run and the reason of a SKIPPED one', async (t) => {
        const { store } = await open(t);
        const failed = await store.runs.start(start());
        const error = { code: 'VENDOR_5XX', message: 'EspoCRM answered 502' };
        await store.runs.finish(failed, { outcome: 'FAILED', error, finishedAt: 2_000 });
        assert.deepEqual((await store.runs.get(failed))?.error, error);
        const skipped = await store.runs.start(start({ attempt: 2 }));
        await store.runs.finish(skipped, { outcome: 'SKIPPED', reason: 'echo', finishedAt: 2_000 });
        assert.deepEqual(
          [(await store.runs.get(skipped))?.reason, (await store.runs.get(skipped))?.changes],
          ['echo', []],
        );
      });

      it('keeps the intent a run recorded before writing, also when the run fails', async (t) => {
        const { store } = await open(t);
        const id = await store.runs.start(start());
        const change = { ref: CONTACT, field: 'SaleTypeCategory', before: null, after: 'Retail' };
        await store.runs.recordIntent(id, [{ ...change, after: 'draft' }]);
        await store.runs.recordIntent(id, [change]);
        await store.runs.finish(id, {
          outcome: 'FAILED',
          error: { code: 'X', message: 'x' },
          finishedAt: 2_000,
        });
        const run = await store.runs.get(id);
        assert.deepEqual([run?.intendedChanges, run?.changes], [[change], []]);
        await assert.rejects(store.runs.recordIntent('999999', [change]), NotFoundError);
      });

      it('clears a name set to null and refuses unknown runs', async (t) => {
        const { store } = await open(t);
        const id = await store.runs.start(start());
        await store.runs.setNames(id, { displayName: 'A', ownerName: 'B' });
        await store.runs.setNames(id, { displayName: null });
        const run = await store.runs.get(id);
        assert.deepEqual([run?.displayName, run?.ownerName], [null, 'B']);
        assert.equal(await store.runs.get('999999'), null);
        await assert.rejects(store.runs.setNames('999999', { displayName: 'x' }), NotFoundError);
        await assert.rejects(
          store.runs.finish('999999', { outcome: 'COMPLETED', finishedAt: 1 }),
          NotFoundError,
        );
      });

      it('lists runs newest first, filtered and paged', async (t) => {
        const { store } = await open(t);
        const ids: string[] = [];
        for (let n = 0; n < 6; n++) {
          const id = await store.runs.start(
            start({
              jobId: String(n % 2),
              flow: n < 3 ? 'sync' : 'enrich',
              ref: ref(String(n % 3)),
              startedAt: 1_000 * n,
            }),
          );
          await store.runs.finish(id, {
            outcome: n === 4 ? 'FAILED' : 'COMPLETED',
            finishedAt: 1_000 * n + 10,
          });
          ids.push(id);
        }
        const idsOf = (runs: { id: string }[]) => runs.map((run) => run.id);
        assert.deepEqual(idsOf(await store.runs.list()), [...ids].reverse());
        assert.deepEqual(idsOf(await store.runs.list({ flow: 'enrich' })), [ids[5], ids[4], ids[3]]);
        assert.deepEqual(idsOf(await store.runs.list({ jobId: '1' })), [ids[5], ids[3], ids[1]]);
        assert.deepEqual(idsOf(await store.runs.list({ ref: ref('1') })), [ids[4], ids[1]]);
        assert.deepEqual(idsOf(await store.runs.list({ outcomes: ['FAILED'] })), [ids[4]]);
        assert.deepEqual(idsOf(await store.runs.list({ since: 4_000 })), [ids[5], ids[4]]);
        assert.deepEqual(idsOf(await store.runs.list({ flow: 'sync', limit: 2 })), [ids[2], ids[1]]);
        assert.deepEqual(idsOf(await store.runs.list({ flow: 'sync', limit: 2, beforeId: ids[1] })), [
          ids[0],
        ]);
      });

      it('lists the latest start first, then the highest id, and pages in that order', async (t) => {
        const { store } = await open(t);
        // Several processes start runs: ids follow the inserts, start times each process's clock.
        const startedAt = [5_000, 3_000, 9_000, 3_000, 7_000];
        const ids: string[] = [];
        for (const time of startedAt) ids.push(await store.runs.start(start({ startedAt: time })));
        const expected = [ids[2], ids[4], ids[0], ids[3], ids[1]];
        assert.deepEqual(
          (await store.runs.list()).map((run) => run.id),
          expected,
        );
        assert.deepEqual(
          (await store.runs.list({ since: 5_000 })).map((run) => run.id),
          [ids[2], ids[4], ids[0]],
        );
        const paged: string[] = [];
        for (let page = await store.runs.list({ limit: 2 }); page.length > 0;) {
          paged.push(...page.map((run) => run.id));
          page = await store.runs.list({ limit: 2, beforeId: page.at(-1)!.id });
        }
        assert.deepEqual(paged, expected);
      });

      it('prunes runs that finished before the cutoff', async (t) => {
        const { store } = await open(t);
        const old = await store.runs.start(start({ startedAt: 1_000 }));
        await store.runs.finish(old, { outcome: 'COMPLETED', finishedAt: 1_500 });
        const recent = await store.runs.start(start({ startedAt: 1_800 }));
        await store.runs.finish(recent, { outcome: 'COMPLETED', finishedAt: 2_500 });
        const running = await store.runs.start(start({ startedAt: 3_000 }));
        assert.equal(await store.runs.prune(2_000), 1);
        assert.equal(await store.runs.get(old), null);
        assert.ok(await store.runs.get(recent));
        assert.ok(await store.runs.get(running));
      });
    });

    describe('links', () => {
      const link = (overrides: Partial<LinkWrite> = {}): LinkWrite => ({
        flow: 'so-espo',
        a: {
          ref: CONTACT,
          base: { name: 'Müller', tags: ['a', 'b'], address: { city: 'Köln' } },
          version: '2025-01-01T10:00:00',
        },
        b: { ref: ACCOUNT, base: null, version: null },
        status: 'pending',
        ...overrides,
      });

      it('creates a link at revision 1 and finds it by either side', async (t) => {
        const { store, clock } = await open(t);
        const saved = await store.links.save(link());
        assert.equal(typeof saved.id, 'string');
        assert.deepEqual(
          { ...saved, id: 'x' },
          {
            id: 'x',
            ...link(),
            retryCount: 0,
            lastError: null,
            lastSyncedAt: null,
            deletion: null,
            revision: 1,
            createdAt: clock.now(),
            updatedAt: clock.now(),
          },
        );
        assert.deepEqual(await store.links.get(saved.id), saved);
        assert.deepEqual(await store.links.findByRef('so-espo', CONTACT), saved);
        assert.deepEqual(await store.links.findByRef('so-espo', ACCOUNT), saved);
        assert.equal(await store.links.findByRef('other-flow', CONTACT), null);
        assert.equal(await store.links.findByRef('so-espo', ref('43')), null);
        assert.equal(await store.links.get('999999'), null);
      });

      it('updates with optimistic concurrency: a stale revision is refused', async (t) => {
        const { store, clock } = await open(t);
        const created = await store.links.save(link());
        clock.advance(1_000);
        const synced = await store.links.save({
          ...link({ status: 'clean', lastSyncedAt: clock.now() }),
          id: created.id,
          b: { ref: ACCOUNT, base: { name: 'Müller' }, version: '7' },
          expectedRevision: 1,
        });
        assert.deepEqual(
          [synced.revision, synced.status, synced.b.version, synced.createdAt, synced.updatedAt],
          [2, 'clean', '7', created.createdAt, clock.now()],
        );
        await assert.rejects(
          store.links.save({
            ...link({ status: 'failed', retryCount: 1, lastError: 'x' }),
            id: created.id,
            expectedRevision: 1,
          }),
          StaleWriteError,
        );
        assert.equal((await store.links.get(created.id))?.status, 'clean', 'the stale write changed nothing');
        const unconditional = await store.links.save({ ...link({ status: 'conflict' }), id: created.id });
        assert.equal(unconditional.revision, 3);
        await assert.rejects(
          store.links.save({ ...link(), id: '999999', expectedRevision: 1 }),
          NotFoundError,
        );
      });

      it('lets exactly one of two concurrent writers with the same revision win (cannot fail on SQLite, whose calls never interleave; it guards async backends)', async (t) => {
        const { store } = await open(t);
        const created = await store.links.save(link());
        const results = await Promise.allSettled(
          ['failed', 'conflict'].map((status) =>
            store.links.save({
              ...link({ status: status as 'failed' }),
              id: created.id,
              expectedRevision: 1,
            }),
          ),
        );
        assert.equal(results.filter((result) => result.status === 'fulfilled').length, 1);
        const rejected = results.find((result) => result.status === 'rejected');
        assert.ok(rejected?.reason instanceof StaleWriteError);
      });

      it('keeps a record ref in at most one link per flow', async (t) => {
        const { store } = await open(t);
        await store.links.save(link());
        await assert.rejects(
          store.links.save(link({ b: { ref: ref('9', 'espocrm'), base: null, version: null } })),
          StaleWriteError,
        );
        assert.ok(await store.links.save(link({ flow: 'another-flow' })));
      });

      it('lists the links of a flow oldest first, by status, after a cursor', async (t) => {
        const { store } = await open(t);
        const ids: string[] = [];
        for (let n = 0; n < 5; n++) {
          const saved = await store.links.save(
            link({
              a: { ref: ref(`a${n}`), base: null, version: null },
              b: { ref: ref(`b${n}`, 'espocrm'), base: null, version: null },
              status: n % 2 === 0 ? 'clean' : 'failed',
            }),
          );
          ids.push(saved.id);
        }
        await store.links.save(link({ flow: 'other' }));
        const idsOf = (links: { id: string }[]) => links.map((item) => item.id);
        assert.deepEqual(idsOf(await store.links.list({ flow: 'so-espo' })), ids);
        assert.deepEqual(idsOf(await store.links.list({ flow: 'so-espo', status: 'failed' })), [
          ids[1],
          ids[3],
        ]);
        assert.deepEqual(idsOf(await store.links.list({ flow: 'so-espo', afterId: ids[1], limit: 2 })), [
          ids[2],
          ids[3],
        ]);
      });
      /** Saves a link of records `a<n>`/`b<n>` with the given fields. */
      const saveNth = (links: LinkRepository, n: number, overrides: Partial<LinkWrite> = {}) =>
        links.save(
          link({
            a: { ref: ref(`a${n}`), base: null, version: null },
            b: { ref: ref(`b${n}`, 'espocrm'), base: null, version: null },
            ...overrides,
          }),
        );

      it('keeps the soft-delete mark a save carries, and clears it when a save carries none', async (t) => {
        const { store, clock } = await open(t);
        const waiting: LinkDeletion = { side: 'b', detectedAt: clock.now(), applied: null, appliedAt: null };
        const created = await store.links.save(link({ status: 'pending', deletion: waiting }));
        assert.deepEqual(created.deletion, waiting);
        assert.deepEqual((await store.links.get(created.id))?.deletion, waiting);
        const applied: LinkDeletion = { ...waiting, applied: 'flagged', appliedAt: clock.now() + 5 };
        const marked = await store.links.save({ ...created, deletion: applied, expectedRevision: 1 });
        assert.deepEqual((await store.links.findByRef('so-espo', CONTACT))?.deletion, applied);
        // A save spreading the link read keeps the mark; one built without it clears it (absent = null).
        const kept = await store.links.save({ ...marked, status: 'deleted', expectedRevision: 2 });
        assert.deepEqual(kept.deletion, applied);
        const cleared = await store.links.save({ ...link(), id: created.id, expectedRevision: 3 });
        assert.equal(cleared.deletion, null);
        assert.equal((await store.links.get(created.id))?.deletion, null);
      });

      it('refuses a soft-delete mark the store cannot hold, changing nothing', async (t) => {
        const { store, clock } = await open(t);
        const created = await store.links.save(link());
        const bad: unknown[] = [
          { side: 'c', detectedAt: clock.now(), applied: null, appliedAt: null },
          { side: 'a', detectedAt: clock.now(), applied: 'erased', appliedAt: clock.now() },
          { side: 'a', detectedAt: clock.now(), applied: 'deleted', appliedAt: null },
          { side: 'a', detectedAt: null, applied: null, appliedAt: null },
        ];
        for (const deletion of bad) {
          await assert.rejects(
            store.links.save({ ...created, deletion: deletion as LinkDeletion }),
            (error: unknown) => error instanceof InputError && error.code === 'LINK_DELETION_INVALID',
          );
        }
        assert.deepEqual(await store.links.get(created.id), created);
      });

      it('lists the links whose deletion waits past a time, for the grace-period sweep', async (t) => {
        const { store } = await open(t);
        const waiting = (detectedAt: number): LinkDeletion => ({
          side: 'a',
          detectedAt,
          applied: null,
          appliedAt: null,
        });
        const ids = [
          (await saveNth(store.links, 0, { deletion: waiting(1_000) })).id,
          (
            await saveNth(store.links, 1, {
              deletion: { ...waiting(1_000), applied: 'deleted', appliedAt: 2_000 },
            })
          ).id,
          (await saveNth(store.links, 2)).id,
          (await saveNth(store.links, 3, { deletion: waiting(5_000) })).id,
          (await saveNth(store.links, 4, { deletion: waiting(2_000), status: 'deleted' })).id,
          (await saveNth(store.links, 5, { deletion: waiting(1_500) })).id,
          (await saveNth(store.links, 6, { deletion: waiting(1_000), flow: 'other' })).id,
        ];
        const idsOf = (links: { id: string }[]) => links.map((item) => item.id);
        assert.deepEqual(idsOf(await store.links.list({ flow: 'so-espo', deletionPendingBefore: 2_001 })), [
          ids[0],
          ids[4],
          ids[5],
        ]);
        assert.deepEqual(
          idsOf(await store.links.list({ flow: 'so-espo', deletionPendingBefore: 2_000, status: 'pending' })),
          [ids[0], ids[5]],
        );
        assert.deepEqual(
          idsOf(
            await store.links.list({
              flow: 'so-espo',
              deletionPendingBefore: 9_999,
              afterId: ids[0],
              limit: 2,
            }),
          ),
          [ids[3], ids[4]],
        );
        assert.deepEqual(await store.links.list({ flow: 'so-espo', deletionPendingBefore: 1_000 }), []);
      });

      it('counts the links of a flow per status, following every save', async (t) => {
        const { store } = await open(t);
        const none: Record<LinkStatus, number> = { clean: 0, pending: 0, failed: 0, conflict: 0, deleted: 0 };
        assert.deepEqual(await store.links.countByStatus('so-espo'), none);
        const first = await saveNth(store.links, 0, { status: 'clean' });
        await saveNth(store.links, 1, { status: 'clean' });
        await saveNth(store.links, 2, { status: 'failed' });
        await saveNth(store.links, 3, { status: 'clean', flow: 'other' });
        assert.deepEqual(await store.links.countByStatus('so-espo'), { ...none, clean: 2, failed: 1 });
        const stored = (await store.links.get(first.id))!;
        const moved = await store.links.save({ ...stored, status: 'conflict', expectedRevision: 1 });
        await store.links.save({ ...moved, expectedRevision: 2 }); // same status: no change
        await store.links.save({ ...moved, flow: 'other', expectedRevision: 3 });
        assert.deepEqual(await store.links.countByStatus('so-espo'), { ...none, clean: 1, failed: 1 });
        assert.deepEqual(await store.links.countByStatus('other'), { ...none, clean: 1, conflict: 1 });
        // A refused save changes no count.
        await assert.rejects(
          store.links.save({ ...moved, status: 'deleted', expectedRevision: 1 }),
          StaleWriteError,
        );
        assert.deepEqual(await store.links.countByStatus('other'), { ...none, clean: 1, conflict: 1 });
      });
    });

    describe('write ledger', () => {
      const entry = (field: string, writtenAt: number, target: RecordRef = CONTACT) => ({
        ref: target,
        field,
        valueHash: `h-${field}-${writtenAt}`,
        version: `v${writtenAt}`,
        runId: '5',
        writtenAt,
      });

      it('finds the entries of a record since a time, newest first', async (t) => {
        const { store } = await open(t);
        await store.ledger.record([entry('name', 1_000), entry('phone', 2_000), entry('name', 3_000)]);
        await store.ledger.record([
          entry('name', 2_500, ACCOUNT),
          { ...entry('email', 2_600), version: null, runId: null },
        ]);
        await store.ledger.record([]);
        assert.deepEqual(await store.ledger.find(CONTACT, 2_000), [
          entry('name', 3_000),
          { ...entry('email', 2_600), version: null, runId: null },
          entry('phone', 2_000),
        ]);
        assert.deepEqual(await store.ledger.find(ref('nobody'), 0), []);
      });

      it('prunes entries written before the cutoff', async (t) => {
        const { store } = await open(t);
        await store.ledger.record([entry('a', 1_000), entry('b', 2_000), entry('c', 3_000)]);
        assert.equal(await store.ledger.prune(2_000), 1);
        assert.deepEqual(
          (await store.ledger.find(CONTACT, 0)).map((item) => item.field),
          ['c', 'b'],
        );
      });
    });

    describe('checkpoints', () => {
      it('sets, overwrites, reads and deletes', async (t) => {
        const { store, clock } = await open(t);
        assert.equal(await store.checkpoints.get('backfill:so'), null);
        await store.checkpoints.set('backfill:so', { page: 1, cursor: 'abc' });
        clock.advance(10);
        await store.checkpoints.set('backfill:so', { page: 2, cursor: null, done: [1, 2] });
        assert.deepEqual(await store.checkpoints.get('backfill:so'), {
          name: 'backfill:so',
          value: { page: 2, cursor: null, done: [1, 2] },
          updatedAt: clock.now(),
        });
        await store.checkpoints.delete('backfill:so');
        assert.equal(await store.checkpoints.get('backfill:so'), null);
        await store.checkpoints.delete('never-set');
      });

      it('compares and sets: absent as null, JSON equality whatever the key order', async (t) => {
        const { store } = await open(t);
        assert.equal(await store.checkpoints.compareAndSet('tick', null, { at: 1, by: 'a' }), true);
        assert.equal(await store.checkpoints.compareAndSet('tick', null, { at: 1, by: 'b' }), false);
        assert.equal(
          await store.checkpoints.compareAndSet('tick', { at: 2, by: 'a' }, { at: 2, by: 'c' }),
          false,
        );
        assert.equal(
          await store.checkpoints.compareAndSet('tick', { by: 'a', at: 1 }, { at: 2, by: 'a' }),
          true,
        );
        assert.deepEqual((await store.checkpoints.get('tick'))?.value, { at: 2, by: 'a' });
        assert.equal(await store.checkpoints.compareAndSet('n', null, 5), true);
        assert.equal(await store.checkpoints.compareAndSet('n', 5, 'five'), true);
        assert.equal(await store.checkpoints.compareAndSet('n', 5, 6), false);
      });

      it('lets exactly one of many concurrent compare-and-sets win (cannot fail on SQLite, whose calls never interleave; it guards async backends)', async (t) => {
        const { store } = await open(t);
        await store.checkpoints.set('cron:retention', { last: 100 });
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, n) =>
            store.checkpoints.compareAndSet('cron:retention', { last: 100 }, { last: 200, by: n }),
          ),
        );
        assert.equal(results.filter(Boolean).length, 1);
      });
    });

    describe('connector state', () => {
      it('sets, reads, overwrites and deletes values per connection', async (t) => {
        const { store } = await open(t);
        assert.equal(await store.connectorState.get('so', 'token'), null);
        await store.connectorState.set('so', 'token', { access: 'a1', scope: ['read'] });
        await store.connectorState.set('espo', 'token', 'other connection');
        await store.connectorState.set('so', 'token', { access: 'a2', scope: ['read'] });
        assert.deepEqual(await store.connectorState.get('so', 'token'), { access: 'a2', scope: ['read'] });
        assert.equal(await store.connectorState.get('espo', 'token'), 'other connection');
        await store.connectorState.delete('so', 'token');
        assert.equal(await store.connectorState.get('so', 'token'), null);
        assert.equal(await store.connectorState.get('espo', 'token'), 'other connection');
      });

      it('forgets a value once it expired', async (t) => {
        const { store, clock } = await open(t);
        await store.connectorState.set('so', 'token', 'short-lived', clock.now() + 1_000);
        await store.connectorState.set('so', 'userId', 528, null);
        clock.advance(999);
        assert.equal(await store.connectorState.get('so', 'token'), 'short-lived');
        clock.advance(1);
        assert.equal(await store.connectorState.get('so', 'token'), null);
        assert.equal(await store.connectorState.get('so', 'userId'), 528);
        await store.connectorState.set('so', 'token', 'renewed', clock.now() + 1_000);
        assert.equal(await store.connectorState.get('so', 'token'), 'renewed');
      });

      it('prunes expired values and keeps the others', async (t) => {
        const { store, clock } = await open(t);
        await store.connectorState.set('so', 'token', 'expiring', clock.now() + 1_000);
        await store.connectorState.set('espo', 'token', 'later', clock.now() + 2_000);
        await store.connectorState.set('so', 'userId', 528, null);
        assert.equal(await store.connectorState.prune(), 0);
        clock.advance(1_000);
        assert.equal(await store.connectorState.prune(), 1);
        assert.equal(await store.connectorState.get('espo', 'token'), 'later');
        assert.equal(await store.connectorState.get('so', 'userId'), 528);
        await store.connectorState.set('so', 'token', 'renewed', clock.now() + 1_000);
        assert.equal(await store.connectorState.get('so', 'token'), 'renewed');
      });
    });
  });
}
