/**
 * The re-check of Advoware links (no change times) against the Advoware simulator through its connector and a
 * real SQLite backend: a changed rowId is queued, an unchanged record costs its read and queues nothing, a
 * record that is gone queues a `deleted` hint, the budget share bounds the reads of a tick, the checkpoint
 * resumes after a restart and wraps around, and the rotation time is reported.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { InputError } from '../../../src/core/errors.ts';
import type { Backend } from '../../../src/ports/backend.ts';
import type { Connector } from '../../../src/ports/connector.ts';
import { changeDetectionFor } from '../../../src/engine/flows/sync/change-detection.ts';
import { createRecheck, recheckStatus } from '../../../src/engine/flows/sync/recheck.ts';
import type { RecheckSettings } from '../../../src/engine/flows/sync/recheck.ts';
import type { AdvowareSimulator } from '../../../src/simulators/advoware/index.ts';
import { FLOW, advowareFixture, link, queuedEvents, runOnce } from './support.ts';
import type { ScanFixture } from './support.ts';

/** A tenth of 5 requests/s, every 10 s: 5 reads per tick, 0.5 reads per second. */
const SETTINGS: RecheckSettings = { side: 'b', requestsPerSecond: 5, budgetShare: 0.1, intervalSeconds: 10 };

describe('recheck (Advoware simulator)', () => {
  let fixture: ScanFixture & { readonly sim: AdvowareSimulator };
  /** Ids the re-check read, in order. */
  let reads: string[];
  beforeEach(async () => {
    fixture = await advowareFixture();
    reads = [];
  });
  afterEach(() => fixture.close());

  /** Creates a Beteiligter and links it at its current rowId; returns its id. */
  async function linked(name: string): Promise<string> {
    const written = await fixture.connector.write({ entityType: 'Beteiligte', fields: { name } });
    await link(
      fixture.test,
      'b',
      { connection: 'advo', entityType: 'Beteiligte', id: written.id },
      written.version,
      {
        connection: 'espo',
        entityType: 'CBeteiligte',
        id: `espo-${written.id}`,
      },
    );
    return written.id;
  }

  /** A fresh task (as after a restart), reading through the real connector. */
  function recheck(settings: RecheckSettings = SETTINGS, backend: Backend = fixture.test.backend) {
    const connector: Pick<Connector, 'connection' | 'read'> = {
      connection: 'advo',
      read: (entityType, id, options) => {
        reads.push(id);
        return fixture.connector.read(entityType, id, options);
      },
    };
    return createRecheck({
      flow: FLOW,
      connector,
      links: backend.store.links,
      queue: backend.queue,
      checkpoints: backend.store.checkpoints,
      settings,
    });
  }

  it('is the change detection the Advoware capabilities call for', () => {
    assert.equal(changeDetectionFor(fixture.connector.capabilities), 'recheck');
  });

  it('queues a changed rowId, and nothing but a read for an unchanged record', async () => {
    const unchanged = await linked('Unchanged');
    const changed = await linked('Changed');
    const edited = await fixture.connector.write({
      entityType: 'Beteiligte',
      id: changed,
      fields: { name: 'Edited' },
    });

    const callsBefore = fixture.apiCalls.length;
    await runOnce(recheck());
    assert.deepEqual(reads.sort(), [unchanged, changed].sort(), 'each linked record is read once');
    assert.deepEqual(
      fixture.apiCalls.slice(callsBefore).map((call) => call.method),
      ['GET', 'GET'],
      'a tick costs one vendor call per link read, and writes nothing',
    );
    assert.deepEqual(await queuedEvents(fixture.test), [
      { id: changed, kind: 'updated', version: edited.version!, count: 1 },
    ]);
    const [job] = await fixture.test.backend.queue.list({ limit: 1 });
    assert.equal(job!.recordKey, `${FLOW}|advo/Beteiligte/${changed}`);
  });

  it('queues a deleted hint for a linked record that is gone, and the same finding once', async () => {
    const present = await linked('Present');
    await link(fixture.test, 'b', { connection: 'advo', entityType: 'Beteiligte', id: '999999' }, 'r1', {
      connection: 'espo',
      entityType: 'CBeteiligte',
      id: 'espo-gone',
    });
    await runOnce(recheck());
    await runOnce(recheck());
    assert.deepEqual(
      reads.sort(),
      [present, present, '999999', '999999'].sort(),
      'two ticks: one read per link each',
    );
    assert.deepEqual(await queuedEvents(fixture.test), [
      { id: '999999', kind: 'deleted', version: undefined, count: 1 },
    ]);
  });

  it('reads at most its budget share per tick, resumes after a restart, wraps and reports the rotation', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 12; i += 1) ids.push(await linked(`B${i}`));
    const { checkpoints } = fixture.test.backend.store;

    await runOnce(recheck());
    assert.equal(reads.length, 5, '0.1 of 5 requests/s over 10 s: 5 reads');
    const before = await recheckStatus(checkpoints, FLOW, SETTINGS);
    assert.equal(before.rotations, 0);
    assert.equal(before.linksPerRotation, 5, 'before the first rotation ends: the links read so far');

    // A new process on the same database goes on after the last link read; the third tick reaches the end
    // and wraps.
    const restarted = fixture.test.openAnother();
    await runOnce(recheck(SETTINGS, restarted));
    await runOnce(recheck(SETTINGS, restarted));
    assert.equal(
      reads.length,
      12,
      'the third tick reads the last 2 links and stops at the end of the rotation',
    );
    assert.equal(new Set(reads).size, 12, 'no link read twice in one rotation');
    const status = await recheckStatus(checkpoints, FLOW, SETTINGS);
    assert.deepEqual(status, {
      readsPerTick: 5,
      readsPerSecond: 0.5,
      rotations: 1,
      linksPerRotation: 12,
      rotationSeconds: 24,
    });

    await runOnce(recheck());
    assert.deepEqual(reads.slice(12), ids.slice(0, 5), 'the next rotation starts at the first link again');
    assert.deepEqual(await queuedEvents(fixture.test), [], 'nothing changed: nothing queued');
  });

  it('refuses a budget share it cannot keep, when the task is created', () => {
    for (const budgetShare of [0, 1.5, Number.NaN]) {
      assert.throws(
        () => recheck({ ...SETTINGS, budgetShare }),
        (error: unknown) => error instanceof InputError && error.code === 'SCAN_BUDGET_INVALID',
        `budgetShare ${budgetShare}`,
      );
    }
  });

  it('reads nothing once the run is aborted (the schedule lock was lost)', async () => {
    await linked('One');
    const controller = new AbortController();
    controller.abort();
    await runOnce(recheck(), controller.signal);
    assert.deepEqual(reads, []);
  });
});
