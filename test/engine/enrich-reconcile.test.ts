/**
 * The enrich flow's reconciler against a real SQLite backend and a scripted connector: what it queues, what it
 * leaves out (its own writes), where it resumes, and how much one run may queue.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { ListPage, ListQuery, VendorRecord } from '../../src/ports/connector.ts';
import { createEnrichReconciler } from '../../src/engine/flows/enrich/reconcile.ts';
import type { ReconcileSettings } from '../../src/engine/flows/enrich/reconcile.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { openTestBackend, silentLogger } from './support.ts';
import type { TestBackend } from './support.ts';

const NOW = Date.UTC(2026, 10, 29, 12, 0, 0);

function contact(id: number, minutesAgo: number): VendorRecord {
  const version = new Date(NOW - minutesAgo * 60_000).toISOString();
  return { entityType: 'Contact', id: String(id), fields: { name: `Firma ${id}` }, version };
}

/** A connector whose list() serves `records` (oldest first) after `modifiedSince`, `pageSize` a page. */
function scriptedConnector(records: VendorRecord[], pageSize: number) {
  const queries: ListQuery[] = [];
  return {
    connection: 'so',
    queries,
    list(query: ListQuery): Promise<ListPage> {
      queries.push(query);
      const since = query.modifiedSince ?? '';
      const matching = records.filter((record) => (record.version ?? '') > since);
      const start = query.cursor === undefined ? 0 : Number(query.cursor);
      const page = matching.slice(start, start + pageSize);
      const next = start + pageSize < matching.length ? String(start + pageSize) : null;
      return Promise.resolve({ records: page, nextCursor: next });
    },
  };
}

describe('enrich reconciler', () => {
  let test: TestBackend;
  const clock = new ManualClock(NOW);
  beforeEach(() => {
    test = openTestBackend({ clock });
  });
  afterEach(() => test.close());

  async function run(
    connector: ReturnType<typeof scriptedConnector>,
    settings: Partial<ReconcileSettings> = {},
  ) {
    const task = createEnrichReconciler({
      flow: 'enrich',
      connector,
      queue: test.backend.queue,
      checkpoints: test.backend.store.checkpoints,
      ledger: test.backend.store.ledger,
      clock,
      settings: { entityTypes: ['Contact'], lookbackMinutes: 60, maxPerRun: 1_000, ...settings },
    });
    await task({
      name: 'reconcile:enrich',
      tickAt: clock.now(),
      signal: new AbortController().signal,
      logger: silentLogger,
    });
  }

  async function queuedIds(): Promise<string[]> {
    const jobs = await test.backend.queue.list({ limit: 100 });
    return jobs.map((job) => job.recordKey.split('/').at(-1)!).sort((a, b) => Number(a) - Number(b));
  }

  it('queues records modified within the lookback as contact.changed events, once per version', async () => {
    const connector = scriptedConnector([contact(1, 90), contact(2, 30), contact(3, 5)], 10);
    await run(connector);
    assert.equal(connector.queries[0]!.modifiedSince, new Date(NOW - 60 * 60_000).toISOString());
    assert.deepEqual(await queuedIds(), ['2', '3']);
    const [job] = await test.backend.queue.list({ limit: 1 });
    const event = job!.payloads[0] as { vendorEvent: string; kind: string; changedFields?: unknown };
    assert.equal(event.vendorEvent, 'contact.changed');
    assert.equal(event.kind, 'updated');
    assert.equal(event.changedFields, undefined, 'no column list: every watched column may have changed');

    // The next run starts after the newest version seen, so nothing is queued twice.
    await run(connector);
    assert.equal(connector.queries.at(-1)!.modifiedSince, contact(3, 5).version);
    assert.deepEqual(await queuedIds(), ['2', '3']);
  });

  it("does not queue a record whose current version is the flow's own write (write ledger)", async () => {
    const own = contact(4, 2);
    await test.backend.store.ledger.record([
      {
        ref: { connection: 'so', entityType: 'Contact', id: '4' },
        field: 'SuperOffice:84',
        valueHash: 'h',
        version: own.version,
        runId: '1',
        writtenAt: NOW - 2 * 60_000 + 20,
      },
    ]);
    await run(scriptedConnector([contact(5, 3), own], 10));
    assert.deepEqual(await queuedIds(), ['5']);
  });

  it('checkpoints every page and stops at maxPerRun; the next run goes on from there', async () => {
    const records = Array.from({ length: 7 }, (_, index) => contact(10 + index, 30 - index));
    const connector = scriptedConnector(records, 2);
    await run(connector, { maxPerRun: 3 });
    assert.deepEqual(await queuedIds(), ['10', '11', '12']);
    const checkpoint = await test.backend.store.checkpoints.get('reconcile|enrich|Contact');
    assert.equal(
      checkpoint?.value,
      records[2]!.version,
      'the newest version queued: nothing unseen is skipped',
    );
    await run(connector, { maxPerRun: 3 });
    assert.deepEqual(await queuedIds(), ['10', '11', '12', '13', '14', '15']);
  });
});
