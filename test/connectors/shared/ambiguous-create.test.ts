/**
 * Creates that are never doubled (issue 9 item 8), against each of the three simulators over HTTP: the
 * simulator applies a create but drops its answer (`dropAnswer`), or fails it with a 5xx, and afterwards
 * exactly one record exists, also when the write is called a second time as a job retry would. Records are
 * counted by listing them through the connector port; the simulators' request counts show how often the
 * create reached the vendor. Connector state lives in the real store (SQLite in memory).
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { openSqliteBackend } from '../../../src/adapters/sqlite/index.ts';
import { advowareConnector } from '../../../src/connectors/advoware/index.ts';
import type { AdvowareConnector } from '../../../src/connectors/advoware/index.ts';
import { espocrmConnector } from '../../../src/connectors/espocrm/index.ts';
import { VendorWriteAmbiguousError } from '../../../src/connectors/shared/api-error.ts';
import { fieldsMatch } from '../../../src/connectors/shared/create-once.ts';
import { superofficeConnector } from '../../../src/connectors/superoffice/index.ts';
import { CrmsyncError } from '../../../src/core/errors.ts';
import type { JsonObject } from '../../../src/core/types.ts';
import { systemClock } from '../../../src/ports/clock.ts';
import type { Connector, ConnectorContext, VendorRecord } from '../../../src/ports/connector.ts';
import { startAdvowareSimulator } from '../../../src/simulators/advoware/index.ts';
import { startEspoCrmSimulator } from '../../../src/simulators/espocrm/index.ts';
import {
  simulatorConnectionOptions,
  startSuperOfficeSimulator,
} from '../../../src/simulators/superoffice/index.ts';
import { countOf, simAdmin, simRequestCounts } from '../../support/sim-admin.ts';
import type { SimTarget } from '../../support/sim-admin.ts';
import { recorder, silentLogger } from '../superoffice/support.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/**
 * The context of a connector of `connection` with the given options, its state in a fresh real store (a
 * cached token or tenant URL must not outlive the simulator it came from).
 */
function context<Options>(connection: string, options: Options): ConnectorContext<Options> {
  const backend = openSqliteBackend({ path: ':memory:', durability: 'process' });
  cleanups.push(() => backend.close());
  return {
    connection,
    options,
    clock: systemClock,
    logger: silentLogger,
    apiCalls: recorder(),
    state: backend.store.connectorState,
  };
}

/** One vendor: its simulator and connector, and a create that can be matched. */
interface VendorCase {
  readonly vendor: string;
  start(): Promise<{ sim: SimTarget; connector: Connector }>;
  readonly entityType: string;
  readonly fields: JsonObject;
  /** What identifies the record, in the names the vendor can search by. */
  readonly match: JsonObject;
  /** The create's route template, as the simulator names it in faults and counts. */
  readonly createRoute: string;
  /** The update's route template. */
  readonly updateRoute: string;
}

