/**
 * Archive/OData lists of the SuperOffice simulator over HTTP: the envelope, $select (case-insensitive,
 * related and UDF columns), every $filter operator, $orderBy, and paging through odata.nextLink.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { SuperOfficeSimulator } from '../../../src/simulators/superoffice/index.ts';
import { startSuperOfficeSimulator } from '../../../src/simulators/superoffice/index.ts';
import type { WebhookHub } from '../../../src/simulators/superoffice/webhooks.ts';
import { simulatorAccessToken } from '../../../src/sandbox/simulator-http.ts';

/** An archive row. */
type Row = Record<string, string | number | boolean | null>;

/** The archive envelope (or an error body, which has Message). */
interface Page {
  'odata.metadata': string;
  'odata.nextLink': string | null;
  value: Row[];
  Message: string;
}

/** The archive does not touch the hub; this stand-in only satisfies the simulator. */
const silentHub = {
  registerRoutes() {},
  emit() {},
  setQuirks() {},
  deliveries: () => [],
  idle: async () => {},
  reset() {},
  toJSON: () => ({}),
  load() {},
  close: async () => {},
} as unknown as WebhookHub;

describe('archive queries', () => {
  let sim: SuperOfficeSimulator;
  let token: string;
  before(async () => {
    sim = await startSuperOfficeSimulator({ createHub: () => silentHub, archivePageSize: 25 });
    token = await simulatorAccessToken(sim);
  });
  after(() => sim.close());

  async function get(path: string, params: Record<string, string> = {}) {
    const url = path.startsWith('http')
      ? path
      : `${sim.tenantUrl}/api/v1/${path}?${new URLSearchParams(params).toString()}`;
    const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    return { status: response.status, body: (await response.json()) as Page };
  }
  /** Every row of a query, following odata.nextLink. */
  const rows = async (path: string, filter: string, select = 'contactId,name') => {
    let page = await get(path, { $select: select, $filter: filter });
    const all: Row[] = [...page.body.value];
    while (page.body['odata.nextLink'] !== null) {
      page = await get(page.body['odata.nextLink']);
      all.push(...page.body.value);
    }
    return all;
  };

  test('envelope and row shape: PrimaryKey, EntityName, then camelCase columns; dates without offset', async () => {
    const { status, body } = await get('Contact', {
      $select: 'ContactID,Name,associate/associateId,Associate,updatedDate,contactUdef/SuperOffice:83',
      $top: '2',
    });
    assert.equal(status, 200);
    assert.deepEqual(Object.keys(body), ['odata.metadata', 'odata.nextLink', 'value']);
    assert.equal(body['odata.nextLink'], null);
    const row = body.value[0] ?? {};
    assert.deepEqual(Object.keys(row), [
      'PrimaryKey',
      'EntityName',
      'contactId',
      'name',
      'associate/associateId',
      'associate',
      'updatedDate',
      'contactUdef/SuperOffice:83',
    ]);
    assert.equal(row.EntityName, 'contact');
    assert.equal(row.PrimaryKey, row.contactId);
    assert.match(String(row.updatedDate), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    assert.match(String(row.associate), /^[A-Z]{4}$/);
    const unknown = await get('Contact', { $select: 'nope' });
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.Message, /nope/);
  });

  test('each filter operator', async () => {
    const all = await rows('Contact', '', 'contactId,name,associateId,updatedDate,orgNr');
    const count = (predicate: (row: Row) => boolean) => all.filter(predicate).length;
    assert.equal(all.length, 30);
    assert.equal((await rows('Contact', 'contactId eq 5')).length, 1);
    assert.equal((await rows('Contact', 'contactId ne 5')).length, 29);
    assert.equal((await rows('Contact', 'contactId lt 5')).length, 4);
    assert.equal((await rows('Contact', 'contactId le 5')).length, 5);
    assert.equal((await rows('Contact', 'contactId gt 25')).length, 5);
    assert.equal((await rows('Contact', 'contactId ge 25')).length, 6);
    assert.deepEqual(
      (await rows('Contact', "name begins 'bremer'")).map((row) => row.contactId),
      [1],
    );
    assert.deepEqual(
      (await rows('Contact', "startswith(name,'Hanse')")).map((row) => row.contactId),
      [2],
    );
    assert.equal((await rows('Contact', "name contains 'logistik'")).length, 1);
    const pivot = String(all[10]?.updatedDate);
    assert.equal(
      (await rows('Contact', `updatedDate afterTime '${pivot}'`)).length,
      count((row) => String(row.updatedDate) > pivot),
    );
    assert.equal(
      (await rows('Contact', `updatedDate beforeTime '${pivot}'`)).length,
      count((row) => String(row.updatedDate) < pivot),
    );
    assert.equal(
      (await rows('Contact', 'orgNr set')).length,
      count((row) => row.orgNr !== ''),
    );
    assert.equal(
      (await rows('Contact', "associateId eq 485 and name contains 'a'")).length,
      count((row) => row.associateId === 485 && /a/i.test(String(row.name))),
    );
    assert.deepEqual(await rows('Contact', "name eq 'O''Brien'"), []);
    const unknownOperator = await get('Contact', { $filter: 'contactId like 5' });
    assert.equal(unknownOperator.status, 400);
    assert.match(unknownOperator.body.Message, /unknown operator "like"/);
    assert.equal((await get('Contact', { $filter: "name eq 'open" })).status, 400);
  });

  test('sales via FindSale columns: sales without a company have contactId 0', async () => {
    const sales = await rows(
      'Archive/FindSale',
      '',
      'saleId,heading,amount,status,saleDate,contactId,contact,associateId,updatedDate',
    );
    assert.equal(sales.length, 120);
    assert.ok(sales.some((sale) => sale.contactId === 0 && sale.contact === ''));
    const withCompany = await rows('Sale', 'contactId ne 0', 'saleId');
    assert.equal(withCompany.length, sales.filter((sale) => sale.contactId !== 0).length);
    const omnie = await rows('Sale', "heading contains 'omnie'", 'saleId,heading');
    assert.ok(omnie.length > 0 && omnie.every((sale) => /omnie/i.test(String(sale.heading))));
    assert.equal((await get('Archive/NoSuchProvider')).status, 400);
  });

  test('$orderBy and paging through odata.nextLink across several pages', async () => {
    const ordered = (await get('Contact', { $select: 'contactId,name', $orderBy: 'name desc', $top: '5' }))
      .body.value;
    const names = ordered.map((row) => String(row.name));
    assert.deepEqual(names, [...names].sort().reverse());
    const seen: number[] = [];
    let page = await get('Sale', { $select: 'saleId', $orderBy: 'saleId' });
    let pages = 1;
    for (;;) {
      seen.push(...page.body.value.map((row) => Number(row.saleId)));
      const next = page.body['odata.nextLink'];
      if (next === null) break;
      assert.match(next, /^http:\/\/.+\$skip=\d+/);
      page = await get(next);
      pages++;
    }
    assert.equal(pages, 5);
    assert.deepEqual(
      seen,
      Array.from({ length: 120 }, (_, index) => index + 1),
    );
    const limited = await get('Sale', { $select: 'saleId', $top: '30', $skip: '10' });
    assert.equal(limited.body.value.length, 25);
    const rest = await get(limited.body['odata.nextLink'] ?? '');
    assert.equal(rest.body.value.length, 5);
    assert.equal(rest.body['odata.nextLink'], null);
  });
});
