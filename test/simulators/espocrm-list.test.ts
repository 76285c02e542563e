/**
 * The EspoCRM simulator's list internals: filters and ordering read records through `lazyOutputs` and only the
 * page is rendered. Each request is answered twice, once with the filters seeing every record's full read
 * output (how the route worked before) and once as the route does now, and the answers must be identical:
 * the page, `total`, the projection and the 400 reasons. Plus: the route renders only the page's records, and
 * `sortedPrefix` is a stable sort's prefix.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { JsonObject } from '../../src/core/types.ts';
import { entityDef } from '../../src/simulators/espocrm/entity-defs.ts';
import { startEspoCrmSimulator } from '../../src/simulators/espocrm/index.ts';
import { runList } from '../../src/simulators/espocrm/list.ts';
import type { ListResult } from '../../src/simulators/espocrm/list.ts';
import { defaultQuirks } from '../../src/simulators/espocrm/quirks.ts';
import { RecordService } from '../../src/simulators/espocrm/records.ts';
import { lazyOutputs } from '../../src/simulators/espocrm/render.ts';
import { fetchSearchParams } from '../../src/simulators/espocrm/search-params.ts';
import { sortedPrefix } from '../../src/simulators/espocrm/sorted-prefix.ts';
import { SimState } from '../../src/simulators/espocrm/state.ts';
import type { StoredRecord } from '../../src/simulators/espocrm/state.ts';
import {
  DEFAULT_API_KEY,
  DEFAULT_SECRET_KEY,
  UserDirectory,
  buildUsers,
} from '../../src/simulators/espocrm/users.ts';
import { IdGenerator } from '../../src/simulators/espocrm/values.ts';
import { testSeed } from '../contract/seeded-random.ts';
import { admin, api, body } from '../connectors/espocrm/simulator-support.ts';
import type { ListBody } from '../connectors/espocrm/simulator-support.ts';
import { ManualClock } from '../support/manual-clock.ts';

const SEED = testSeed(20261204);

/** A record service over fresh state with Contacts whose derived attributes (name, accountName,
 * assignedUserName) and e-mail lists matter to filters, ties in createdAt, and deleted records. */
function contactsFixture() {
  const clock = new ManualClock(Date.UTC(2025, 2, 1));
  const state = new SimState();
  const users = new UserDirectory(buildUsers(DEFAULT_API_KEY, DEFAULT_SECRET_KEY));
  const quirks = defaultQuirks();
  const records = new RecordService({
    state,
    users,
    quirks: () => quirks,
    clock,
    ids: new IdGenerator(),
    listener: () => undefined,
  });
  const actor = users.apiUser;
  const accounts = ['Nordlicht AG', 'Südwind GmbH', 'nordost kg'].map(
    (name) => records.create('Account', { name }, actor).id,
  );
  const userIds = [null, ...['1', actor.id, '65a1f0c2b3d4e5f61'].filter((id) => users.byId(id))];
  const firstNames = [null, 'Anna', 'anna', 'Jürgen', 'Zoë', ''];
  const lastNames = ['Müller', 'muller', 'Schmidt', 'Özdemir', 'Zander', 'Abel'];
  const contactIds: string[] = [];
  for (let index = 0; index < 48; index++) {
    // Three records per second: createdAt ties are broken by id.
    const at = Date.UTC(2025, 2, 1) + Math.floor(index / 3) * 1000;
    const emails = Array.from({ length: index % 3 }, (_, n) => ({
      emailAddress: `c${index}.${n}@${n === 0 ? 'a' : 'b'}.example`,
    }));
    const contact = records.create(
      'Contact',
      {
        firstName: firstNames[index % firstNames.length] ?? null,
        lastName: `${lastNames[index % lastNames.length] ?? ''}${index % 4 === 0 ? '' : ` ${index}`}`,
        accountId: index % 4 === 3 ? null : (accounts[index % accounts.length] ?? null),
        assignedUserId: userIds[index % userIds.length] ?? null,
        doNotCall: index % 5 === 0,
        emailAddressData: emails,
      },
      actor,
      { at, skipDuplicateCheck: true },
    );
    contactIds.push(contact.id);
  }
  // Derived attributes follow other tables at read time: a renamed and a deleted account.
  records.update('Account', accounts[0] ?? '', { name: 'Nordstern AG' }, actor);
  records.delete('Account', accounts[1] ?? '', actor);
  for (const id of contactIds.slice(10, 14)) records.delete('Contact', id, actor);
  clock.advance(60_000);
  return { state, records, quirks, clock, actorId: actor.id };
}