const vendors: readonly VendorCase[] = [
  {
    vendor: 'superoffice',
    start: async () => {
      const sim = await startSuperOfficeSimulator({ port: 0, seed: false });
      cleanups.push(() => sim.close());
      const options = superofficeConnector.optionsSchema.parse({
        ...simulatorConnectionOptions(sim),
        requestsPerSecond: 1_000,
      });
      const connector = superofficeConnector.create(context('so', options));
      cleanups.push(() => connector.close());
      return { sim, connector };
    },
    entityType: 'Contact',
    fields: { Name: 'Einmal AG', OrgNr: 'EXT-4711' },
    match: { orgNr: 'EXT-4711' },
    createRoute: 'POST /{ctx}/api/v1/Contact',
    updateRoute: 'PATCH /{ctx}/api/v1/Contact/:id',
  },
  {
    vendor: 'espocrm',
    start: async () => {
      const sim = await startEspoCrmSimulator({ port: 0, seed: false, logger: silentLogger });
      cleanups.push(() => sim.close());
      const options = espocrmConnector.optionsSchema.parse({
        baseUrl: sim.url,
        auth: { mode: 'apiKey', apiKey: sim.credentials.apiKey },
        requestsPerSecond: 1_000,
      });
      const connector = espocrmConnector.create(context('espo', options));
      cleanups.push(() => connector.close());
      return { sim, connector };
    },
    entityType: 'Account',
    fields: { name: 'Einmal GmbH', sicCode: 'EXT-4711' },
    match: { sicCode: 'EXT-4711' },
    createRoute: 'POST /api/v1/Account',
    updateRoute: 'PATCH /api/v1/Account/:id',
  },
  {
    vendor: 'advoware',
    start: async () => {
      const sim = await startAdvowareSimulator({ port: 0, seed: false });
      cleanups.push(() => sim.close());
      const options = advowareConnector.optionsSchema.parse({
        configuratorUrl: sim.configuratorUrl,
        ...sim.credentials,
        requestsPerSecond: 1_000,
      });
      const connector = advowareConnector.create(context('advo', options));
      cleanups.push(() => connector.close());
      return { sim, connector };
    },
    entityType: 'Beteiligte',
    fields: { name: 'Einmal KG', email: 'kanzlei@einmal.example' },
    match: { email: 'kanzlei@einmal.example' },
    createRoute: 'POST /connector/api/v1/advonet/Beteiligte',
    updateRoute: 'PUT /connector/api/v1/advonet/Beteiligte/:betnr',
  },
];

/** Every record of the entity type that matches, listed page by page through the port. */
async function matching(
  connector: Connector,
  entityType: string,
  match: JsonObject,
): Promise<VendorRecord[]> {
  const found: VendorRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await connector.list({ entityType, ...(cursor !== undefined && { cursor }) });
    found.push(...page.records.filter((record) => fieldsMatch(record.fields, match)));
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return found;
}

/** The name field of a create's fields (`Name` or `name`). */
function nameField(fields: JsonObject): string {
  return Object.keys(fields).find((key) => key.toLowerCase() === 'name') ?? 'name';
}

/** Asserts that `promise` rejects with VENDOR_WRITE_AMBIGUOUS. */
async function rejectsAmbiguous(promise: Promise<unknown>): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof VendorWriteAmbiguousError, String(error));
    assert.equal(error.code, 'VENDOR_WRITE_AMBIGUOUS');
    assert.equal(error.retryable, true);
    return true;
  });
}

