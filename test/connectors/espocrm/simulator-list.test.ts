/**
 * Lists of the EspoCRM simulator over real HTTP: every `where` type the engine uses, each in both encodings
 * (PHP bracket query parameters built here, and the `searchParams` JSON) with the same answer, the vendor's
 * 400 reasons for malformed items, the 200 cap (403 above it), paging through 1,000 records at 200 per page,
 * `X-No-Total` (-1/-2), ordering and `select`.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { EspoCrmSimulator } from '../../../src/simulators/espocrm/index.ts';
import { ManualClock } from '../../support/manual-clock.ts';
import { admin, api, body, phpQuery, suiteSimulator } from './simulator-support.ts';
import type { ListBody } from './simulator-support.ts';

const FIXTURE = [
  {
    name: 'Alpha Müller',
    advowareId: 1,
    syncStatus: 'clean',
    advowareLastSync: '2025-03-01 10:00:00',
    syncRetryCount: 0,
    emailAddressData: [{ emailAddress: 'a1@x.example' }, { emailAddress: 'a2@x.example' }],
  },
  {
    name: 'Beta Schmidt',
    advowareId: 2,
    syncStatus: 'dirty',
    advowareLastSync: '2025-03-02 10:00:00',
    syncRetryCount: 1,
  },
  {
    name: 'Gamma GmbH',
    syncStatus: 'pending_sync',
    syncRetryCount: 3,
    emailAddressData: [{ emailAddress: 'g@x.example', optOut: true }],
  },
  {
    name: 'Delta / Partner',
    advowareId: 10,
    syncStatus: 'failed',
    advowareLastSync: '2025-03-03 00:00:00',
    syncRetryCount: 5,
  },
  { name: 'epsilon kg', syncStatus: 'permanently_failed', syncRetryCount: null },
];

type Where = Record<string, unknown>[];

/** `where` items and the names they must select. */
const CASES: { readonly label: string; readonly where: Where; readonly names: string[] }[] = [
  {
    label: 'equals',
    where: [{ type: 'equals', attribute: 'syncStatus', value: 'clean' }],
    names: ['Alpha Müller'],
  },
  {
    label: 'equals ignores case',
    where: [{ type: 'equals', attribute: 'name', value: 'ALPHA MÜLLER' }],
    names: ['Alpha Müller'],
  },
  {
    label: 'notEquals',
    where: [{ type: 'notEquals', attribute: 'syncStatus', value: 'clean' }],
    names: ['Beta Schmidt', 'Delta / Partner', 'Gamma GmbH', 'epsilon kg'],
  },
  {
    label: 'in',
    where: [{ type: 'in', attribute: 'syncStatus', value: ['clean', 'dirty'] }],
    names: ['Alpha Müller', 'Beta Schmidt'],
  },
  {
    label: 'notIn',
    where: [{ type: 'notIn', attribute: 'syncStatus', value: ['clean', 'dirty'] }],
    names: ['Delta / Partner', 'Gamma GmbH', 'epsilon kg'],
  },
  {
    label: 'isNull',
    where: [{ type: 'isNull', attribute: 'advowareId' }],
    names: ['Gamma GmbH', 'epsilon kg'],
  },
  {
    label: 'isNotNull',
    where: [{ type: 'isNotNull', attribute: 'advowareId' }],
    names: ['Alpha Müller', 'Beta Schmidt', 'Delta / Partner'],
  },
  {
    label: 'isTrue',
    where: [{ type: 'isTrue', attribute: 'emailAddressIsOptedOut' }],
    names: ['Gamma GmbH'],
  },
  {
    label: 'isFalse (NULL excluded)',
    where: [{ type: 'isFalse', attribute: 'emailAddressIsOptedOut' }],
    names: ['Alpha Müller'],
  },
  {
    label: 'after is strict',
    where: [{ type: 'after', attribute: 'advowareLastSync', value: '2025-03-01 10:00:00' }],
    names: ['Beta Schmidt', 'Delta / Partner'],
  },
  {
    label: 'before is strict',
    where: [{ type: 'before', attribute: 'advowareLastSync', value: '2025-03-02 10:00:00' }],
    names: ['Alpha Müller'],
  },
  {
    label: 'between is inclusive',
    where: [
      {
        type: 'between',
        attribute: 'advowareLastSync',
        value: ['2025-03-01 10:00:00', '2025-03-02 10:00:00'],
      },
    ],
    names: ['Alpha Müller', 'Beta Schmidt'],
  },
  {
    label: 'greaterThan',
    where: [{ type: 'greaterThan', attribute: 'syncRetryCount', value: 1 }],
    names: ['Delta / Partner', 'Gamma GmbH'],
  },
  {
    label: 'greaterThanOrEquals',
    where: [{ type: 'greaterThanOrEquals', attribute: 'syncRetryCount', value: 1 }],
    names: ['Beta Schmidt', 'Delta / Partner', 'Gamma GmbH'],
  },
  {
    label: 'lessThan',
    where: [{ type: 'lessThan', attribute: 'syncRetryCount', value: 1 }],
    names: ['Alpha Müller'],
  },
  {
    label: 'lessThanOrEquals',
    where: [{ type: 'lessThanOrEquals', attribute: 'syncRetryCount', value: 1 }],
    names: ['Alpha Müller', 'Beta Schmidt'],
  },
  {
    label: 'contains',
    where: [{ type: 'contains', attribute: 'name', value: 'TA' }],
    names: ['Beta Schmidt', 'Delta / Partner'],
  },
  {
    label: 'notContains',
    where: [{ type: 'notContains', attribute: 'name', value: 'ta' }],
    names: ['Alpha Müller', 'Gamma GmbH', 'epsilon kg'],
  },
  {
    label: 'startsWith',
    where: [{ type: 'startsWith', attribute: 'name', value: 'E' }],
    names: ['epsilon kg'],
  },
  {
    label: 'endsWith',
    where: [{ type: 'endsWith', attribute: 'name', value: 'gmbh' }],
    names: ['Gamma GmbH'],
  },
  { label: 'like', where: [{ type: 'like', attribute: 'name', value: '%/%' }], names: ['Delta / Partner'] },
  {
    label: 'like folds accents',
    where: [{ type: 'like', attribute: 'name', value: '%muller' }],
    names: ['Alpha Müller'],
  },
  {
    label: 'emailAddress matches any address',
    where: [{ type: 'equals', attribute: 'emailAddress', value: 'a2@x.example' }],
    names: ['Alpha Müller'],
  },
  {
    label: 'or',
    where: [
      {
        type: 'or',
        value: [
          { type: 'equals', attribute: 'syncStatus', value: 'clean' },
          { type: 'isNull', attribute: 'advowareId' },
        ],
      },
    ],
    names: ['Alpha Müller', 'Gamma GmbH', 'epsilon kg'],
  },
  {
    label: 'and with a nested or',
    where: [
      {
        type: 'and',
        value: [
          { type: 'isNotNull', attribute: 'advowareId' },
          {
            type: 'or',
            value: [
              { type: 'greaterThan', attribute: 'syncRetryCount', value: 2 },
              { type: 'equals', field: 'syncStatus', value: 'dirty' },
            ],
          },
        ],
      },
    ],
    names: ['Beta Schmidt', 'Delta / Partner'],
  },
  {
    label: 'not',
    where: [{ type: 'not', value: [{ type: 'in', attribute: 'syncStatus', value: ['clean', 'dirty'] }] }],
    names: ['Delta / Partner', 'Gamma GmbH', 'epsilon kg'],
  },
  {
    label: 'several top-level items are an and',
    where: [
      { type: 'isNotNull', attribute: 'advowareId' },
      { type: 'lessThan', attribute: 'syncRetryCount', value: 5 },
    ],
    names: ['Alpha Müller', 'Beta Schmidt'],
  },
];

