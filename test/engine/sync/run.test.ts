/**
 * One sync run of the Beteiligte flow (EspoCRM `CBeteiligte` = side a, Advoware `Beteiligte` = side b) as a
 * handler of a real WorkerPool and HandlerRegistry, against both simulators through their real connectors and
 * a real SQLite backend: changes flow both ways, concurrent edits of different fields both survive, a
 * same-field conflict follows the policy, an unchanged link costs reads only, and a first sync (also with a
 * lost create answer) makes exactly one partner record and links it, and the EspoCRM webhook of the run's own
 * write is an echo that costs no API call.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { valueHash } from '../../../src/core/canonical.ts';
import { jobRecordKey } from '../../../src/core/types.ts';
import type { ChangeEvent, JsonObject, RecordRef } from '../../../src/core/types.ts';
import { parseEspoCrmWebhook } from '../../../src/connectors/espocrm/webhook.ts';
import type { WorkerPool } from '../../../src/engine/worker-pool.ts';
import { beteiligteFlowDefaults, syncOptionsSchema } from '../../../src/engine/flows/sync/index.ts';
import type { SyncOptionsInput } from '../../../src/engine/flows/sync/index.ts';
import { syncLockKey } from '../../../src/engine/flows/sync/run.ts';
import type { Job } from '../../../src/ports/queue.ts';
import type { Link, Run } from '../../../src/ports/store.ts';
import type { AdvowareSimulator } from '../../../src/simulators/advoware/index.ts';
import type { DeliveryRecord, EspoCrmSimulator } from '../../../src/simulators/espocrm/index.ts';
import { admin, api, body } from '../../connectors/espocrm/simulator-support.ts';
import { eventually } from '../../support/eventually.ts';
import { countOf, simAdmin, simRequestCounts } from '../../support/sim-admin.ts';
import type { RouteCounts } from '../../support/sim-admin.ts';
import { FLOW, advowareFixture, espocrmFixture, settleSync, startSyncPool } from './support.ts';
import type { ScanFixture } from './support.ts';

const ESPO = 'CBeteiligte';
const ADVO = 'Beteiligte';

describe('one sync run (EspoCRM and Advoware simulators, worker pool)', () => {
  let espo: ScanFixture & { readonly sim: EspoCrmSimulator };
  let advo: ScanFixture & { readonly sim: AdvowareSimulator };
  let pool: WorkerPool;

  beforeEach(async () => {
    espo = await espocrmFixture();
    advo = await advowareFixture();
    pool = startPool({});
  });

  /** A worker pool running the Beteiligte flow's sync handler, with `overrides` of its default options. */
  function startPool(overrides: Partial<SyncOptionsInput>): WorkerPool {
    const options = syncOptionsSchema.parse({
      ...beteiligteFlowDefaults({ espocrm: 'espo', advoware: 'advo' }),
      ...overrides,
    });
    return startSyncPool({
      options,
      connectors: { a: espo.connector, b: advo.connector },
      backend: espo.test.backend,
      clock: espo.clock,
      // A run gives up on a held link lock after two polls here (the test holds it on purpose).
      lockWaitMs: 50,
    });
  }

  afterEach(async () => {
    await pool.stop({ deadlineMs: 0 });
    await advo.close();
    await espo.close();
  });

  const espoRef = (id: string): RecordRef => ({ connection: 'espo', entityType: ESPO, id });
  const advoRef = (id: string): RecordRef => ({ connection: 'advo', entityType: ADVO, id });

  /** Queues a change event for `ref` and waits until its job settled; returns the job's last run. */
  function sync(ref: RecordRef, event?: ChangeEvent): Promise<Run> {
    return settleSync(espo.test.backend, espo.clock, ref, event);
  }

  async function espoRecord(id: string): Promise<JsonObject> {
    return ((await espo.connector.read(ESPO, id)) ?? assert.fail(`no CBeteiligte ${id}`)).fields;
  }

  async function advoRecord(id: string): Promise<JsonObject> {
    return ((await advo.connector.read(ADVO, id)) ?? assert.fail(`no Beteiligter ${id}`)).fields;
  }

  async function advoIds(): Promise<string[]> {
    const page = await advo.connector.list({ entityType: ADVO, limit: 100 });
    return page.records.map((record) => record.id);
  }

  async function linkOf(ref: RecordRef): Promise<Link> {
    return (await espo.test.backend.store.links.findByRef(FLOW, ref)) ?? assert.fail('no link');
  }

  /** A person in EspoCRM, synced once to Advoware; returns both ids. */
  async function linkedPerson(firstName: string, lastName: string): Promise<{ espo: string; advo: string }> {
    const created = await espo.connector.write({
      entityType: ESPO,
      fields: { firstName, lastName, name: `${firstName} ${lastName}` },
    });
    const run = await sync(espoRef(created.id));
    assert.equal(run.outcome, 'COMPLETED', JSON.stringify(run.error));
    const link = await linkOf(espoRef(created.id));
    return { espo: created.id, advo: link.b.ref.id };
  }

  function total(counts: RouteCounts): number {
    return Object.values(counts)
      .flatMap((byStatus) => Object.values(byStatus))
      .reduce((sum, count) => sum + count, 0);
  }

  function writes(counts: RouteCounts): string[] {
    return Object.keys(counts).filter((route) => /^(POST|PUT|PATCH|DELETE) /.test(route));
  }

  it('a first sync of an unlinked CBeteiligter creates exactly one Beteiligter, links them and stores its id', async () => {
    const ids = await linkedPerson('Max', 'Muster');
    assert.deepEqual(await advoIds(), [ids.advo]);
    const advoFields = await advoRecord(ids.advo);
    assert.equal(advoFields['vorname'], 'Max');
    assert.equal(advoFields['name'], 'Muster');
    assert.equal((await espoRecord(ids.espo))['advowareId'], Number(ids.advo));
    const link = await linkOf(advoRef(ids.advo));
    assert.equal(link.a.ref.id, ids.espo);
    assert.deepEqual(link.b.base, { firstName: 'Max', lastName: 'Muster', companyName: null });
  });

  it('a first sync of an unlinked Beteiligter creates one CBeteiligter carrying its advowareId and its status', async () => {
    const created = await advo.connector.write({ entityType: ADVO, fields: { name: 'Muster GmbH' } });
    const run = await sync(advoRef(created.id));
    assert.equal(run.outcome, 'COMPLETED', JSON.stringify(run.error));
    const page = await espo.connector.list({ entityType: ESPO, limit: 100 });
    assert.equal(page.records.length, 1);
    const espoFields = page.records[0]?.fields ?? {};
    assert.deepEqual(
      [espoFields['firmenname'], espoFields['name'], espoFields['advowareId']],
      ['Muster GmbH', 'Muster GmbH', Number(created.id)],
    );
    assert.equal((await linkOf(advoRef(created.id))).a.ref.id, page.records[0]?.id);
    assert.deepEqual(
      [espoFields['syncStatus'], espoFields['advowareRowId'], espoFields['syncRetryCount']],
      ['clean', created.version, 0],
      'the new CBeteiligter shows its status from the start',
    );
  });

  it('a CBeteiligter the seed system linked (advowareId) is linked to its Beteiligter, not duplicated', async () => {
    const advoCreated = await advo.connector.write({
      entityType: ADVO,
      fields: { vorname: 'Max', name: 'Muster' },
    });
    const espoCreated = await espo.connector.write({
      entityType: ESPO,
      fields: {
        firstName: 'Max',
        lastName: 'Mustermann',
        name: 'Max Mustermann',
        advowareId: advoCreated.id,
      },
    });
    const run = await sync(espoRef(espoCreated.id));
    assert.equal(run.outcome, 'COMPLETED', JSON.stringify(run.error));
    assert.deepEqual(await advoIds(), [advoCreated.id]);
    assert.equal((await linkOf(espoRef(espoCreated.id))).b.ref.id, advoCreated.id);
    // No base yet: the differing lastName is a conflict, which EspoCRM (side a) wins.
    assert.equal((await advoRecord(advoCreated.id))['name'], 'Mustermann');
  });

  it('a seed-linked pair synced first from the Advoware side is merged (EspoCRM wins), not overwritten', async () => {
    const advoCreated = await advo.connector.write({
      entityType: ADVO,
      fields: { vorname: 'Max', name: 'Muster' },
    });
    const espoCreated = await espo.connector.write({
      entityType: ESPO,
      fields: {
        firstName: 'Max',
        lastName: 'Mustermann',
        name: 'Max Mustermann',
        advowareId: advoCreated.id,
      },
    });
    const run = await sync(advoRef(advoCreated.id));
    assert.equal(run.outcome, 'COMPLETED', JSON.stringify(run.error));
    assert.equal((await linkOf(advoRef(advoCreated.id))).a.ref.id, espoCreated.id);
    assert.equal((await espoRecord(espoCreated.id))['lastName'], 'Mustermann', 'EspoCRM kept its value');
    assert.equal((await advoRecord(advoCreated.id))['name'], 'Mustermann');
    const espoIds = await espo.connector.list({ entityType: ESPO, limit: 100 });
    assert.equal(espoIds.records.length, 1, 'no second CBeteiligter');
  });

  it('match keys link a first sync to the one unlinked record with the same values, never to a linked one', async () => {
    await pool.stop({ deadlineMs: 0 });
    pool = startPool({
      match: { foreignKey: { side: 'a', field: 'advowareId' }, keys: [['firstName', 'lastName']] },
    });
    const existing = await advo.connector.write({
      entityType: ADVO,
      fields: { vorname: 'Max', name: 'Muster' },
    });
    const fields = { firstName: 'Max', lastName: 'Muster', name: 'Max Muster' };
    const first = await espo.connector.write({ entityType: ESPO, fields });
    assert.equal((await sync(espoRef(first.id))).outcome, 'COMPLETED');
    assert.equal((await linkOf(espoRef(first.id))).b.ref.id, existing.id);
    assert.deepEqual(await advoIds(), [existing.id], 'linked, not created');
    const namesake = await espo.connector.write({ entityType: ESPO, fields });
    assert.equal((await sync(espoRef(namesake.id))).outcome, 'COMPLETED');
    const partner = (await linkOf(espoRef(namesake.id))).b.ref.id;
    assert.notEqual(partner, existing.id, 'a record linked already is not linked twice');
    assert.equal((await advoIds()).length, 2);
  });

  it('namesakes stay apart: a second EspoCRM person with the same name gets a Beteiligter of its own', async () => {
    const first = await linkedPerson('Max', 'Muster');
    const second = await linkedPerson('Max', 'Muster');
    assert.notEqual(second.advo, first.advo);
    assert.equal((await advoIds()).length, 2);
  });

  it('a first sync that fails after creating the partner links it: the retry makes no second Beteiligter', async () => {
    const { jobId } = await (async () => {
      const created = await espo.connector.write({
        entityType: ESPO,
        fields: { firstName: 'Eva', lastName: 'Erst', name: 'Eva Erst' },
      });
      // Every EspoCRM PATCH fails (until the faults are cleared), after the Beteiligter exists: the write of
      // advowareId and the status fields fails the first attempt.
      await simAdmin(espo.sim, 'POST', 'faults', {
        status5xx: { status: 500, routes: [`PATCH /api/v1/${ESPO}/:id`] },
      });
      const ref = espoRef(created.id);
      const queued = await espo.test.backend.queue.enqueue({
        flow: FLOW,
        recordKey: jobRecordKey(FLOW, ref),
        payload: { ref: { ...ref }, kind: 'updated' },
      });
      return { ...queued, id: created.id, ref };
    })();
    await eventually(async () =>
      (await espo.test.backend.queue.get(jobId))?.state === 'FAILED' ? true : null,
    );
    // Before the retry a person edits the record: the values the create was made with no longer match it.
    const [unsynced] = (await espo.connector.list({ entityType: ESPO, limit: 10 })).records;
    await simAdmin(espo.sim, 'POST', 'faults', {});
    await espo.connector.write({
      entityType: ESPO,
      id: unsynced!.id,
      fields: { lastName: 'Zweit', name: 'Eva Zweit' },
    });
    const job = await eventually(async () => {
      espo.clock.advance(1_000);
      const current = (await espo.test.backend.queue.get(jobId)) as Job;
      return current.state === 'COMPLETED' ? current : null;
    });
    assert.equal(job.attempts, 2, 'the first attempt failed after the create');
    assert.equal(
      (await advoRecord((await advoIds())[0]!))['name'],
      'Zweit',
      'the edit reached the Beteiligter',
    );
    const advoware = await advoIds();
    assert.equal(advoware.length, 1, 'one Beteiligter');
    const [espoRecordId] = (await espo.connector.list({ entityType: ESPO, limit: 10 })).records.map(
      (r) => r.id,
    );
    const link = await linkOf(espoRef(espoRecordId!));
    assert.equal(link.b.ref.id, advoware[0]);
    assert.equal(
      (await espoRecord(espoRecordId!))['advowareId'],
      Number(advoware[0]),
      'the record names its partner',
    );
  });

  it('an EspoCRM change reaches Advoware, and an Advoware change reaches EspoCRM', async () => {
    const ids = await linkedPerson('Max', 'Muster');
    await espo.connector.write({ entityType: ESPO, id: ids.espo, fields: { lastName: 'Meier' } });
    const toAdvo = await sync(espoRef(ids.espo));
    assert.equal(toAdvo.outcome, 'COMPLETED');
    assert.equal((await advoRecord(ids.advo))['name'], 'Meier');
    assert.deepEqual(
      toAdvo.changes.map((change) => [change.ref.connection, change.field]),
      [
        ['advo', 'vorname'],
        ['advo', 'name'],
        ['espo', 'advowareLastSync'],
        ['espo', 'advowareRowId'],
        // The person's display name follows the last name they edited, in the status write's request.
        ['espo', 'name'],
      ],
    );
    assert.equal((await espoRecord(ids.espo))['name'], 'Max Meier');
    const rowId = (await advo.connector.read(ADVO, ids.advo))?.version;
    assert.equal(
      (await espoRecord(ids.espo))['advowareRowId'],
      rowId,
      'the status fields follow the new rowId',
    );

    await advo.connector.write({ entityType: ADVO, id: ids.advo, fields: { vorname: 'Moritz' } });
    const toEspo = await sync(advoRef(ids.advo));
    assert.equal(toEspo.outcome, 'COMPLETED');
    const espoFields = await espoRecord(ids.espo);
    assert.equal(espoFields['firstName'], 'Moritz');
    assert.equal(espoFields['lastName'], 'Meier');
    const link = await linkOf(espoRef(ids.espo));
    assert.equal(link.b.version, (await advo.connector.read(ADVO, ids.advo))?.version);
    assert.equal(link.a.version, (await espo.connector.read(ESPO, ids.espo))?.version);
  });

  it('API calls per synced change: into Advoware the fresh read for the PUT, the PUT and the rowId read-back; into EspoCRM the compare and one PATCH', async () => {
    const ids = await linkedPerson('Max', 'Muster');
    await espo.connector.write({
      entityType: ESPO,
      id: ids.espo,
      fields: { lastName: 'Meier', name: 'Max Meier' },
    });
    await clearRequestCounts();
    assert.equal((await sync(espoRef(ids.espo))).outcome, 'COMPLETED');
    const intoAdvo = { advo: await simRequestCounts(advo.sim), espo: await simRequestCounts(espo.sim) };
    // Advoware is not read by the run (assumed as linked: the PUT's rowId check proves it): the connector's
    // read right before its whole-record PUT, the PUT, the read-back of the new rowId.
    assert.equal(total(intoAdvo.advo), 3, JSON.stringify(intoAdvo.advo));
    assert.deepEqual(writes(intoAdvo.advo), ['PUT /connector/api/v1/advonet/Beteiligte/:betnr']);
    // The EspoCRM read, and the status fields (the new rowId) in one unguarded PATCH: they are crmsync's own.
    assert.equal(total(intoAdvo.espo), 2, JSON.stringify(intoAdvo.espo));

    await advo.connector.write({ entityType: ADVO, id: ids.advo, fields: { vorname: 'Moritz' } });
    await clearRequestCounts();
    assert.equal((await sync(advoRef(ids.advo))).outcome, 'COMPLETED');
    const intoEspo = { advo: await simRequestCounts(advo.sim), espo: await simRequestCounts(espo.sim) };
    // EspoCRM is not read by the run (assumed as linked): the connector's compare right before the PATCH
    // (whole-second modifiedAt, and the values it overwrites against the link's last state), the PATCH.
    assert.equal(total(intoEspo.espo), 2, JSON.stringify(intoEspo.espo));
    assert.equal(writes(intoEspo.espo).length, 1);
    assert.equal(total(intoEspo.advo), 1, JSON.stringify(intoEspo.advo));
  });

  it('an Advoware change made while an EspoCRM change syncs is not overwritten: the assumed side is read after all', async () => {
    const ids = await linkedPerson('Max', 'Muster');
    await espo.connector.write({ entityType: ESPO, id: ids.espo, fields: { lastName: 'Meier' } });
    await advo.connector.write({ entityType: ADVO, id: ids.advo, fields: { vorname: 'Moritz' } });
    const run = await sync(espoRef(ids.espo));
    assert.equal(run.outcome, 'COMPLETED', JSON.stringify(run.error));
    const advoFields = await advoRecord(ids.advo);
    assert.deepEqual([advoFields['vorname'], advoFields['name']], ['Moritz', 'Meier']);
    assert.equal((await espoRecord(ids.espo))['firstName'], 'Moritz', 'and its change reaches EspoCRM');
  });

  it('the outcome commit confirms the ledger intents with the written version token', async () => {
    const ids = await linkedPerson('Max', 'Muster');
    await espo.connector.write({ entityType: ESPO, id: ids.espo, fields: { lastName: 'Meier' } });
    const run = await sync(espoRef(ids.espo));
    const link = await linkOf(espoRef(ids.espo));
    const entries = await espo.test.backend.store.ledger.find(advoRef(ids.advo), 0);
    const ofRun = entries.filter((entry) => entry.runId === run.id);
    assert.deepEqual(ofRun.map((entry) => entry.field).sort(), ['name', 'vorname']);
    for (const entry of ofRun) assert.equal(entry.version, link.b.version);
  });

  it('a run waits for the link lock another run holds, is postponed without counting the attempt, and completes once it is released', async () => {
    const ids = await linkedPerson('Max', 'Muster');
    const link = await linkOf(espoRef(ids.espo));
    const { backend } = espo.test;
    const key = syncLockKey(FLOW, link, espoRef(ids.espo));
    const held = (await backend.locks.acquireFenced(key, 60_000)) ?? assert.fail('lock taken');
    await espo.connector.write({ entityType: ESPO, id: ids.espo, fields: { lastName: 'Meier' } });
    const { jobId } = await backend.queue.enqueue({
      flow: FLOW,
      recordKey: jobRecordKey(FLOW, espoRef(ids.espo)),
      payload: { ref: { ...espoRef(ids.espo) }, kind: 'updated' },
    });
    const busy = await eventually(async () => {
      const runs = await backend.store.runs.list({ jobId });
      return runs.find((run) => run.error?.code === 'SYNC_LINK_BUSY');
    });
    assert.equal(busy.outcome, 'FAILED');
    const postponed = (await backend.queue.get(jobId)) as Job;
    assert.deepEqual(
      [postponed.state, postponed.attempts],
      ['PENDING', 0],
      'contention postpones the job: the attempt does not count towards DEAD',
    );
    assert.equal((await advoRecord(ids.advo))['name'], 'Muster', 'nothing written without the lock');
    await backend.locks.release(key, held.token);
    const done = await sync(espoRef(ids.espo));
    assert.equal(done.outcome, 'COMPLETED');
    assert.equal((await advoRecord(ids.advo))['name'], 'Meier');
  });

  it('concurrent edits of different fields on both sides both survive', async () => {
    const ids = await linkedPerson('Max', 'Muster');
    await espo.connector.write({ entityType: ESPO, id: ids.espo, fields: { firstName: 'Erika' } });
    await advo.connector.write({ entityType: ADVO, id: ids.advo, fields: { name: 'Mustermann' } });
    const run = await sync(espoRef(ids.espo));
    assert.equal(run.outcome, 'COMPLETED');
    const espoFields = await espoRecord(ids.espo);
    const advoFields = await advoRecord(ids.advo);
    assert.deepEqual([espoFields['firstName'], espoFields['lastName']], ['Erika', 'Mustermann']);
    assert.deepEqual([advoFields['vorname'], advoFields['name']], ['Erika', 'Mustermann']);
  });

  it('the same field edited on both sides follows the policy: EspoCRM (side a) wins by default', async () => {
    const ids = await linkedPerson('Max', 'Muster');
    await espo.connector.write({ entityType: ESPO, id: ids.espo, fields: { lastName: 'Espo' } });
    await advo.connector.write({ entityType: ADVO, id: ids.advo, fields: { name: 'Advo' } });
    const run = await sync(advoRef(ids.advo));
    assert.equal(run.outcome, 'COMPLETED');
    assert.equal((await espoRecord(ids.espo))['lastName'], 'Espo');
    assert.equal((await advoRecord(ids.advo))['name'], 'Espo');
  });

  it('a manual policy parks the same-field conflict: CONFLICT, both values kept, the other field still syncs', async () => {
    const ids = await linkedPerson('Max', 'Muster');
    await pool.stop({ deadlineMs: 0 });
    pool = startPool({ conflict: 'manual' });
    await espo.connector.write({
      entityType: ESPO,
      id: ids.espo,
      fields: { lastName: 'Espo', firstName: 'Erika' },
    });
    await advo.connector.write({ entityType: ADVO, id: ids.advo, fields: { name: 'Advo' } });
    const run = await sync(espoRef(ids.espo));
    assert.equal(run.outcome, 'CONFLICT');
    assert.equal((await espoRecord(ids.espo))['lastName'], 'Espo');
    const advoFields = await advoRecord(ids.advo);
    assert.deepEqual([advoFields['vorname'], advoFields['name']], ['Erika', 'Advo']);
    assert.equal((await linkOf(espoRef(ids.espo))).status, 'conflict');
  });

  it('a second run with no change writes nothing and reads only its own side: Advoware is assumed as linked', async () => {
    const ids = await linkedPerson('Max', 'Muster');
    await espo.connector.write({ entityType: ESPO, id: ids.espo, fields: { lastName: 'Meier' } });
    assert.equal((await sync(espoRef(ids.espo))).outcome, 'COMPLETED');
    await simAdmin(espo.sim, 'DELETE', 'requests');
    await simAdmin(advo.sim, 'DELETE', 'requests');

    const again = await sync(espoRef(ids.espo));
    assert.equal(again.outcome, 'SKIPPED');
    assert.equal(again.reason, 'up to date');
    const espoCounts = await simRequestCounts(espo.sim);
    const advoCounts = await simRequestCounts(advo.sim);
    assert.deepEqual(writes(espoCounts), [], JSON.stringify(espoCounts));
    assert.deepEqual(writes(advoCounts), [], JSON.stringify(advoCounts));
    assert.equal(total(espoCounts), 1, JSON.stringify(espoCounts));
    // rowId changes with every advoware write, so a write would prove it unchanged; none is needed here, and
    // its own changes are the re-check's to find.
    assert.equal(total(advoCounts), 0, JSON.stringify(advoCounts));
  });

  const lostCreates: { readonly kind: string; readonly fields: JsonObject }[] = [
    { kind: 'person', fields: { firstName: 'Lotte', lastName: 'Lost', name: 'Lotte Lost' } },
    { kind: 'company', fields: { firmenname: 'Lost GmbH', name: 'Lost GmbH' } },
  ];
  for (const { kind, fields } of lostCreates)
    it(`a dropped create answer (${kind}) leaves exactly one Beteiligter: the upsert finds what it created`, async () => {
      await simAdmin(advo.sim, 'POST', 'faults', {
        dropAnswer: { routes: ['POST /connector/api/v1/advonet/Beteiligte'], times: 1 },
      });
      const created = await espo.connector.write({
        entityType: ESPO,
        fields,
      });
      const run = await sync(espoRef(created.id));
      assert.equal(run.outcome, 'COMPLETED', JSON.stringify(run.error));
      const counts = await simRequestCounts(advo.sim);
      assert.equal(
        countOf(counts, 'POST /connector/api/v1/advonet/Beteiligte'),
        1,
        'one create, answer lost',
      );
      assert.equal(countOf(counts, 'POST /connector/api/v1/advonet/Beteiligte', 0), 1);
      const ids = await advoIds();
      assert.equal(ids.length, 1, `one Beteiligter: ${ids.join(', ')}`);
      assert.equal((await linkOf(espoRef(created.id))).b.ref.id, ids[0]);
    });

  /**
   * Makes the run write `vorname` from Advoware to the CBeteiligter and returns the EspoCRM webhook event of
   * that write, as the simulator delivered it (a `CBeteiligte.update` webhook without skipOwn) and the
   * connector parses it.
   */
  async function echoOfOwnWrite(ids: { espo: string; advo: string }, vorname: string): Promise<ChangeEvent> {
    const hook = await api(espo.sim, 'POST', '/Webhook', {
      body: { event: 'CBeteiligte.update', url: 'http://127.0.0.1:9/hook', skipOwn: false },
    });
    assert.equal(hook.status, 200, hook.text);
    await advo.connector.write({ entityType: ADVO, id: ids.advo, fields: { vorname } });
    assert.equal((await sync(advoRef(ids.advo))).outcome, 'COMPLETED');
    assert.equal((await espoRecord(ids.espo))['firstName'], vorname);
    await espo.sim.processWebhookQueue();
    const sent = body<DeliveryRecord[]>(await admin(espo.sim, 'GET', 'webhooks/deliveries'));
    const items = sent.at(-1)?.items ?? assert.fail('no webhook delivery');
    const events = parseEspoCrmWebhook(Buffer.from(JSON.stringify(items)), {
      connection: 'espo',
      event: 'CBeteiligte.update',
    });
    assert.equal(events.length, 1, JSON.stringify(items));
    return events[0] as ChangeEvent;
  }

  async function clearRequestCounts(): Promise<void> {
    await simAdmin(espo.sim, 'DELETE', 'requests');
    await simAdmin(advo.sim, 'DELETE', 'requests');
  }

  it('the EspoCRM webhook of our own write is an echo: SKIPPED "echo", no API call, the ledger entry consumed', async () => {
    const ids = await linkedPerson('Max', 'Muster');
    const echo = await echoOfOwnWrite(ids, 'Moritz');
    await clearRequestCounts();

    const run = await sync(espoRef(ids.espo), echo);
    assert.deepEqual([run.outcome, run.reason], ['SKIPPED', 'echo']);
    assert.equal(total(await simRequestCounts(espo.sim)), 0);
    assert.equal(total(await simRequestCounts(advo.sim)), 0);
    const { ledger } = espo.test.backend.store;
    const query = { fields: { firstName: valueHash('Moritz') } };
    assert.equal(await ledger.matchEcho(espoRef(ids.espo), query), null, 'the entry was consumed');

    // The same values sent again later (a person typing them) are not taken for an echo: the run reads.
    const again = await sync(espoRef(ids.espo), { ...echo });
    assert.deepEqual([again.outcome, again.reason], ['SKIPPED', 'up to date']);
    assert.ok(total(await simRequestCounts(espo.sim)) >= 1);
  });

  it('an event that changed another field too is no echo: the run reads and syncs that field', async () => {
    const ids = await linkedPerson('Max', 'Muster');
    const echo = await echoOfOwnWrite(ids, 'Moritz');
    await espo.connector.write({ entityType: ESPO, id: ids.espo, fields: { lastName: 'Meier' } });
    await clearRequestCounts();
    const changedFields = [...(echo.changedFields ?? []), 'lastName'];
    const run = await sync(espoRef(ids.espo), {
      ...echo,
      changedFields,
      data: { ...echo.data, lastName: 'Meier' },
    });
    assert.equal(run.outcome, 'COMPLETED', JSON.stringify(run.error));
    assert.ok(total(await simRequestCounts(espo.sim)) >= 1);
    assert.equal((await advoRecord(ids.advo))['name'], 'Meier');
  });
  it('a parked conflict is one open record however often it is met; its resolution is written to both sides and closes it', async () => {
    const ids = await linkedPerson('Max', 'Muster');
    await pool.stop({ deadlineMs: 0 });
    pool = startPool({ conflict: 'manual' });
    await espo.connector.write({ entityType: ESPO, id: ids.espo, fields: { lastName: 'Espo' } });
    await advo.connector.write({ entityType: ADVO, id: ids.advo, fields: { name: 'Advo' } });
    assert.equal((await sync(espoRef(ids.espo))).outcome, 'CONFLICT');
    assert.equal((await sync(advoRef(ids.advo))).outcome, 'CONFLICT');
    const { conflicts } = espo.test.backend.store;
    const open = await conflicts.list({ status: 'open' });
    assert.deepEqual(
      open.map((conflict) => [conflict.field, conflict.a, conflict.b, conflict.outcome]),
      [['lastName', 'Espo', 'Advo', 'parked']],
    );
    await conflicts.resolve(open[0]!.id, { take: 'b', value: 'Advo', by: 'test', at: espo.clock.now() });
    const applied = await sync(espoRef(ids.espo));
    assert.equal(applied.outcome, 'COMPLETED', JSON.stringify(applied.error));
    assert.equal((await espoRecord(ids.espo))['lastName'], 'Advo');
    assert.equal((await advoRecord(ids.advo))['name'], 'Advo');
    assert.deepEqual(await conflicts.count(FLOW), { open: 0, resolved: 0, closed: 1 });
    assert.equal((await linkOf(espoRef(ids.espo))).status, 'clean');
    assert.deepEqual([(await sync(espoRef(ids.espo))).reason], ['up to date']);
  });

  it('a conflict settled by the policy is kept as closed history with the winning value', async () => {
    const ids = await linkedPerson('Max', 'Muster');
    await espo.connector.write({ entityType: ESPO, id: ids.espo, fields: { lastName: 'Espo' } });
    await advo.connector.write({ entityType: ADVO, id: ids.advo, fields: { name: 'Advo' } });
    assert.equal((await sync(advoRef(ids.advo))).outcome, 'COMPLETED');
    const [settled, ...more] = await espo.test.backend.store.conflicts.list({});
    assert.equal(more.length, 0);
    assert.deepEqual(
      [
        settled?.field,
        settled?.status,
        settled?.outcome,
        settled?.resolution?.value,
        settled?.resolution?.by,
      ],
      ['lastName', 'closed', 'a', 'Espo', 'policy'],
    );
  });

  it('the status fields are written in the same request as the data: clean, retry count 0, the new rowId', async () => {
    const ids = await linkedPerson('Max', 'Muster');
    const fields = await espoRecord(ids.espo);
    const link = await linkOf(espoRef(ids.espo));
    assert.deepEqual(
      [fields['syncStatus'], fields['syncRetryCount'], fields['advowareRowId'], fields['syncErrorMessage']],
      ['clean', 0, link.b.version, null],
    );
    assert.match(fields['advowareLastSync'] as string, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
  });

  it('a record deleted on one side marks the link and flags the other side only after the grace period', async () => {
    const ids = await linkedPerson('Max', 'Muster');
    const deleted = await api(espo.sim, 'DELETE', `/CBeteiligte/${ids.espo}`);
    assert.equal(deleted.status, 200);
    // The job of EspoCRM's delete webhook.
    const marked = await sync(espoRef(ids.espo));
    assert.equal(marked.outcome, 'SKIPPED');
    let link = await linkOf(advoRef(ids.advo));
    assert.deepEqual([link.status, link.deletion?.side, link.deletion?.applied], ['pending', 'a', null]);
    espo.clock.advance(24 * 60 * 60_000);
    const flagged = await sync(advoRef(ids.advo));
    assert.equal(flagged.outcome, 'COMPLETED', JSON.stringify(flagged.error));
    link = await linkOf(advoRef(ids.advo));
    assert.deepEqual([link.status, link.deletion?.applied], ['deleted', 'flagged']);
    assert.equal((await advoRecord(ids.advo))['name'], 'Muster', 'advoware keeps its Beteiligter');
    assert.equal((await sync(advoRef(ids.advo))).outcome, 'SKIPPED');
  });
});
