/**
 * The sync flow's reconciler against the EspoCRM simulator (CBeteiligte, the seed's status fields) through
 * its connector and a real SQLite backend: records modified since the last run are queued, a record saved in
 * the same second as the checkpoint is not lost, a (record, version) already handled is not queued again, a
 * record at its link's version queues nothing, and a record whose `syncStatus` asks for a sync is found
 * however old it is.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { JsonObject } from '../../../src/core/types.ts';
import type { ListQuery } from '../../../src/ports/connector.ts';
import { changeDetectionFor } from '../../../src/engine/flows/sync/change-detection.ts';
import { createSyncReconciler } from '../../../src/engine/flows/sync/reconcile.ts';
import type { SyncReconcileSettings } from '../../../src/engine/flows/sync/reconcile.ts';
import type { EspoCrmSimulator } from '../../../src/simulators/espocrm/index.ts';
import { FLOW, espocrmFixture, link, queuedEvents, runOnce } from './support.ts';
import type { ScanFixture } from './support.ts';

const SETTINGS: SyncReconcileSettings = {
  entityType: 'CBeteiligte',
  lookbackMinutes: 60,
  maxPerRun: 1_000,
  statusField: { name: 'syncStatus' },
  pageSize: 2,
};

describe('sync reconciler (EspoCRM simulator)', () => {
  let fixture: ScanFixture & { readonly sim: EspoCrmSimulator };
  beforeEach(async () => {
    fixture = await espocrmFixture();
  });
  afterEach(() => fixture.close());

  /** Creates a CBeteiligter now (simulator time); clean unless told otherwise. */
  async function beteiligter(
    name: string,
    fields: JsonObject = {},
  ): Promise<{ id: string; version: string | null }> {
    return fixture.connector.write({
      entityType: 'CBeteiligte',
      fields: { name, syncStatus: 'clean', ...fields },
    });
  }

  /** The list queries of the runs, and the call number (from 1) that fails once, as a crash would. */
  let queries: ListQuery[];
  let failAtCall: number | null;
  beforeEach(() => {
    queries = [];
    failAtCall = null;
  });

  /** Runs a fresh reconciler (as after a restart); returns its counts. */
  async function run(
    settings: SyncReconcileSettings = SETTINGS,
  ): Promise<{ queued: number; unchanged: number }> {
    const { test, clock, connector } = fixture;
    const summary = await runOnce(
      createSyncReconciler({
        flow: FLOW,
        connector: {
          connection: connector.connection,
          capabilities: connector.capabilities,
          list: (query, options) => {
            queries.push(query);
            if (queries.length === failAtCall) return Promise.reject(new Error('crash while listing'));
            return connector.list(query, options);
          },
        },
        links: test.backend.store.links,
        queue: test.backend.queue,
        checkpoints: test.backend.store.checkpoints,
        clock,
        settings,
      }),
    );
    return { queued: summary['queued'] as number, unchanged: summary['unchanged'] as number };
  }

  async function queuedIds(): Promise<string[]> {
    return (await queuedEvents(fixture.test)).map((event) => event.id).sort();
  }

  it('is the change detection the EspoCRM capabilities call for', () => {
    assert.equal(changeDetectionFor(fixture.connector.capabilities), 'reconcile');
  });

  it('queues records modified since the last run, once per version, and one saved in the checkpoint second', async () => {
    fixture.clock.set(fixture.clock.now() - 2 * 60 * 60_000);
    await beteiligter('Too old to look back to');
    fixture.clock.advance(2 * 60 * 60_000 - 10_000);
    const first = await beteiligter('First');
    fixture.clock.advance(10_000);
    const second = await beteiligter('Second');
    assert.deepEqual(await run(), { queued: 2, unchanged: 0 });
    assert.deepEqual(await queuedIds(), [first.id, second.id].sort());
    const [event] = await queuedEvents(fixture.test);
    assert.equal(event!.kind, 'updated');

    // The checkpoint stands at Second's second; a record saved later within that second is listed again with
    // the overlap, and the pairs handled already are skipped.
    fixture.clock.advance(400);
    const sameSecond = await beteiligter('Same second');
    assert.deepEqual(await run(), { queued: 1, unchanged: 0 });
    assert.deepEqual(await queuedIds(), [first.id, second.id, sameSecond.id].sort());

    assert.deepEqual(await run(), { queued: 0, unchanged: 0 }, 'nothing new: nothing queued');
    for (const event of await queuedEvents(fixture.test))
      assert.equal(event.count, 1, 'one payload per record');

    fixture.clock.advance(5_000);
    const edited = await fixture.connector.write({
      entityType: 'CBeteiligte',
      id: first.id,
      fields: { name: 'Edited' },
    });
    assert.deepEqual(await run(), { queued: 1, unchanged: 0 }, 'a new version is queued');
    const events = await queuedEvents(fixture.test);
    assert.equal(events.find((event) => event.id === first.id)!.count, 2, 'coalesced into the waiting job');
    assert.notEqual(edited.version, first.version);
  });

  it('queues nothing for a record at the version its link stored', async () => {
    const synced = await beteiligter('Synced');
    const behind = await beteiligter('Behind');
    const other = { connection: 'advo', entityType: 'Beteiligte' };
    await link(
      fixture.test,
      'a',
      { connection: 'espo', entityType: 'CBeteiligte', id: synced.id },
      synced.version,
      {
        ...other,
        id: '1',
      },
    );
    await link(fixture.test, 'a', { connection: 'espo', entityType: 'CBeteiligte', id: behind.id }, 'older', {
      ...other,
      id: '2',
    });
    assert.deepEqual(await run(), { queued: 1, unchanged: 1 });
    assert.deepEqual(await queuedIds(), [behind.id]);
  });

  it('finds records whose syncStatus asks for a sync, however old, and not the clean ones', async () => {
    fixture.clock.set(fixture.clock.now() - 30 * 24 * 60 * 60_000);
    const dirty = await beteiligter('Dirty', { syncStatus: 'dirty' });
    const failed = await beteiligter('Failed', { syncStatus: 'failed' });
    const pending = await beteiligter('Pending', { syncStatus: 'pending_sync' });
    await beteiligter('Clean');
    await beteiligter('Given up', { syncStatus: 'permanently_failed' });
    fixture.clock.advance(30 * 24 * 60 * 60_000);

    assert.deepEqual(await run({ ...SETTINGS, statusField: undefined }), { queued: 0, unchanged: 0 });
    assert.deepEqual(await run(), { queued: 3, unchanged: 0 });
    assert.deepEqual(await queuedIds(), [dirty.id, failed.id, pending.id].sort());
    assert.deepEqual(
      await run(),
      { queued: 0, unchanged: 0 },
      'the next pass finds the same versions: queued once',
    );
  });

  it('checkpoints the status sweep after every page: a run that stops on a page resumes at that page', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      fixture.clock.advance(1_000);
      ids.push((await beteiligter(`B${i}`, { syncStatus: 'dirty' })).id);
    }
    // Pages of 2: the scan of modified records lists 3 pages, then the status sweep; its second page fails.
    failAtCall = 5;
    await assert.rejects(run(), /crash while listing/);
    assert.deepEqual(await queuedIds(), ids.slice().sort(), 'the modified scan queued every record');
    const sweepStart = queries[3]!;
    assert.equal(sweepStart.modifiedSince, undefined, 'the sweep lists every record');

    const before = queries.length;
    assert.deepEqual(await run(), { queued: 0, unchanged: 0 }, 'the same versions are not queued again');
    const resumed = queries.slice(before).filter((query) => query.modifiedSince === undefined);
    assert.equal(resumed[0]!.cursor, queries[4]!.cursor, 'the sweep resumed at the page that failed');
    assert.equal(resumed.length, 2, 'and listed only the pages from there on');
  });
});