const names = (list: ListBody) =>
  list.list.map((record) => String(record.name)).sort((a, b) => a.localeCompare(b));

/** Adds the fixture records to a fresh simulator. */
async function seedFixture(sim: EspoCrmSimulator): Promise<void> {
  const seeded = await admin(sim, 'POST', 'seed', { records: { CBeteiligte: FIXTURE } });
  assert.equal(seeded.status, 200, seeded.text);
}

/** Asserts that `where` selects `expected` in the bracket encoding and in the searchParams JSON. */
async function expectNames(sim: EspoCrmSimulator, where: Where, expected: readonly string[]): Promise<void> {
  const bracket = await api(sim, 'GET', `/CBeteiligte?${phpQuery('where', where)}`);
  assert.equal(bracket.status, 200, `${bracket.headers.get('x-status-reason')}`);
  assert.deepEqual(
    names(body<ListBody>(bracket)),
    [...expected].sort((a, b) => a.localeCompare(b)),
  );
  const json = await api(
    sim,
    'GET',
    `/CBeteiligte?searchParams=${encodeURIComponent(JSON.stringify({ where }))}`,
  );
  assert.equal(json.status, 200, `${json.headers.get('x-status-reason')}`);
  assert.deepEqual(names(body<ListBody>(json)), names(body<ListBody>(bracket)));
  assert.equal(body<ListBody>(json).total, expected.length);
}

