/**
 * The second sync flow, configuration only (`accountContactFlowDefaults`): EspoCRM `Account` (side a) <->
 * SuperOffice `Contact` (side b), run as a handler of a real WorkerPool and HandlerRegistry against both
 * simulators through their real connectors and a real SQLite backend. Name and org number flow both ways,
 * website and phone flow from SuperOffice's lists to EspoCRM without touching EspoCRM's other numbers, and a
 * first sync creates and links exactly one partner.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { superofficeConnector } from '../../../src/connectors/superoffice/index.ts';
import type { JsonObject, RecordRef } from '../../../src/core/types.ts';
import type { WorkerPool } from '../../../src/engine/worker-pool.ts';
import { accountContactFlowDefaults, syncOptionsSchema } from '../../../src/engine/flows/sync/index.ts';
import type { Connector } from '../../../src/ports/connector.ts';
import type { Link, Run } from '../../../src/ports/store.ts';
import {
  simulatorConnectionOptions,
  startSuperOfficeSimulator,
} from '../../../src/simulators/superoffice/index.ts';
import type { SuperOfficeSimulator } from '../../../src/simulators/superoffice/index.ts';
import { recorder } from '../../connectors/superoffice/support.ts';
import { silentLogger } from '../support.ts';
import { espocrmFixture, settleSync, startSyncPool } from './support.ts';
import type { ScanFixture } from './support.ts';

const FLOW = 'companies';
const ACCOUNT = 'Account';
const CONTACT = 'Contact';

describe('Account <-> Contact sync flow (EspoCRM and SuperOffice simulators, worker pool)', () => {
  let espo: ScanFixture;
  let sim: SuperOfficeSimulator;
  let so: Connector;
  let pool: WorkerPool;

  beforeEach(async () => {
    espo = await espocrmFixture();
    // The same manual clock as EspoCRM's, so that UpdatedDate and retry backoffs follow the test.
    sim = await startSuperOfficeSimulator({ clock: espo.clock, seed: false, logger: silentLogger });
    so = superofficeConnector.create({
      connection: 'so',
      options: superofficeConnector.optionsSchema.parse({
        ...simulatorConnectionOptions(sim),
        requestsPerSecond: 1_000,
      }),
      clock: espo.clock,
      logger: silentLogger,
      apiCalls: recorder(),
      state: espo.test.backend.store.connectorState,
    });
    pool = startPool(false);
  });

  /** A worker pool running the flow's sync handler (with website and phone when `listsFromSuperOffice`). */
  function startPool(listsFromSuperOffice: boolean): WorkerPool {
    const options = syncOptionsSchema.parse(
      accountContactFlowDefaults({ espocrm: 'espo', superoffice: 'so', listsFromSuperOffice }),
    );
    return startSyncPool({
      flow: FLOW,
      options,
      connectors: { a: espo.connector, b: so },
      backend: espo.test.backend,
      clock: espo.clock,
    });
  }

  /** Replaces the running pool by one with website and phone mapped. */
  async function withListsFromSuperOffice(): Promise<void> {
    await pool.stop({ deadlineMs: 0 });
    pool = startPool(true);
  }

  afterEach(async () => {
    await pool.stop({ deadlineMs: 0 });
    await so.close();
    await sim.close();
    await espo.close();
  });

  const accountRef = (id: string): RecordRef => ({ connection: 'espo', entityType: ACCOUNT, id });
  const contactRef = (id: string): RecordRef => ({ connection: 'so', entityType: CONTACT, id });

  /** Queues a change event for `ref` and waits until its job settled; returns the job's last run. */
  function settle(ref: RecordRef): Promise<Run> {
    return settleSync(espo.test.backend, espo.clock, ref, undefined, FLOW);
  }

  /** {@link settle}, which must complete. */
  async function sync(ref: RecordRef): Promise<Run> {
    const run = await settle(ref);
    assert.equal(run.outcome, 'COMPLETED', JSON.stringify(run.error));
    return run;
  }

  async function account(id: string): Promise<JsonObject> {
    return ((await espo.connector.read(ACCOUNT, id)) ?? assert.fail(`no Account ${id}`)).fields;
  }

  async function contact(id: string): Promise<JsonObject> {
    return ((await so.read(CONTACT, id)) ?? assert.fail(`no Contact ${id}`)).fields;
  }

  async function ids(connector: Connector, entityType: string): Promise<string[]> {
    const page = await connector.list({ entityType, limit: 100 });
    return page.records.map((record) => record.id);
  }

  async function linkOf(ref: RecordRef): Promise<Link> {
    return (await espo.test.backend.store.links.findByRef(FLOW, ref)) ?? assert.fail('no link');
  }

  /** An Account in EspoCRM, synced once to SuperOffice; returns both ids. */
  async function linkedAccount(fields: JsonObject): Promise<{ account: string; contact: string }> {
    const created = await espo.connector.write({ entityType: ACCOUNT, fields });
    await sync(accountRef(created.id));
    return { account: created.id, contact: (await linkOf(accountRef(created.id))).b.ref.id };
  }

  it('a first sync of an unlinked Account creates exactly one Contact and links them', async () => {
    const linked = await linkedAccount({ name: 'Muster GmbH', sicCode: 'HRB 12345' });
    assert.deepEqual(await ids(so, CONTACT), [linked.contact]);
    const created = await contact(linked.contact);
    assert.deepEqual([created['Name'], created['OrgNr']], ['Muster GmbH', 'HRB 12345']);
    const link = await linkOf(contactRef(linked.contact));
    assert.equal(link.a.ref.id, linked.account);
    assert.deepEqual(link.b.base, { name: 'Muster GmbH', orgNr: 'HRB 12345' });

    // A second run of the same Account writes nothing and creates nothing.
    const again = await settle(accountRef(linked.account));
    assert.deepEqual([again.outcome, again.reason, again.changes], ['SKIPPED', 'up to date', []]);
    assert.deepEqual(await ids(so, CONTACT), [linked.contact]);
  });

  it('a first sync of an unlinked Contact creates exactly one Account with its name and org number', async () => {
    const created = await so.write({ entityType: CONTACT, fields: { Name: 'Beispiel AG', OrgNr: '998877' } });
    await sync(contactRef(created.id));
    const accounts = await ids(espo.connector, ACCOUNT);
    assert.equal(accounts.length, 1);
    const fields = await account(accounts[0]!);
    assert.deepEqual([fields['name'], fields['sicCode']], ['Beispiel AG', '998877']);
    assert.equal((await linkOf(contactRef(created.id))).a.ref.id, accounts[0]);
  });

  it('an Account whose Contact exists already (same name and org number) is linked to it, not duplicated', async () => {
    const existing = await so.write({ entityType: CONTACT, fields: { Name: 'Muster GmbH', OrgNr: '4711' } });
    await so.write({ entityType: CONTACT, fields: { Name: 'Muster GmbH', OrgNr: '0815' } });
    const created = await espo.connector.write({
      entityType: ACCOUNT,
      fields: { name: 'Muster GmbH', sicCode: '4711' },
    });
    // Found by the match keys and merged: equal values, so the first link writes nothing.
    const run = await settle(accountRef(created.id));
    assert.deepEqual([run.outcome, run.reason], ['SKIPPED', 'up to date']);
    assert.equal((await linkOf(accountRef(created.id))).b.ref.id, existing.id);
    assert.equal((await ids(so, CONTACT)).length, 2);
  });

  it('an Account change reaches the Contact, and a Contact change reaches the Account', async () => {
    const linked = await linkedAccount({ name: 'Muster GmbH', sicCode: 'HRB 1' });
    await espo.connector.write({
      entityType: ACCOUNT,
      id: linked.account,
      fields: { name: 'Muster & Co GmbH', sicCode: 'HRB 2' },
    });
    const toContact = await sync(accountRef(linked.account));
    assert.deepEqual(
      toContact.changes.map((change) => [change.ref.connection, change.field, change.after]),
      [
        ['so', 'Name', 'Muster & Co GmbH'],
        ['so', 'OrgNr', 'HRB 2'],
      ],
    );
    const contactFields = await contact(linked.contact);
    assert.deepEqual([contactFields['Name'], contactFields['OrgNr']], ['Muster & Co GmbH', 'HRB 2']);

    await so.write({ entityType: CONTACT, id: linked.contact, fields: { OrgNr: '' } });
    await sync(contactRef(linked.contact));
    const accountFields = await account(linked.account);
    assert.deepEqual([accountFields['name'], accountFields['sicCode']], ['Muster & Co GmbH', null]);
  });

  it('with listsFromSuperOffice, the first URL and phone reach the Account; the Contact list and other numbers stay', async () => {
    await withListsFromSuperOffice();
    const created = await so.write({
      entityType: CONTACT,
      fields: {
        Name: 'Beispiel AG',
        Urls: [
          { Value: 'https://beispiel.example', Description: 'Main' },
          { Value: 'https://shop.beispiel.example', Description: 'Shop' },
        ],
        Phones: [{ Value: '+47 22 33 44 55', Description: '' }],
      },
    });
    await sync(contactRef(created.id));
    const [accountId] = await ids(espo.connector, ACCOUNT);
    const fields = await account(accountId!);
    assert.deepEqual(
      [fields['website'], fields['phoneNumber']],
      ['https://beispiel.example', '+47 22 33 44 55'],
    );

    // A fax added in EspoCRM, then a new number in SuperOffice: only the primary number is replaced.
    await espo.connector.write({
      entityType: ACCOUNT,
      id: accountId!,
      fields: {
        phoneNumberData: [
          { phoneNumber: '+47 22 33 44 55', primary: true, type: 'Office' },
          { phoneNumber: '+47 22 00 00 00', primary: false, type: 'Fax' },
        ],
      },
    });
    await so.write({
      entityType: CONTACT,
      id: created.id,
      fields: { Phones: [{ Value: '+47 99 88 77 66', Description: '' }] },
    });
    const run = await sync(contactRef(created.id));
    assert.deepEqual(
      run.changes.map((change) => [change.ref.connection, change.field, change.after]),
      [['espo', 'phoneNumber', '+47 99 88 77 66']],
    );
    const numbers = ((await account(accountId!))['phoneNumberData'] as JsonObject[]).map((entry) => [
      entry['phoneNumber'],
      entry['primary'],
    ]);
    assert.deepEqual(numbers, [
      ['+47 99 88 77 66', true],
      ['+47 22 00 00 00', false],
    ]);
    const urls = ((await contact(created.id))['Urls'] as JsonObject[]).map((url) => url['Value']);
    assert.deepEqual(urls, ['https://beispiel.example', 'https://shop.beispiel.example']);
  });
});
