/**
 * Discovery of unlinked Beteiligte (a full list scan) against the Advoware simulator through its connector
 * and a real SQLite backend: an unlinked record is queued as `created`, a linked one is not, pages per tick
 * stay within the budget share, the checkpoint resumes after a restart and starts over after the last page.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Connector, ListQuery } from '../../../src/ports/connector.ts';
import { createDiscovery } from '../../../src/engine/flows/sync/discovery.ts';
import type { DiscoverySettings } from '../../../src/engine/flows/sync/discovery.ts';
import type { AdvowareSimulator } from '../../../src/simulators/advoware/index.ts';
import { FLOW, advowareFixture, link, queuedEvents, runOnce } from './support.ts';
import type { ScanFixture } from './support.ts';

/** 2 pages per tick (0.1 of 2 requests/s over 10 s), 2 records per page. */
const SETTINGS: DiscoverySettings = {
  entityType: 'Beteiligte',
  requestsPerSecond: 2,
  budgetShare: 0.1,
  intervalSeconds: 10,
  pageSize: 2,
};

describe('discovery (Advoware simulator)', () => {
  let fixture: ScanFixture & { readonly sim: AdvowareSimulator };
  /** The list queries discovery sent. */
  let queries: ListQuery[];
  beforeEach(async () => {
    fixture = await advowareFixture();
    queries = [];
  });
  afterEach(() => fixture.close());

  async function beteiligter(name: string): Promise<{ id: string; version: string | null }> {
    return fixture.connector.write({ entityType: 'Beteiligte', fields: { name } });
  }

  /** A fresh task (as after a restart), listing through the real connector. */
  function discovery() {
    const connector: Pick<Connector, 'connection' | 'list'> = {
      connection: 'advo',
      list: (query, options) => {
        queries.push(query);
        return fixture.connector.list(query, options);
      },
    };
    const { test } = fixture;
    return createDiscovery({
      flow: FLOW,
      connector,
      links: test.backend.store.links,
      queue: test.backend.queue,
      checkpoints: test.backend.store.checkpoints,
      settings: SETTINGS,
    });
  }

  it('queues an unlinked Beteiligter as created, a linked one not at all', async () => {
    const known = await beteiligter('Known');
    const fresh = await beteiligter('Fresh');
    await link(
      fixture.test,
      'b',
      { connection: 'advo', entityType: 'Beteiligte', id: known.id },
      known.version,
      {
        connection: 'espo',
        entityType: 'CBeteiligte',
        id: 'espo-known',
      },
    );
    await runOnce(discovery());
    assert.deepEqual(await queuedEvents(fixture.test), [
      { id: fresh.id, kind: 'created', version: fresh.version!, count: 1 },
    ]);
  });

  it('lists at most its pages per tick, resumes after a restart, and starts over after the last page', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) ids.push((await beteiligter(`B${i}`)).id);

    await runOnce(discovery());
    assert.equal(queries.length, 2, 'two pages: the budget of one tick');
    assert.deepEqual(
      (await queuedEvents(fixture.test)).map((event) => event.id),
      ids.slice(0, 4),
    );

    await runOnce(discovery());
    assert.equal(queries.length, 3, 'the restarted scan lists the last page and ends its pass there');
    assert.notEqual(queries[2]!.cursor, undefined, 'it resumed at the checkpoint, not at the first page');
    assert.deepEqual(
      (await queuedEvents(fixture.test)).map((event) => event.id),
      ids,
    );

    await runOnce(discovery());
    assert.equal(queries[3]!.cursor, undefined, 'the next pass starts at the first page');
    assert.deepEqual(
      (await queuedEvents(fixture.test)).map((event) => event.count),
      [1, 1, 1, 1, 1],
      'a record seen again at the same version is not queued again',
    );
  });
});