describe('EspoCRM simulator: list filters', () => {
  const sim = suiteSimulator({ seed: false }, seedFixture);

  for (const { label, where, names: expected } of CASES)
    test(`${label}: bracket encoding and searchParams JSON agree`, () => expectNames(sim, where, expected));

  test('searchParams makes every other parameter ignored', async () => {
    const where = [{ type: 'equals', attribute: 'syncStatus', value: 'clean' }];
    const res = await api(
      sim,
      'GET',
      `/CBeteiligte?maxSize=1&${phpQuery('where', where)}&searchParams=${encodeURIComponent('{}')}`,
    );
    assert.equal(body<ListBody>(res).total, FIXTURE.length);
    assert.equal(body<ListBody>(res).list.length, FIXTURE.length);
  });

  const malformed: { readonly where: unknown; readonly reason: string }[] = [
    { where: [{ attribute: 'name', value: 'x' }], reason: "No 'type' in where item." },
    {
      where: [{ type: 'equals', attribute: 'name', value: 'x', op: 'y' }],
      reason: "Unknown parameter 'op'.",
    },
    { where: [{ type: 'equals', value: 'x' }], reason: "No 'attribute' in where item." },
    { where: [{ type: 'in', attribute: 'syncStatus', value: 'clean' }], reason: "Bad where item 'in'." },
    {
      where: [{ type: 'between', attribute: 'syncRetryCount', value: [1] }],
      reason: "Bad where item 'between'.",
    },
    {
      where: [{ type: 'whatever', attribute: 'name', value: 'x' }],
      reason: "Unknown where item type 'whatever'.",
    },
  ];
  for (const { where, reason } of malformed)
    test(`400 "${reason}" in both encodings`, async () => {
      for (const query of [
        phpQuery('where', where),
        `searchParams=${encodeURIComponent(JSON.stringify({ where }))}`,
      ]) {
        const res = await api(sim, 'GET', `/CBeteiligte?${query}`);
        assert.equal(res.status, 400);
        assert.equal(res.headers.get('x-status-reason'), reason);
        assert.equal(res.text, '');
      }
    });

  test('nested items without keys 0..n-1 are 400 "Bad \'value\'."', async () => {
    const gaps =
      'where[0][type]=or&where[0][value][0][type]=isNull&where[0][value][0][attribute]=advowareId' +
      '&where[0][value][2][type]=isNull&where[0][value][2][attribute]=advowareRowId';
    const res = await api(sim, 'GET', `/CBeteiligte?${gaps}`);
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('x-status-reason'), "Bad 'value'.");
  });

  test('bad search parameters: order, JSON, select and maxSize types', async () => {
    const reasons = async (query: string) => {
      const res = await api(sim, 'GET', `/CBeteiligte?${query}`);
      return [res.status, res.headers.get('x-status-reason')];
    };
    assert.deepEqual(await reasons('order=sideways'), [400, 'order value is bad.']);
    assert.deepEqual(await reasons('searchParams=%7Bnot-json'), [400, 'Invalid search params JSON.']);
    assert.deepEqual(await reasons(`searchParams=${encodeURIComponent('{"select":"name"}')}`), [
      400,
      'select should be array.',
    ]);
    assert.deepEqual(await reasons(`searchParams=${encodeURIComponent('{"maxSize":"5"}')}`), [
      400,
      'maxSize must be integer.',
    ]);
    assert.deepEqual(await reasons(`searchParams=${encodeURIComponent('{"where":"x"}')}`), [
      400,
      'where should be array.',
    ]);
  });

  test('orderBy, order and select', async () => {
    const res = body<ListBody>(
      await api(sim, 'GET', '/CBeteiligte?orderBy=syncRetryCount&order=desc&select=name,syncRetryCount'),
    );
    assert.deepEqual(
      res.list.map((record) => record.syncRetryCount),
      [5, 3, 1, 0, null],
    );
    assert.deepEqual(Object.keys(res.list[0] ?? {}), ['id', 'name', 'syncRetryCount']);
    const json = body<ListBody>(
      await api(
        sim,
        'GET',
        `/CBeteiligte?searchParams=${encodeURIComponent(JSON.stringify({ orderBy: 'name', order: 'asc', select: ['name'] }))}`,
      ),
    );
    assert.deepEqual(
      json.list.map((record) => record.name),
      ['Alpha Müller', 'Beta Schmidt', 'Delta / Partner', 'epsilon kg', 'Gamma GmbH'],
    );
  });

  test('list rows leave out emailAddressData unless selected (quirk switches it)', async () => {
    const plain = body<ListBody>(await api(sim, 'GET', '/CBeteiligte?maxSize=1'));
    assert.equal('emailAddressData' in (plain.list[0] ?? {}), false);
    assert.equal('emailAddress' in (plain.list[0] ?? {}), true);
    const selected = body<ListBody>(await api(sim, 'GET', '/CBeteiligte?maxSize=1&select=emailAddressData'));
    assert.equal('emailAddressData' in (selected.list[0] ?? {}), true);
    await admin(sim, 'POST', 'quirks', { listIncludesCommunicationData: true });
    const full = body<ListBody>(await api(sim, 'GET', '/CBeteiligte?maxSize=1'));
    assert.equal('phoneNumberData' in (full.list[0] ?? {}), true);
    await admin(sim, 'POST', 'quirks', { listIncludesCommunicationData: false });
  });
});

