/**
 * The Beteiligte sync flow end to end over HTTP (issue 10): the whole app (`startApp`) between the EspoCRM and
 * Advoware simulators. Humans edit either side through the simulators' admin APIs; EspoCRM delivers real
 * signed webhooks, Advoware changes are found by the re-check and the discovery, lost webhooks by the
 * reconciler. Each test starts its own world, with the scans it needs on a one-second schedule.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { JsonObject } from '../../src/core/types.ts';
import type { Run } from '../../src/ports/store.ts';
import { countOf, simAdmin, simRequestCounts } from '../support/sim-admin.ts';
import type { RouteCounts } from '../support/sim-admin.ts';
import { ADVO, ESPO, FLOW, advoRef, espoRef, startSyncWorld, within } from './sync-world.ts';
import type { SyncWorld, SyncWorldOptions } from './sync-world.ts';

const ESPO_PATCH = `PATCH /api/v1/${ESPO}/:id`;
const ADVO_PUT = `PUT /connector/api/v1/advonet/${ADVO}/:betnr`;
const ADVO_GET = `GET /connector/api/v1/advonet/${ADVO}/:betnr`;

/** No scan runs unless a test switches it on: then only webhooks start syncs. */
const WEBHOOKS_ONLY = {
  reconcile: { enabled: false },
  recheck: { enabled: false },
  discovery: { enabled: false },
};

/** A detection section with the given scans every second (the others off). */
function scans(...names: ('reconcile' | 'recheck' | 'discovery')[]): Record<string, unknown> {
  const detection: Record<string, unknown> = { ...WEBHOOKS_ONLY };
  for (const name of names)
    detection[name] =
      name === 'reconcile' ? { enabled: true, cron: '* * * * * *' } : { enabled: true, everySeconds: 1 };
  return detection;
}

/** The changes a run made to one side's record, as field -> value written. */
function written(run: Run, connection: 'espo' | 'advo'): Record<string, unknown> {
  return Object.fromEntries(
    run.changes
      .filter((change) => change.ref.connection === connection)
      .map((change) => [change.field, change.after]),
  );
}