for (const vendor of vendors) {
  describe(`${vendor.vendor}: an ambiguous create is not repeated`, () => {
    const { entityType, fields, match, createRoute, updateRoute } = vendor;

    it('finds the record of a create whose answer was dropped; a second write finds it too: one record', async () => {
      const { sim, connector } = await vendor.start();
      await simAdmin(sim, 'POST', 'faults', { dropAnswer: { routes: [createRoute], times: 1 } });
      const first = await connector.write({ entityType, fields, match });
      assert.equal(first.record?.id, first.id, 'the record as the vendor stored it comes back');
      const second = await connector.write({ entityType, fields, match });
      assert.equal(second.id, first.id);
      const records = await matching(connector, entityType, match);
      assert.deepEqual(
        records.map((record) => record.id),
        [first.id],
      );
      const counts = await simRequestCounts(sim);
      assert.deepEqual(counts[createRoute], { '0': 1 }, 'one create reached the vendor');
      assert.equal(countOf(counts, updateRoute), 0, 'the record holds the values already: nothing written');
    });

    it('with a match that finds the record with other values, a create updates it instead', async () => {
      const { sim, connector } = await vendor.start();
      const existing = await connector.write({ entityType, fields });
      const renamed = { ...fields, [nameField(fields)]: 'Umbenannt' };
      const upserted = await connector.write({ entityType, fields: renamed, match });
      assert.equal(upserted.id, existing.id);
      assert.equal(upserted.record?.fields[nameField(fields)], 'Umbenannt');
      const counts = await simRequestCounts(sim);
      assert.equal(countOf(counts, createRoute), 1);
      assert.equal(countOf(counts, updateRoute), 1);
      assert.equal((await matching(connector, entityType, match)).length, 1);
    });

    it('without a match, a dropped answer is VENDOR_WRITE_AMBIGUOUS and the create is not sent again', async () => {
      const { sim, connector } = await vendor.start();
      await simAdmin(sim, 'POST', 'faults', { dropAnswer: { routes: [createRoute], times: 1 } });
      await rejectsAmbiguous(connector.write({ entityType, fields }));
      assert.equal(countOf(await simRequestCounts(sim), createRoute), 1);
      assert.equal((await matching(connector, entityType, match)).length, 1);
    });

    it('a 5xx on the create is ambiguous; the retry looks first and creates only then: one record', async () => {
      const { sim, connector } = await vendor.start();
      await simAdmin(sim, 'POST', 'faults', { status5xx: { routes: [createRoute], times: 1, status: 503 } });
      await rejectsAmbiguous(connector.write({ entityType, fields, match }));
      const retried = await connector.write({ entityType, fields, match });
      assert.deepEqual(
        (await matching(connector, entityType, match)).map((record) => record.id),
        [retried.id],
      );
      const counts = await simRequestCounts(sim);
      assert.equal(countOf(counts, createRoute, 503), 1);
      assert.equal(countOf(counts, createRoute), 2, 'the 503 and the one create after the lookup');
    });

    it('refuses a match that more than one record satisfies, creating nothing', async () => {
      const { sim, connector } = await vendor.start();
      // Different names, so that no vendor's own duplicate check refuses the second one.
      for (const name of ['Zwilling Eins', 'Zwilling Zwei']) {
        await connector.write({ entityType, fields: { ...fields, [nameField(fields)]: name } });
      }
      await assert.rejects(connector.write({ entityType, fields, match }), (error: unknown) => {
        assert.ok(error instanceof CrmsyncError && error.code === 'WRITE_MATCH_NOT_UNIQUE', String(error));
        return true;
      });
      assert.equal(countOf(await simRequestCounts(sim), createRoute), 2);
    });
  });
}

describe('advoware: the POST and its read-back are separate steps', () => {
  it('a read-back that fails after the POST returns the new id without a version and posts once', async () => {
    const advoware = vendors.find((vendor) => vendor.vendor === 'advoware');
    assert.ok(advoware !== undefined);
    const { sim, connector } = await advoware.start();
    const readRoute = 'GET /connector/api/v1/advonet/Beteiligte/:betnr';
    await simAdmin(sim, 'POST', 'faults', { status5xx: { routes: [readRoute], status: 503 } });
    const created = await connector.write({ entityType: advoware.entityType, fields: advoware.fields });
    assert.equal(created.version, null);
    assert.equal(created.record, undefined);
    assert.equal(countOf(await simRequestCounts(sim), advoware.createRoute), 1);
    await simAdmin(sim, 'DELETE', 'faults');
    const stored = await connector.read(advoware.entityType, created.id);
    assert.equal(stored?.fields['name'], 'Einmal KG');
  });

  it("so are a Kommunikation's: a failed read-back returns what was sent with the new id, posted once", async () => {
    const advoware = vendors.find((vendor) => vendor.vendor === 'advoware');
    assert.ok(advoware !== undefined);
    const { sim, connector } = await advoware.start();
    const { api } = connector as AdvowareConnector;
    const { id: betNr } = await connector.write({ entityType: advoware.entityType, fields: advoware.fields });
    const base = 'GET /connector/api/v1/advonet/Beteiligte/:betnr';
    await simAdmin(sim, 'POST', 'faults', { status5xx: { routes: [base, `${base}/Kommunikationen`] } });
    const created = await api.createKommunikation(betNr, { tlf: '0221 4711', kommKz: 1 });
    assert.ok(created.readBackError instanceof Error);
    assert.equal(created.kommunikation.tlf, '0221 4711');
    const postRoute = 'POST /connector/api/v1/advonet/Beteiligte/:betnr/Kommunikationen';
    assert.equal(countOf(await simRequestCounts(sim), postRoute), 1);
    await simAdmin(sim, 'DELETE', 'faults');
    const items = await api.listKommunikationen(betNr);
    assert.deepEqual(
      items.map((item) => item.id),
      [created.kommunikation.id],
    );
  });
});