describe('EspoCRM simulator: paging and totals', () => {
  const sim = suiteSimulator({ seed: false }, async (started) => {
    const accounts = Array.from({ length: 1000 }, (_, index) => ({
      name: `Firma ${String(index).padStart(4, '0')}`,
    }));
    assert.equal((await admin(started, 'POST', 'seed', { records: { Account: accounts } })).status, 200);
  });

  test('maxSize 200 is allowed, 201 is 403 with the vendor reason', async () => {
    assert.equal(body<ListBody>(await api(sim, 'GET', '/Account?maxSize=200')).list.length, 200);
    assert.equal(
      body<ListBody>(await api(sim, 'GET', '/Account')).list.length,
      200,
      'the default is the cap',
    );
    const over = await api(sim, 'GET', '/Account?maxSize=201');
    assert.equal(over.status, 403);
    assert.equal(
      over.headers.get('x-status-reason'),
      'Max size should not exceed 200. Use offset and limit.',
    );
    assert.equal(over.text, '');
    const json = await api(sim, 'GET', `/Account?searchParams=${encodeURIComponent('{"maxSize":500}')}`);
    assert.equal(json.status, 403);
  });

  test('paging through 1,000 records at 200 per page sees each exactly once', async () => {
    const seen = new Set<string>();
    for (let offset = 0; offset < 1000; offset += 200) {
      const page = body<ListBody>(await api(sim, 'GET', `/Account?offset=${offset}&maxSize=200&select=name`));
      assert.equal(page.total, 1000);
      assert.equal(page.list.length, 200);
      for (const record of page.list) seen.add(record.id);
    }
    assert.equal(seen.size, 1000);
    const beyond = body<ListBody>(await api(sim, 'GET', '/Account?offset=1000&maxSize=200'));
    assert.deepEqual(beyond, { total: 1000, list: [] });
  });

  test('X-No-Total gives -1 while more records follow and -2 on the last page', async () => {
    const headers = { 'X-No-Total': 'true' };
    assert.equal(
      body<ListBody>(await api(sim, 'GET', '/Account?offset=0&maxSize=200', { headers })).total,
      -1,
    );
    assert.equal(
      body<ListBody>(await api(sim, 'GET', '/Account?offset=799&maxSize=200', { headers })).total,
      -1,
    );
    assert.equal(
      body<ListBody>(await api(sim, 'GET', '/Account?offset=800&maxSize=200', { headers })).total,
      -2,
    );
    assert.equal(
      body<ListBody>(await api(sim, 'GET', '/Account?q=Firma%2009&maxSize=5')).total,
      -1,
      'q skips the count',
    );
    await admin(sim, 'POST', 'quirks', { countDisabled: { Account: true } });
    assert.equal(body<ListBody>(await api(sim, 'GET', '/Account?offset=900&maxSize=200')).total, -2);
    await admin(sim, 'POST', 'quirks', { countDisabled: { Account: false } });
    assert.equal(body<ListBody>(await api(sim, 'GET', '/Account?offset=900&maxSize=200')).total, 1000);
  });
});