describe('Beteiligte sync end to end (EspoCRM and Advoware simulators, startApp)', () => {
  let world: SyncWorld | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  async function start(options: SyncWorldOptions = {}): Promise<SyncWorld> {
    world = await startSyncWorld({ ...options, flow: { detection: WEBHOOKS_ONLY, ...options.flow } });
    return world;
  }

  /**
   * Waits until everything has happened: the EspoCRM simulator has no event or delivery left, and no job of
   * the flow waits or runs.
   */
  async function quiet(w: SyncWorld): Promise<void> {
    await within(async () => {
      await w.espo.processWebhookQueue();
      const hooks = await simAdmin<{ pendingEvents: number; queue: { status: string }[] }>(
        w.espo,
        'GET',
        'webhooks',
      );
      assert.equal(hooks.pendingEvents, 0, 'EspoCRM has no webhook event left to queue');
      assert.deepEqual(
        hooks.queue.filter((item) => item.status === 'Pending'),
        [],
        'EspoCRM has no delivery left',
      );
      const jobs = (await w.app.backend.queue.list({ limit: 500 })).filter((job) => job.flow === FLOW);
      const busy = jobs.filter((job) => !['COMPLETED', 'SKIPPED', 'DEAD'].includes(job.state));
      assert.deepEqual(busy, [], 'no job of the flow waits or runs');
      return true;
    });
  }

  /** A CBeteiligter created by a human, synced to Advoware (the first sync and its echo done). */
  async function synced(w: SyncWorld, body: JsonObject): Promise<{ id: string; betNr: string }> {
    const id = await w.espoAct(body);
    const betNr = await within(async () => {
      const record = await w.espoRead(id);
      const advowareId = record['advowareId'];
      return record['syncStatus'] === 'clean' && typeof advowareId === 'number' ? String(advowareId) : null;
    });
    await quiet(w);
    return { id, betNr };
  }

  const delta = (after: RouteCounts, before: RouteCounts, route: string) =>
    countOf(after, route) - countOf(before, route);

  it('an EspoCRM edit reaches Advoware; advowareRowId/advowareLastSync follow in one request, whose echo costs no API call', async () => {
    const w = await start();
    const { id, betNr } = await synced(w, { firstName: 'Anna', lastName: 'Berg', name: 'Anna Berg' });
    const espoBefore = await simRequestCounts(w.espo);
    const advoBefore = await simRequestCounts(w.advo);
    const runsBefore = (await w.runs(espoRef(id))).length;

    await w.espoAct({ lastName: 'Bergmann', name: 'Anna Bergmann' }, id);
    await within(async () => (await w.advoRead(betNr))['name'] === 'Bergmann');
    await quiet(w);

    const runs = (await w.runs(espoRef(id))).slice(runsBefore);
    const [edit, echo, ...rest] = runs;
    assert.equal(edit?.outcome, 'COMPLETED', JSON.stringify(runs));
    // The person/company module writes all its vendor fields when one of them changes.
    assert.deepEqual(written(edit, 'advo'), { vorname: 'Anna', name: 'Bergmann' });
    const advoware = await w.advoRead(betNr);
    assert.equal(advoware['vorname'], 'Anna', 'the unchanged first name stays');
    const espo = await w.espoRead(id);
    assert.equal(espo['syncStatus'], 'clean');
    assert.equal(espo['advowareRowId'], advoware['rowId'], 'the version token synced is the current rowId');
    assert.equal(written(edit, 'espo')['advowareRowId'], advoware['rowId']);
    assert.equal(echo?.outcome, 'SKIPPED', JSON.stringify(runs));
    assert.match(echo.reason ?? '', /^echo/);
    assert.equal(echo.apiCalls, 0);
    assert.deepEqual(rest, [], 'nothing else ran');

    const espoAfter = await simRequestCounts(w.espo);
    const advoAfter = await simRequestCounts(w.advo);
    assert.equal(delta(espoAfter, espoBefore, ESPO_PATCH), 1, 'the status fields go in one EspoCRM request');
    assert.equal(delta(advoAfter, advoBefore, ADVO_PUT), 1, 'one Advoware write');
  });

  it('an Advoware edit is found by the re-check and reaches EspoCRM, data and status fields in one request', async () => {
    const w = await start({ flow: { detection: scans('recheck') } });
    const { id, betNr } = await synced(w, { firstName: 'Jan', lastName: 'Weber', name: 'Jan Weber' });
    const espoBefore = await simRequestCounts(w.espo);

    await w.advoAct({ name: 'Webermann' }, betNr);
    await within(async () => (await w.espoRead(id))['lastName'] === 'Webermann');
    await quiet(w);

    const espo = await w.espoRead(id);
    const advoware = await w.advoRead(betNr);
    assert.equal(espo['firstName'], 'Jan');
    assert.equal(espo['name'], 'Jan Webermann', 'the module derives the full name');
    assert.equal(espo['syncStatus'], 'clean');
    assert.equal(espo['advowareRowId'], advoware['rowId']);
    const espoAfter = await simRequestCounts(w.espo);
    assert.equal(
      delta(espoAfter, espoBefore, ESPO_PATCH),
      1,
      'lastName, name, syncStatus and advowareRowId are one request',
    );
    // The re-check's run is of the Beteiligter; the webhook of its EspoCRM write starts one of the CBeteiligter.
    const runs = await w.allRuns();
    const index = runs.findIndex((candidate) => written(candidate, 'espo')['lastName'] === 'Webermann');
    assert.ok(index >= 0, `a run wrote the new last name: ${JSON.stringify(runs)}`);
    assert.equal(written(runs[index]!, 'espo')['advowareRowId'], advoware['rowId']);
    const echo = runs.slice(index + 1).find((run) => run.ref.connection === 'espo');
    assert.equal(echo?.outcome, 'SKIPPED', 'the EspoCRM webhook of that write ran');
    assert.match(echo.reason ?? '', /^echo/);
    assert.equal(echo.apiCalls, 0, 'the echo costs no API call');
  });

  it('concurrent edits: different fields both survive; the same field follows a-wins with a conflict record and a Notification', async () => {
    // No scan: the Advoware edit waits unseen until the EspoCRM edit's webhook starts a run that reads both.
    const w = await start({ espoQuirks: { apiUserCanCreateNotification: true } });
    const { id, betNr } = await synced(w, { firstName: 'Ute', lastName: 'Krüger', name: 'Ute Krüger' });

    await w.advoAct({ name: 'Krüger-Hansen' }, betNr);
    await w.espoAct({ firstName: 'Uta', name: 'Uta Krüger' }, id);
    await within(async () => (await w.advoRead(betNr))['vorname'] === 'Uta');
    await quiet(w);
    assert.equal((await w.advoRead(betNr))['name'], 'Krüger-Hansen');
    const merged = await w.espoRead(id);
    assert.equal(merged['firstName'], 'Uta');
    assert.equal(merged['lastName'], 'Krüger-Hansen');
    assert.equal(merged['name'], 'Uta Krüger-Hansen');
    const link = await w.linkOf(id);
    assert.ok(link);
    assert.deepEqual(await w.app.backend.store.conflicts.list({ flow: FLOW }), [], 'no conflict yet');

    await w.advoAct({ name: 'Hansen' }, betNr);
    await w.espoAct({ lastName: 'Krüger', name: 'Uta Krüger' }, id);
    await within(async () => (await w.advoRead(betNr))['name'] === 'Krüger');
    await quiet(w);
    assert.equal((await w.espoRead(id))['lastName'], 'Krüger', 'EspoCRM (side a) wins');
    const conflicts = await w.app.backend.store.conflicts.list({ flow: FLOW });
    assert.equal(conflicts.length, 1, JSON.stringify(conflicts));
    const [conflict] = conflicts;
    assert.equal(conflict?.field, 'lastName');
    assert.equal(conflict.linkId, link.id);
    assert.equal(conflict.a, 'Krüger');
    assert.equal(conflict.b, 'Hansen');
    assert.equal(conflict.policy, 'a-wins');
    assert.equal(conflict.outcome, 'a');
    const notifications = await w.espoApi<{ list: { message: string | null }[] }>('GET', 'Notification');
    const messages = notifications.list.map((notification) => notification.message ?? '');
    assert.equal(messages.length, 1, `one Notification, for the conflict: ${JSON.stringify(messages)}`);
    assert.match(messages[0]!, /both sides changed \*\*lastName\*\*/);
    assert.match(messages[0]!, /"Krüger".*"Hansen".*policy a-wins/);
  });

  /**
   * A CBeteiligter synced to Advoware, then edited by a human while its update webhook is inactive, so EspoCRM
   * records no event and the delivery is lost. Returns once the edit is saved.
   */
  async function editWithLostWebhook(w: SyncWorld): Promise<{ id: string; betNr: string }> {
    const { id, betNr } = await synced(w, { firstName: 'Lars', lastName: 'Hoffmann', name: 'Lars Hoffmann' });
    const updateHook = w.webhookIds[`${ESPO}.update`] ?? assert.fail('no update webhook');
    await w.espoApi('PUT', `Webhook/${updateHook}`, { isActive: false });
    await w.espoAct({ lastName: 'Hofmann', name: 'Lars Hofmann' }, id);
    await w.espoApi('PUT', `Webhook/${updateHook}`, { isActive: true });
    return { id, betNr };
  }

  /** Asserts that the edit of {@link editWithLostWebhook} reached Advoware through the reconciler. */
  async function assertHealed(w: SyncWorld, id: string, betNr: string): Promise<void> {
    await within(async () => (await w.advoRead(betNr))['name'] === 'Hofmann');
    await quiet(w);
    const deliveries = await simAdmin<{ items: JsonObject[] }[]>(w.espo, 'GET', 'webhooks/deliveries');
    assert.ok(
      !deliveries.some((delivery) => delivery.items.some((item) => item['lastName'] === 'Hofmann')),
      'no webhook carried the edit',
    );
    const healed = (await w.runs(espoRef(id))).find((run) => written(run, 'advo')['name'] === 'Hofmann');
    assert.equal(healed?.outcome, 'COMPLETED');
  }

  it('a lost webhook is healed by the reconciler (CBeteiligte with versionNumber)', async () => {
    // With optimistic concurrency every save has its own versionNumber, the version token the reconciler
    // compares with the link's.
    const w = await start({
      flow: { detection: scans('reconcile') },
      espoQuirks: { optimisticConcurrency: { [ESPO]: true } },
    });
    const { id, betNr } = await editWithLostWebhook(w);
    await assertHealed(w, id, betNr);
  });

  it('a lost webhook is healed by the reconciler (CBeteiligte versioned by modifiedAt, edit in the second of our write)', async () => {
    const w = await start({ flow: { detection: scans('reconcile') } });
    const { id, betNr } = await editWithLostWebhook(w);
    await assertHealed(w, id, betNr);
  });

  /** A synced CBeteiligter whose edit cannot reach Advoware (503 on every read and write of it). */
  async function failForGood(w: SyncWorld): Promise<{ id: string; betNr: string; failed: JsonObject }> {
    const { id, betNr } = await synced(w, {
      firstName: 'Katrin',
      lastName: 'Schäfer',
      name: 'Katrin Schäfer',
    });
    await simAdmin(w.advo, 'POST', 'faults', { status5xx: { status: 503, routes: [ADVO_GET, ADVO_PUT] } });
    await w.espoAct({ lastName: 'Schaefer', name: 'Katrin Schaefer' }, id);
    const failed = await within(async () => {
      const record = await w.espoRead(id);
      return record['syncStatus'] === 'permanently_failed' ? record : null;
    });
    await quiet(w);
    return { id, betNr, failed };
  }

  /** The messages of the API user's Notifications, newest first. */
  async function notificationMessages(w: SyncWorld): Promise<string[]> {
    const { list } = await w.espoApi<{ list: { message: string | null }[] }>('GET', 'Notification');
    return list.map((notification) => notification.message ?? '');
  }

  const FAILING = {
    queue: { maxAttempts: 2, backoff: { baseMs: 10, maxMs: 20, jitter: 0 } },
    espoQuirks: { apiUserCanCreateNotification: true },
  };

  it('repeated Advoware 5xx: syncStatus permanently_failed after the attempts, with a Notification', async () => {
    const w = await start(FAILING);
    const { id, betNr, failed } = await failForGood(w);
    assert.equal(failed['syncRetryCount'], 2, 'both attempts counted');
    assert.match(failed['syncErrorMessage'] as string, /503/);
    const messages = await notificationMessages(w);
    assert.ok(messages.length >= 1, 'a Notification tells of the failure');
    for (const message of messages) {
      assert.match(message, new RegExp(`could not sync espo/${ESPO}/${id} after 2 attempt`));
      assert.match(message, /503/);
    }
    await simAdmin(w.advo, 'POST', 'faults', {});
    assert.equal((await w.advoRead(betNr))['name'], 'Schäfer', 'Advoware kept its value');
    assert.equal((await w.linkOf(id))?.status, 'failed');
  });

  it("a record that fails for good is notified once: the echo of the first failure's status write starts no second job", async () => {
    const w = await start(FAILING);
    await failForGood(w);
    const dead = (await w.app.backend.queue.list({ limit: 50 })).filter(
      (job) => job.flow === FLOW && job.state === 'DEAD',
    );
    assert.equal(dead.length, 1, 'one job failed for good');
    assert.equal((await notificationMessages(w)).length, 1, 'one Notification');
  });

  it('persons and companies map both ways', async () => {
    const w = await start({ flow: { detection: scans('discovery') } });
    const company = await synced(w, { firmenname: 'Kanzlei Nord GmbH', name: 'Kanzlei Nord GmbH' });
    const advoCompany = await w.advoRead(company.betNr);
    assert.equal(advoCompany['name'], 'Kanzlei Nord GmbH');
    assert.ok([null, undefined, ''].includes(advoCompany['vorname'] as string | null | undefined));
    const person = await synced(w, { firstName: 'Özlem', lastName: 'Yılmaz', name: 'Özlem Yılmaz' });
    const advoPerson = await w.advoRead(person.betNr);
    assert.equal(advoPerson['vorname'], 'Özlem');
    assert.equal(advoPerson['name'], 'Yılmaz');

    const personNr = await w.advoAct({ vorname: 'René', name: 'Krüger' });
    const companyNr = await w.advoAct({ name: 'Müller & Partner AG' });
    const espoOf = async (betNr: string) => {
      const { list } = await w.espoApi<{ list: JsonObject[] }>('GET', ESPO);
      return list.find((record) => String(record['advowareId'] as number) === betNr) ?? null;
    };
    const espoPerson = await within(() => espoOf(personNr));
    const espoCompany = await within(() => espoOf(companyNr));
    assert.deepEqual(
      [espoPerson['firstName'], espoPerson['lastName'], espoPerson['name'], espoPerson['firmenname']],
      ['René', 'Krüger', 'René Krüger', null],
    );
    assert.deepEqual(
      [espoCompany['firstName'], espoCompany['lastName'], espoCompany['name'], espoCompany['firmenname']],
      [null, null, 'Müller & Partner AG', 'Müller & Partner AG'],
    );
    await quiet(w);
    assert.equal((await w.advoIds()).length, 4, 'no Beteiligter was made twice');
  });

  it('records the seed system linked (advowareId/advowareRowId) are linked, not duplicated', async () => {
    const w = await start();
    const seeded = await simAdmin<{ created: number[] }>(w.advo, 'POST', 'seed', {
      beteiligte: [{ vorname: 'Birgit', name: 'Becker' }],
    });
    const betNr = String(seeded.created[0]);
    const rowId = (await w.advoRead(betNr))['rowId'];
    const espoSeed = await simAdmin<{ created: Record<string, string[]> }>(w.espo, 'POST', 'seed', {
      records: {
        [ESPO]: [
          {
            firstName: 'Birgit',
            lastName: 'Becker',
            name: 'Birgit Becker',
            advowareId: Number(betNr),
            advowareRowId: rowId as string,
            syncStatus: 'clean',
          },
        ],
      },
    });
    const id = espoSeed.created[ESPO]?.[0] ?? assert.fail('no CBeteiligter seeded');

    await w.espoAct({ lastName: 'Becker-Lang', name: 'Birgit Becker-Lang' }, id);
    await within(async () => (await w.advoRead(betNr))['name'] === 'Becker-Lang');
    await quiet(w);
    assert.deepEqual(await w.advoIds(), [betNr], 'the seed-linked Beteiligter was updated, none created');
    const link = await w.linkOf(id);
    assert.deepEqual(link?.b.ref, advoRef(betNr));
    const espo = await w.espoRead(id);
    assert.equal(String(espo['advowareId'] as number), betNr);
    assert.equal(espo['syncStatus'], 'clean');
    // advowareRowId is not checked here: it stays at the seeded rowId, the bug of the first test (todo).
  });
});
