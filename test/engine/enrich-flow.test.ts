/**
 * The enrich flow's handler stops with its run: the run's signal reaches the enricher and every call of the
 * SuperOffice target. Real pieces throughout: the SQLite store (in memory) and its queue, the SuperOffice
 * simulator behind the real connector, the http enricher against the fake enrichment server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SuperOfficeEnrichTarget } from '../../src/connectors/superoffice/enrich-target.ts';
import { superofficeConnector } from '../../src/connectors/superoffice/index.ts';
import type { SuperOfficeConnector } from '../../src/connectors/superoffice/index.ts';
import type { JsonValue } from '../../src/core/types.ts';
import { createEnrichHandler, enrichOptionsSchema } from '../../src/engine/flows/enrich/index.ts';
import type { FlowHandler, RunContext } from '../../src/engine/handlers.ts';
import { createEnricher } from '../../src/enrichment/index.ts';
import type { Backend } from '../../src/ports/backend.ts';
import { systemClock } from '../../src/ports/clock.ts';
import type { Enricher } from '../../src/ports/enricher.ts';
import type { LeasedJob } from '../../src/ports/queue.ts';
import {
  simulatorConnectionOptions,
  startSuperOfficeSimulator,
} from '../../src/simulators/superoffice/index.ts';
import type { SuperOfficeSimulator } from '../../src/simulators/superoffice/index.ts';
import { recorder } from '../connectors/superoffice/support.ts';
import { startFakeServer } from '../enrichment/fake-server.ts';
import type { FakeServer } from '../enrichment/fake-server.ts';
import { eventually } from '../support/eventually.ts';
import { memoryBackend } from '../support/memory-store.ts';
import { silentLogger } from './support.ts';

const FLOW = 'enrich';

describe('enrich flow: the run signal', () => {
  let sim: SuperOfficeSimulator;
  let enrichmentServer: FakeServer;
  let backend: Backend;
  let connector: SuperOfficeConnector;
  let enricher: Enricher;
  let handler: FlowHandler;
  const apiCalls = recorder();
  let jobs = 0;

  before(async () => {
    sim = await startSuperOfficeSimulator();
    enrichmentServer = await startFakeServer('hang');
    backend = memoryBackend();
    connector = superofficeConnector.create({
      connection: 'so',
      options: superofficeConnector.optionsSchema.parse(simulatorConnectionOptions(sim)),
      clock: systemClock,
      logger: silentLogger,
      apiCalls,
      state: backend.store.connectorState,
    }) as SuperOfficeConnector;
    // The API user is configured, so that no discovery runs in the background of the tests.
    const options = enrichOptionsSchema.parse({
      apiAssociateId: 528,
      enricher: {
        provider: 'http',
        url: `${enrichmentServer.origin}/enrich`,
        timeoutMs: 60_000,
        maxRetries: 0,
      },
    });
    enricher = createEnricher(options.enricher, { logger: silentLogger });
    const target = new SuperOfficeEnrichTarget(
      connector,
      {
        fields: options.fields,
        verticalList: options.verticalList,
        verticalIds: options.verticalIds,
        verticalCacheMs: 60_000,
        apiAssociateId: options.apiAssociateId,
      },
      systemClock,
    );
    handler = createEnrichHandler({
      flow: FLOW,
      options,
      target,
      enricher,
      store: backend.store,
      locks: backend.locks,
      clock: systemClock,
      logger: silentLogger,
    });
  });
  after(async () => {
    await enricher?.close();
    await connector?.close();
    await enrichmentServer?.close();
    await sim?.close();
    await backend?.close();
  });

  /** A leased job for a relevant change of Contact 1 by RKAB, from the real queue. */
  async function leasedJob(): Promise<LeasedJob> {
    const event: JsonValue = {
      ref: { connection: 'so', entityType: 'Contact', id: '1' },
      kind: 'updated',
      vendorEvent: 'contact.changed',
      changedFields: ['contact_id', 'name'],
      actorId: '485',
    };
    await backend.queue.enqueue({ flow: FLOW, recordKey: `${FLOW}|so/Contact/1`, payload: event });
    const job = await backend.queue.dequeue({ workerId: 'test', leaseMs: 60_000 });
    assert.ok(job);
    return job;
  }

  function runContext(signal: AbortSignal): RunContext {
    return {
      runId: `run-${++jobs}`,
      attempt: 1,
      signal,
      clock: systemClock,
      logger: silentLogger,
      setNames: () => Promise.resolve(),
      recordIntent: () => Promise.resolve(),
      afterOutcome: () => {},
      countApiCall: () => {},
    };
  }

  it('a run whose signal is already aborted makes no vendor call and asks no enricher', async () => {
    const job = await leasedJob();
    try {
      const calls = apiCalls.calls.length;
      const reason = new Error('lease lost');
      await assert.rejects(handler(job, runContext(AbortSignal.abort(reason))), (error) => error === reason);
      assert.deepEqual(apiCalls.calls.slice(calls), []);
      assert.equal(enrichmentServer.requests.length, 0);
    } finally {
      await backend.queue.release(job.id, job.leaseToken);
    }
  });

  it('aborting the run while the enricher has not answered stops it at once', async () => {
    const job = await leasedJob();
    try {
      const controller = new AbortController();
      const run = handler(job, runContext(controller.signal));
      await eventually(() => enrichmentServer.requests.length === 1);
      const reason = new Error('worker stopping');
      controller.abort(reason);
      await assert.rejects(run, (error) => error === reason);
    } finally {
      await backend.queue.release(job.id, job.leaseToken);
    }
  });
});