describe('EspoCRM simulator: date filters', () => {
  const sim = suiteSimulator(
    { seed: false, clock: new ManualClock(Date.UTC(2025, 2, 2, 12, 0, 0)) },
    seedFixture,
  );

  const attribute = 'advowareLastSync';
  test('dateTime: true turns a date into the whole day, in UTC or the given time zone', async () => {
    await expectNames(
      sim,
      [{ type: 'on', attribute, value: '2025-03-02', dateTime: true }],
      ['Beta Schmidt'],
    );
    await expectNames(
      sim,
      [{ type: 'on', attribute, value: '2025-03-02', dateTime: true, timeZone: 'America/New_York' }],
      ['Beta Schmidt', 'Delta / Partner'],
    );
    await expectNames(
      sim,
      [{ type: 'after', attribute, value: '2025-03-01', dateTime: true }],
      ['Beta Schmidt', 'Delta / Partner'],
    );
    await expectNames(
      sim,
      [{ type: 'before', attribute, value: '2025-03-02', dateTime: true }],
      ['Alpha Müller'],
    );
    await expectNames(
      sim,
      [{ type: 'between', attribute, value: ['2025-03-01', '2025-03-02'], dateTime: true }],
      ['Alpha Müller', 'Beta Schmidt'],
    );
  });

  test('relative types compare with the clock', async () => {
    await expectNames(sim, [{ type: 'today', attribute, dateTime: true }], ['Beta Schmidt']);
    await expectNames(sim, [{ type: 'past', attribute, dateTime: true }], ['Alpha Müller', 'Beta Schmidt']);
    await expectNames(sim, [{ type: 'future', attribute, dateTime: true }], ['Delta / Partner']);
    await expectNames(
      sim,
      [{ type: 'lastXDays', attribute, value: 1, dateTime: true }],
      ['Alpha Müller', 'Beta Schmidt'],
    );
    await expectNames(
      sim,
      [{ type: 'olderThanXDays', attribute, value: 0, dateTime: true }],
      ['Alpha Müller'],
    );
    const recent = body<ListBody>(
      await api(
        sim,
        'GET',
        `/CBeteiligte?${phpQuery('where', [{ type: 'lastSevenDays', attribute: 'createdAt', dateTime: true }])}`,
      ),
    );
    assert.equal(recent.total, FIXTURE.length);
  });
});
