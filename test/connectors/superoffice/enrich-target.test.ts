/**
 * The SuperOffice side of the enrich flow (src/connectors/superoffice/enrich-target.ts) against the simulator:
 * every call takes the run's abort signal, and the vertical list, fetched once for all runs, is not stopped by
 * one run's signal.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SuperOfficeEnrichTarget } from '../../../src/connectors/superoffice/enrich-target.ts';
import { superofficeConnector } from '../../../src/connectors/superoffice/index.ts';
import type { SuperOfficeConnector } from '../../../src/connectors/superoffice/index.ts';
import { systemClock } from '../../../src/ports/clock.ts';
import {
  simulatorConnectionOptions,
  startSuperOfficeSimulator,
} from '../../../src/simulators/superoffice/index.ts';
import type { SuperOfficeSimulator } from '../../../src/simulators/superoffice/index.ts';
import { memoryConnectorState } from '../../support/memory-store.ts';
import { simAdmin } from '../../support/sim-admin.ts';
import { recorder, silentLogger } from './support.ts';

const LIST_ROUTE = 'GET List/:name/Items';

describe('superoffice enrich target: abort signals', () => {
  let sim: SuperOfficeSimulator;
  let connector: SuperOfficeConnector;
  const apiCalls = recorder();
  const target = () =>
    new SuperOfficeEnrichTarget(
      connector,
      {
        fields: {
          vertical: 'SuperOffice:83',
          summary: 'SuperOffice:84',
          companyOpener: 'SuperOffice:85',
          personOpener: 'SuperOffice:91',
        },
        verticalList: 'Vertical',
        verticalIds: {},
        verticalCacheMs: 60_000,
      },
      systemClock,
    );

  before(async () => {
    sim = await startSuperOfficeSimulator();
    connector = superofficeConnector.create({
      connection: 'so',
      options: superofficeConnector.optionsSchema.parse(simulatorConnectionOptions(sim)),
      clock: systemClock,
      logger: silentLogger,
      apiCalls,
      state: memoryConnectorState(),
    }) as SuperOfficeConnector;
  });
  after(async () => {
    await connector?.close();
    await sim?.close();
  });

  it('an aborted signal stops every call at once, before any request', async () => {
    const subject = await target().load(
      { connection: 'so', entityType: 'Contact', id: '1' },
      { includeSaleHeadings: false },
    );
    assert.ok(subject);
    const before = apiCalls.calls.length;
    const reason = new Error('lease lost');
    const signal = AbortSignal.abort(reason);
    const fresh = target();
    const isReason = (error: unknown) => error === reason;
    await assert.rejects(fresh.apiActorId({ signal }), isReason);
    await assert.rejects(fresh.load(subject.ref, { includeSaleHeadings: true, signal }), isReason);
    await assert.rejects(fresh.verticals({ signal }), isReason);
    await assert.rejects(fresh.write(subject, { summary: 'never written' }, { signal }), isReason);
    assert.deepEqual(apiCalls.calls.slice(before), [], 'no vendor call was made');
  });

  it("one run's signal stops its own wait for the shared vertical list, not the list request", async () => {
    const shared = target();
    await simAdmin(sim, 'POST', 'faults', { latencyMs: 200 });
    try {
      const listCalls = () => apiCalls.calls.filter((call) => call.route === LIST_ROUTE).length;
      const listedBefore = listCalls();
      const controller = new AbortController();
      let settled = false;
      const other = shared.verticals().finally(() => (settled = true));
      const stopping = shared.verticals({ signal: controller.signal });
      const reason = new Error('worker stopping');
      controller.abort(reason);
      await assert.rejects(stopping, (error) => error === reason);
      assert.equal(settled, false, 'the other run still waits for the list');
      assert.equal((await other).get('Logistics'), 1619);
      assert.equal(listCalls() - listedBefore, 1, 'one list request for both runs');
    } finally {
      await simAdmin(sim, 'DELETE', 'faults');
    }
  });
});
