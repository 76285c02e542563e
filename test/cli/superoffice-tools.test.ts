/**
 * `crmsync superoffice whoami|discover|raw|counts|products|create-test-company|cleanup` against the SuperOffice
 * simulator over HTTP, through the real program (config file, SQLite store), including the error cases.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { useToolsWorld } from './superoffice-tools-support.ts';

describe('crmsync superoffice: errors common to the tools', () => {
  const world = useToolsWorld();

  it('an unknown connection exits 2 and names the known ones', async () => {
    const result = await world().run(['superoffice', 'whoami', 'nope']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /No connection "nope".*known: so, plain/);
  });

  it('a connection of another connector kind exits 2', async () => {
    for (const args of [
      ['superoffice', 'products', 'plain'],
      ['superoffice', 'counts', 'plain', 'Contact'],
      ['report', 'products', 'plain'],
    ]) {
      const result = await world().run(args);
      assert.equal(result.code, 2, args.join(' '));
      assert.match(result.stderr, /uses the generic connector; this command needs a superoffice connection/);
    }
  });

  it('every tool has --help', async () => {
    for (const tool of [
      'whoami',
      'discover',
      'raw',
      'counts',
      'products',
      'verify',
      'latest',
      'create-test-company',
      'cleanup',
    ]) {
      const result = await world().run(['superoffice', tool, '--help']);
      assert.equal(result.code, 0, tool);
      assert.match(result.stdout, new RegExp(`Usage: crmsync superoffice ${tool}`));
    }
    assert.match((await world().run(['report', 'products', '--help'])).stdout, /MatchedKeywords/);
  });
});

describe('crmsync superoffice whoami', () => {
  const world = useToolsWorld({ seed: false, connectionExtras: 'apiAssociateId: 999, maxRetries: 0,' });

  it('names the API user from User/currentPrincipal and warns when the configured id disagrees', async () => {
    const text = await world().run(['superoffice', 'whoami', 'so']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^associate 528 CRMSYNC \(crmsync API\), from User\/currentPrincipal\n/);
    assert.match(text.stdout, /id_token associateid: +528/);
    assert.match(text.stdout, /config apiAssociateId: +999/);
    assert.match(
      text.stdout,
      /warning: The config says associate 999, but User\/currentPrincipal says 528\./,
    );
    assert.match(text.stdout, /warning: Echo detection uses 999, not 528/);

    const json = JSON.parse((await world().run(['superoffice', 'whoami', 'so', '--json'])).stdout) as {
      associateId: number;
      source: string;
      name: string;
      bySource: Record<string, number | null>;
      usedForEchoDetection: number;
    };
    assert.equal(json.associateId, 528);
    assert.equal(json.source, 'User/currentPrincipal');
    assert.equal(json.name, 'CRMSYNC');
    assert.deepEqual(json.bySource, { 'User/currentPrincipal': 528, id_token: 528, config: 999 });
    assert.equal(json.usedForEchoDetection, 999);
  });

  it('falls back to the id_token when User/currentPrincipal fails', async () => {
    await world().admin('POST', 'faults', {
      status5xx: { routes: ['GET /{ctx}/api/v1/User/currentPrincipal'], status: 500 },
    });
    try {
      const json = JSON.parse((await world().run(['superoffice', 'whoami', 'so', '--json'])).stdout) as {
        associateId: number;
        source: string;
        principalError: string;
      };
      assert.equal(json.associateId, 528);
      assert.equal(json.source, 'id_token');
      assert.match(json.principalError, /answered 500/);
    } finally {
      await world().admin('DELETE', 'faults');
    }
  });
});

describe('crmsync superoffice discover and products', () => {
  const world = useToolsWorld({ seed: false });

  it('lists every user-defined field and the items of the lists in use', async () => {
    const result = await world().run(['superoffice', 'discover', 'so', '--json', '--lists', 'SaleType']);
    assert.equal(result.code, 0, result.stderr);
    const discovery = JSON.parse(result.stdout) as {
      fields: {
        owner: string;
        progId: string;
        fieldId: number;
        label: string;
        type: string;
        listName: string;
      }[];
      lists: {
        name: string;
        usedBy: string[];
        items: { id: number; name: string; deleted: boolean }[] | null;
        notFoundAs: string[];
      }[];
    };
    const vertical = discovery.fields.find((field) => field.owner === 'Contact' && field.fieldId === 83);
    assert.deepEqual(vertical, {
      owner: 'Contact',
      fieldId: 83,
      progId: 'SuperOffice:83',
      label: 'Vertical',
      type: 'List',
      listDefinitionId: 331,
      listName: 'udlist331',
    });
    assert.deepEqual(
      discovery.fields.map((field) => `${field.owner} ${field.progId}`),
      [83, 84, 85, 86, 87, 88]
        .map((id) => `Contact SuperOffice:${id}`)
        .concat(['Person SuperOffice:91', 'Person SuperOffice:92', 'Sale SuperOffice:95']),
    );
    const verticalList = discovery.lists.find((list) => list.name === 'udlist331');
    assert.deepEqual(verticalList?.usedBy, ['Contact SuperOffice:83', 'Person SuperOffice:92']);
    assert.deepEqual(verticalList?.items?.[0], {
      id: 1613,
      name: 'Leisure & Tourism',
      tooltip: '',
      deleted: false,
    });
    assert.ok(
      verticalList?.items?.some((item) => item.deleted),
      'deleted items are shown too',
    );
    assert.deepEqual(
      discovery.lists.map((list) => list.name),
      ['udlist331', 'Category', 'Business', 'Position', 'ProductFamily', 'SaleType'],
    );
    const missing = discovery.lists.find((list) => list.name === 'SaleType');
    assert.deepEqual(missing, { name: 'SaleType', usedBy: [], items: null, notFoundAs: ['SaleType'] });

    const text = await world().run(['superoffice', 'discover', 'so']);
    assert.match(text.stdout, /^User-defined fields\nOWNER +PROGID +FIELD ID +LABEL +TYPE +LIST\n/);
    assert.match(text.stdout, /Contact +SuperOffice:83 +83 +Vertical +List +udlist331/);
    assert.match(text.stdout, /List udlist331 \(used by Contact SuperOffice:83, Person SuperOffice:92\)/);
    assert.match(text.stdout, /1640 +Other \(old\) +deleted/);
  });

  it('products lists the ProductFamily items', async () => {
    const json = JSON.parse((await world().run(['superoffice', 'products', 'so', '--json'])).stdout) as {
      id: number;
      name: string;
    }[];
    assert.deepEqual(
      json.map((item) => [item.id, item.name]),
      [
        [1, 'OMNIE'],
        [2, 'CD-01'],
        [3, 'Service'],
        [4, 'Zubehör'],
        [5, 'Software'],
      ],
    );
    const text = await world().run(['superoffice', 'products', 'so']);
    assert.equal(text.code, 0);
    assert.match(text.stdout, /^ID +NAME +TOOLTIP +DELETED\n1 +OMNIE +- +-\n/);
  });
});

describe('crmsync superoffice raw', () => {
  const world = useToolsWorld();

  it('prints the status line and the pretty-printed body, for every spelling of the path', async () => {
    for (const path of [
      'Contact/1',
      'v1/Contact/1',
      '/api/v1/Contact/1',
      'http://elsewhere.example/x/api/v1/Contact/1',
    ]) {
      const result = await world().run(['superoffice', 'raw', 'so', 'GET', path]);
      assert.equal(result.code, 0, `${path}: ${result.stderr}`);
      assert.match(result.stdout, /^HTTP 200 OK\n\n\{\n {2}"ContactId": 1,\n/, path);
    }
  });

  it('prints a vendor error as received and exits 1', async () => {
    const result = await world().run(['superoffice', 'raw', 'so', 'get', 'Contact/999999', '--headers']);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /^HTTP 404 Not Found\n/);
    assert.match(result.stdout, /\ncontent-type: application\/json/);
    assert.match(result.stdout, /\n\{\n {2}"Error": true,\n.*"Message": "contact 999999 does not exist\.",/s);
  });

  it('sends --data, and --out keeps the body bytes exactly', async () => {
    const out = join(world().temp.path, 'raw.json');
    const result = await world().run([
      'superoffice',
      'raw',
      'so',
      'PATCH',
      'Contact/2',
      '--data',
      '{"Department":"Einkauf"}',
      '--out',
      out,
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /"Department": "Einkauf"/);
    const saved = readFileSync(out, 'utf8');
    assert.equal(saved.includes('\n'), false, 'the vendor sends compact JSON; the file holds it unchanged');
    assert.equal((JSON.parse(saved) as { Department: string }).Department, 'Einkauf');
    const contact = (await world().tenant()).contacts.find((candidate) => candidate.contactId === 2);
    assert.equal(contact?.department, 'Einkauf');
  });

  it('refuses bad input with exit 2 before calling the vendor', async () => {
    const badJson = await world().run(['superoffice', 'raw', 'so', 'POST', 'Contact', '--data', '{Name: x}']);
    assert.equal(badJson.code, 2);
    assert.match(badJson.stderr, /--data is not valid JSON/);
    const badMethod = await world().run(['superoffice', 'raw', 'so', 'FETCH', 'Contact/1']);
    assert.equal(badMethod.code, 2);
    assert.match(badMethod.stderr, /Unknown HTTP method "FETCH"; use one of GET, POST, PUT, PATCH, DELETE/);
    const badPath = await world().run(['superoffice', 'raw', 'so', 'GET', 'https://evil.example/steal']);
    assert.equal(badPath.code, 2);
    assert.match(badPath.stderr, /not a WebAPI URL/);
  });
});

describe('crmsync superoffice counts', () => {
  const world = useToolsWorld();
  before(async () => {
    // Small pages, so counting has to follow odata.nextLink.
    await world().admin('POST', 'quirks', { archivePageSize: 7 });
  });

  it('counts the records matching a filter across pages', async () => {
    const tenant = await world().tenant();
    const owned = tenant.contacts.filter((contact) => contact.associateId === 485).length;
    assert.ok(owned > 7, 'the seed gives 485 more than one page of contacts');
    const text = await world().run(['superoffice', 'counts', 'so', 'contact', 'associateId eq 485']);
    assert.equal(text.code, 0, text.stderr);
    assert.equal(text.stdout, `Contact where associateId eq 485: ${owned}\n`);
    const json = JSON.parse(
      (await world().run(['superoffice', 'counts', 'so', 'Sale', '--json'])).stdout,
    ) as unknown;
    assert.deepEqual(json, { entity: 'Sale', filter: null, count: tenant.sales.length });
  });

  it('a bad entity or a filter the vendor refuses exits 2', async () => {
    const entity = await world().run(['superoffice', 'counts', 'so', 'Project']);
    assert.equal(entity.code, 2);
    assert.match(entity.stderr, /Unknown entity "Project"; use one of Contact, Person, Sale/);
    const filter = await world().run(['superoffice', 'counts', 'so', 'Contact', 'owner eq 485']);
    assert.equal(filter.code, 2);
    assert.match(
      filter.stderr,
      /SuperOffice refused the filter "owner eq 485" for Contact: .*unknown column "owner"/,
    );
  });
});

describe('crmsync superoffice create-test-company and cleanup', () => {
  const world = useToolsWorld();

  it('deletes exactly the companies it created that still carry the marker', async () => {
    const before = await world().tenant();
    const created = await world().run(['superoffice', 'create-test-company', 'so']);
    assert.equal(created.code, 0, created.stderr);
    const first = created.stdout.trim();
    assert.match(first, /^\d+$/);
    assert.match(created.stderr, /created test company Contact \d+ "Bremer Abenteuerland"/);
    const second = JSON.parse(
      (
        await world().run([
          'superoffice',
          'create-test-company',
          'so',
          'Zweite Testfirma',
          '--owner',
          '485',
          '--json',
        ])
      ).stdout,
    ) as { id: string; name: string };
    const third = (
      await world().run(['superoffice', 'create-test-company', 'so', 'Dritte Testfirma'])
    ).stdout.trim();
    const afterCreate = await world().tenant();
    const firstRecord = afterCreate.contacts.find((contact) => String(contact.contactId) === first);
    assert.equal(firstRecord?.name, 'Bremer Abenteuerland');
    assert.equal(firstRecord?.department, 'crmsync test data');
    assert.equal(
      afterCreate.contacts.find((contact) => String(contact.contactId) === second.id)?.associateId,
      485,
    );

    // A person takes over the second company; a human deletes the third; a human copies the marker by hand.
    await world().admin('POST', `act/RKAB/Contact/${second.id}`, { Department: 'Vertrieb' });
    await world().admin('DELETE', `act/RKAB/Contact/${third}`);
    const lookalike = (
      await world().admin('POST', 'act/RKAB/Contact', {
        Name: 'Bremer Abenteuerland',
        Department: 'crmsync test data',
      })
    )['id'] as number;

    const dryRun = await world().run(['superoffice', 'cleanup', 'so', '--dry-run']);
    assert.equal(dryRun.code, 0, dryRun.stderr);
    assert.match(dryRun.stdout, new RegExp(`^would delete Contact ${first} "Bremer Abenteuerland"\n`));
    assert.match(
      dryRun.stdout,
      new RegExp(`kept Contact ${second.id} "Zweite Testfirma": its Department is "Vertrieb"`),
    );
    assert.match(dryRun.stdout, new RegExp(`Contact ${third} no longer exists\n`));
    assert.match(dryRun.stdout, /Dry run: 1 would delete, 1 kept, 1 already gone\.\n$/);
    assert.ok(
      (await world().tenant()).contacts.some((contact) => String(contact.contactId) === first),
      'a dry run deletes nothing',
    );

    const cleanup = await world().run(['superoffice', 'cleanup', 'so']);
    assert.equal(cleanup.code, 0, cleanup.stderr);
    assert.match(cleanup.stdout, new RegExp(`^deleted Contact ${first} "Bremer Abenteuerland"\n`));
    assert.match(cleanup.stdout, /1 deleted, 1 kept, 1 already gone\.\n$/);

    const remaining = new Set((await world().tenant()).contacts.map((contact) => contact.contactId));
    const expected = new Set([
      ...before.contacts.map((contact) => contact.contactId),
      Number(second.id),
      lookalike,
    ]);
    assert.deepEqual(
      remaining,
      expected,
      'everything but the one marked and recorded company is still there',
    );

    const again = await world().run(['superoffice', 'cleanup', 'so', '--json']);
    assert.deepEqual(JSON.parse(again.stdout), { dryRun: false, deleted: [], alreadyGone: [], kept: [] });
    assert.equal(
      (await world().run(['superoffice', 'cleanup', 'so'])).stdout,
      'No test companies are recorded for connection "so".\n',
    );
  });

  it('a bad --owner exits 2', async () => {
    const result = await world().run(['superoffice', 'create-test-company', 'so', '--owner', 'RKAB']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--owner: expected a whole number/);
  });
});