type Fixture = ReturnType<typeof contactsFixture>;

/** One list request as the route would make it, with filters seeing records through `view`. */
function list(
  fixture: Fixture,
  query: JsonObject,
  mode: 'full-output' | 'lazy',
  onRender: () => void = () => undefined,
): ListResult | { error: string } {
  const { records, state, quirks } = fixture;
  const read = records.outputReader('Contact');
  try {
    return runList({
      def: entityDef('Contact'),
      records: [...state.table('Contact').values()].filter((record) => record.deleted !== true),
      view: mode === 'lazy' ? lazyOutputs(read) : (record: StoredRecord) => records.render('Contact', record),
      render: (record) => {
        onRender();
        return records.render('Contact', record);
      },
      params: fetchSearchParams({ searchParams: JSON.stringify(query) }, quirks.maxSizeLimit),
      noTotal: query.noTotal === true,
      quirks,
      userId: fixture.actorId,
      now: fixture.clock.now(),
    });
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** Answers `query` both ways, asserts they agree and that only the page was rendered; returns the answer. */
function agreeing(fixture: Fixture, query: JsonObject): ListResult | { error: string } {
  let renders = 0;
  const lazy = list(fixture, query, 'lazy', () => (renders += 1));
  assert.deepEqual(lazy, list(fixture, query, 'full-output'), JSON.stringify(query));
  if ('list' in lazy) assert.equal(renders, lazy.list.length, 'only the page is rendered');
  return lazy;
}

const names = (result: ListResult | { error: string }) =>
  'list' in result ? result.list.map((row) => row.name) : result.error;

describe('EspoCRM simulator list: filtering and ordering before rendering', () => {
  it('a mixed where + orderBy + offset page is what filtering the full read output gave', () => {
    const fixture = contactsFixture();
    const result = agreeing(fixture, {
      where: [
        {
          type: 'or',
          value: [
            { type: 'startsWith', attribute: 'accountName', value: 'NORD' },
            { type: 'like', attribute: 'emailAddress', value: '%@b.example' },
          ],
        },
        { type: 'isNotNull', attribute: 'firstName' },
        { type: 'notEquals', attribute: 'name', value: 'anna muller' },
      ],
      orderBy: 'name',
      order: 'asc',
      offset: 3,
      maxSize: 7,
      select: ['name', 'accountName', 'emailAddress'],
    });
    assert.ok('list' in result);
    assert.deepEqual(Object.keys(result.list[0] ?? {}), ['id', 'name', 'accountName', 'emailAddress']);
    // The renamed account's contacts match by their current account name.
    // Ties on name ('anna Schmidt') are broken by id; an empty first name is not NULL; 'Abel 5' sorts as text.
    assert.deepEqual(
      result.list.map((row) => [row.name, row.accountName]),
      [
        ['Abel 35', null],
        ['Abel 41', 'nordost kg'],
        ['Abel 47', null],
        ['Abel 5', 'nordost kg'],
        ['anna Schmidt', 'nordost kg'],
        ['anna Schmidt', 'nordost kg'],
        ['anna Schmidt', 'nordost kg'],
      ],
    );
    assert.equal(result.total, 19);
  });

  it('agrees for text filters, onlyMy, derived-attribute order, totals and 400 reasons', () => {
    const fixture = contactsFixture();
    const queries: JsonObject[] = [
      { textFilter: 'mü', orderBy: 'createdAt', offset: 1, maxSize: 4 },
      { boolFilterList: ['onlyMy'], orderBy: 'accountName', order: 'desc', offset: 2, maxSize: 5 },
      {
        where: [{ type: 'isTrue', attribute: 'doNotCall' }],
        orderBy: 'emailAddress',
        maxSize: 3,
        noTotal: true,
      },
      { orderBy: 'createdAt', order: 'asc', offset: 40, maxSize: 10, noTotal: true },
      { orderBy: 'assignedUserName', offset: 5, maxSize: 6, q: 'a' },
      { orderBy: 'versionNumber', maxSize: 3 },
      { where: [{ type: 'isNull', attribute: 'versionNumber' }], orderBy: 'lastName', maxSize: 4 },
      { where: [{ type: 'equals', attribute: 'nope', value: 1 }] },
      { where: [{ type: 'in', attribute: 'lastName', value: 'x' }] },
      { offset: 100, maxSize: 5 },
      { maxSize: 0 },
      {
        where: [{ type: 'equals', attribute: 'accountName', value: 'nordstern ag' }],
        select: ['accountName'],
      },
    ];
    for (const query of queries) agreeing(fixture, query);
    assert.equal(
      names(agreeing(fixture, { orderBy: 'versionNumber', maxSize: 3 })),
      "Not existing attribute 'versionNumber' in order.",
    );
    assert.equal(
      names(agreeing(fixture, { where: [{ type: 'in', attribute: 'lastName', value: 'x' }] })),
      "Bad where item 'in'.",
    );
    const renamed = agreeing(fixture, {
      where: [{ type: 'equals', attribute: 'accountName', value: 'nordstern ag' }],
      select: ['accountName'],
    });
    assert.ok('list' in renamed && renamed.total > 0, 'current account names match');
    assert.ok(renamed.list.every((row) => row.accountName === 'Nordstern AG'));
    fixture.quirks.optimisticConcurrency.Contact = true;
    fixture.quirks.listIncludesCommunicationData = true;
    for (const query of queries) agreeing(fixture, query);
  });

  it('agrees over random mixed requests', (t) => {
    t.diagnostic(`fast-check seed ${SEED} (CRMSYNC_TEST_SEED)`);
    const fixture = contactsFixture();
    const whereItem = fc.constantFrom<JsonObject>(
      { type: 'startsWith', attribute: 'name', value: 'an' },
      { type: 'contains', attribute: 'accountName', value: 'nord' },
      { type: 'isNull', attribute: 'accountName' },
      { type: 'equals', attribute: 'assignedUserName', value: 'Admin' },
      { type: 'notLike', attribute: 'emailAddress', value: '%@a.example' },
      { type: 'isNull', attribute: 'emailAddress' },
      { type: 'greaterThan', attribute: 'createdAt', value: '2025-03-01 00:00:05' },
      { type: 'lessThanOrEquals', attribute: 'lastName', value: 'Schmidt' },
      { type: 'isFalse', attribute: 'doNotCall' },
      { type: 'not', value: [{ type: 'equals', attribute: 'firstName', value: 'ANNA' }] },
    );
    const query = fc.record(
      {
        where: fc.array(whereItem, { maxLength: 3 }),
        orderBy: fc.constantFrom('name', 'lastName', 'accountName', 'createdAt', 'emailAddress', 'id'),
        order: fc.constantFrom('asc', 'desc'),
        offset: fc.integer({ min: 0, max: 48 }),
        maxSize: fc.integer({ min: 0, max: 12 }),
        textFilter: fc.constantFrom('', 'm', 'c1*'),
        noTotal: fc.boolean(),
      },
      { requiredKeys: ['offset', 'maxSize'] },
    );
    fc.assert(
      fc.property(query, (generated) => {
        agreeing(fixture, generated);
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('the list route renders only the records of the page it answers', async (t) => {
    const sim = await startEspoCrmSimulator({ seed: false });
    t.after(() => sim.close());
    const contacts = Array.from({ length: 120 }, (_, index) => ({ lastName: `Kontakt ${index}` }));
    assert.equal((await admin(sim, 'POST', 'seed', { records: { Contact: contacts } })).status, 200);
    const render = t.mock.method(RecordService.prototype, 'render');
    const page = body<ListBody>(
      await api(sim, 'GET', '/Contact?offset=30&maxSize=7&orderBy=lastName&order=desc'),
    );
    assert.equal(page.total, 120);
    assert.equal(page.list.length, 7);
    assert.equal(render.mock.callCount(), 7);
  });
});

describe('sortedPrefix', () => {
  it('is the prefix of a stable sort, ties in input order', (t) => {
    t.diagnostic(`fast-check seed ${SEED} (CRMSYNC_TEST_SEED)`);
    const byKey = (a: { key: number }, b: { key: number }) => a.key - b.key;
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 120 }),
        fc.integer({ min: 0, max: 130 }),
        (keys, count) => {
          const items = keys.map((key, index) => ({ key, index }));
          assert.deepEqual(sortedPrefix(items, count, byKey), [...items].sort(byKey).slice(0, count));
        },
      ),
      { seed: SEED, numRuns: 300 },
    );
  });
});
