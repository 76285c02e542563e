/**
 * The enrich flow's reconciler against a real SQLite backend and the SuperOffice simulator through the
 * SuperOffice connector (whose `modifiedSince` is `afterTime`: exclusive, on whole seconds): what it queues,
 * what it leaves out (its own writes), where it resumes, that a record saved in the checkpoint's second is not
 * lost, and that re-listed (record, version) pairs cost nothing of the per-run budget.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { superofficeConnector } from '../../src/connectors/superoffice/index.ts';
import type { Connector, ListQuery } from '../../src/ports/connector.ts';
import type { Logger } from '../../src/ports/logger.ts';
import { createEnrichReconciler } from '../../src/engine/flows/enrich/reconcile.ts';
import type { ReconcileSettings } from '../../src/engine/flows/enrich/reconcile.ts';
import {
  simulatorConnectionOptions,
  startSuperOfficeSimulator,
} from '../../src/simulators/superoffice/index.ts';
import type { SuperOfficeSimulator } from '../../src/simulators/superoffice/index.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { recorder, silentLogger as pinoSilent } from '../connectors/superoffice/support.ts';
import { openTestBackend, silentLogger } from './support.ts';
import type { TestBackend } from './support.ts';

const NOW = Date.UTC(2026, 10, 29, 12, 0, 0);

describe('enrich reconciler (SuperOffice simulator)', () => {
  let test: TestBackend;
  let sim: SuperOfficeSimulator;
  let connector: Connector;
  let clock: ManualClock;
  /** The list queries the reconciler sent, to check where a run starts. */
  let queries: ListQuery[];
  /** Page size of the reconciler's list calls (the connector's default when absent). */
  let pageSize: number | undefined;
  beforeEach(async () => {
    clock = new ManualClock(NOW);
    test = openTestBackend({ clock });
    sim = await startSuperOfficeSimulator({ port: 0, clock, seed: false });
    connector = superofficeConnector.create({
      connection: 'so',
      options: superofficeConnector.optionsSchema.parse(simulatorConnectionOptions(sim)),
      clock,
      logger: pinoSilent,
      apiCalls: recorder(),
      state: test.backend.store.connectorState,
    });
    queries = [];
    pageSize = undefined;
  });
  afterEach(async () => {
    await connector.close();
    await sim.close();
    await test.close();
  });

  /** Creates a company now (simulator time) and returns its id and version. */
  async function company(name: string): Promise<{ id: string; version: string | null }> {
    return connector.write({ entityType: 'Contact', fields: { Name: name } });
  }

  /** Runs the reconciler once; returns how many jobs it says it queued. */
  async function run(settings: Partial<ReconcileSettings> = {}): Promise<number> {
    const task = createEnrichReconciler({
      flow: 'enrich',
      // The real connector; its list queries are noted, and the page size set where a test asks.
      connector: {
        connection: connector.connection,
        capabilities: connector.capabilities,
        list: (query, options) => {
          queries.push(query);
          return connector.list({ ...query, ...(pageSize !== undefined && { limit: pageSize }) }, options);
        },
      },
      queue: test.backend.queue,
      checkpoints: test.backend.store.checkpoints,
      ledger: test.backend.store.ledger,
      clock,
      settings: { entityTypes: ['Contact'], lookbackMinutes: 60, maxPerRun: 1_000, ...settings },
    });
    let queued = -1;
    const logger: Logger = {
      ...silentLogger,
      info: (fields: unknown) => {
        queued = (fields as { queued: number }).queued;
      },
    };
    await task({
      name: 'reconcile:enrich',
      tickAt: clock.now(),
      signal: new AbortController().signal,
      logger,
    });
    return queued;
  }

  async function queuedIds(): Promise<string[]> {
    const jobs = await test.backend.queue.list({ limit: 100 });
    return jobs.map((job) => job.recordKey.split('/').at(-1)!).sort((a, b) => Number(a) - Number(b));
  }

  it('queues records modified within the lookback as contact.changed events, once per version', async () => {
    clock.set(NOW - 90 * 60_000);
    await company('Old');
    clock.set(NOW - 30 * 60_000);
    const recent = await company('Recent');
    clock.set(NOW - 5 * 60_000);
    const newest = await company('Newest');
    clock.set(NOW);
    assert.equal(await run(), 2);
    assert.equal(queries[0]!.modifiedSince, new Date(NOW - 60 * 60_000 - 1_000).toISOString());
    assert.deepEqual(await queuedIds(), [recent.id, newest.id]);
    const [job] = await test.backend.queue.list({ limit: 1 });
    const event = job!.payloads[0] as { vendorEvent: string; kind: string; changedFields?: unknown };
    assert.equal(event.vendorEvent, 'contact.changed');
    assert.equal(event.kind, 'updated');
    assert.equal(event.changedFields, undefined, 'no column list: every watched column may have changed');

    // The next run starts one second (the vendor's granularity) before the newest version seen.
    assert.equal(await run(), 0, 'a re-listed (record, version) is not queued again');
    assert.equal(queries.at(-1)!.modifiedSince, new Date(Date.parse(newest.version!) - 1_000).toISOString());
    assert.deepEqual(await queuedIds(), [recent.id, newest.id]);
  });

  it('queues a record saved in the same second as the checkpoint', async () => {
    const first = await company('First');
    assert.equal(await run(), 1);
    clock.advance(400); // same whole second: the simulator stores the same UpdatedDate
    const second = await company('Second');
    assert.equal(second.version, first.version, 'both saved in the same second');
    assert.equal(await run(), 1, 'only the record not seen before is queued');
    assert.deepEqual(await queuedIds(), [first.id, second.id]);
  });

  it('re-listing already seen (record, version) pairs does not count against maxPerRun', async () => {
    const seen = [await company('A'), await company('B'), await company('C')];
    assert.equal(await run({ maxPerRun: 3 }), 3);
    const late = await company('Late');
    assert.equal(await run({ maxPerRun: 1 }), 1, 'the three seen pairs are listed again, free of charge');
    assert.deepEqual(await queuedIds(), [...seen.map((record) => record.id), late.id]);
  });

  it('resumes from a checkpoint of the reconciler before scan windows (a bare ISO time)', async () => {
    const atCheckpoint = await company('At the old checkpoint');
    await test.backend.store.checkpoints.set('reconcile|enrich|Contact', atCheckpoint.version);
    assert.equal(await run(), 1, 'the record of the checkpoint second is listed again and queued once');
    assert.equal(
      queries[0]!.modifiedSince,
      new Date(Date.parse(atCheckpoint.version!) - 1_000).toISOString(),
    );
    assert.equal(await run(), 0);
  });

  it('a new version of a seen record is queued again', async () => {
    const record = await company('Changing');
    assert.equal(await run(), 1);
    clock.advance(1_000);
    const updated = await connector.write({
      entityType: 'Contact',
      id: record.id,
      fields: { Department: 'x' },
    });
    assert.notEqual(updated.version, record.version);
    assert.equal(await run(), 1);
  });

  it("does not queue a record whose current version is the flow's own write (write ledger)", async () => {
    const own = await company('Own');
    await test.backend.store.ledger.record([
      {
        ref: { connection: 'so', entityType: 'Contact', id: own.id },
        field: 'SuperOffice:84',
        valueHash: 'h',
        version: own.version,
        runId: '1',
        writtenAt: clock.now() + 20,
      },
    ]);
    clock.advance(1_000);
    const other = await company('Other');
    assert.equal(await run(), 1);
    assert.deepEqual(await queuedIds(), [other.id]);
  });

  it('checkpoints every page and stops at maxPerRun; the next run goes on from there', async () => {
    const records = [];
    for (let index = 0; index < 7; index++) {
      records.push(await company(`Firma ${index}`));
      clock.advance(1_000);
    }
    pageSize = 2;
    assert.equal(await run({ maxPerRun: 3 }), 3);
    assert.deepEqual(
      await queuedIds(),
      records.slice(0, 3).map((record) => record.id),
    );
    const checkpoint = (await test.backend.store.checkpoints.get('reconcile|enrich|Contact'))?.value as {
      at: string;
    };
    assert.equal(checkpoint.at, records[2]!.version, 'the newest version queued: nothing unseen is skipped');
    assert.equal(await run({ maxPerRun: 3 }), 3);
    assert.deepEqual(
      await queuedIds(),
      records.slice(0, 6).map((record) => record.id),
    );
  });
});
