/**
 * The customer product report: the pure module (keyword matching, CSV, the reasons of an empty report, the
 * progress bar) with in-memory sources, and `crmsync report products` against the SuperOffice simulator over
 * HTTP, with data shaped through its admin API.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, it } from 'node:test';
import { progressBar } from '../../src/cli/commands/superoffice-report.ts';
import {
  buildProductReport,
  csvCell,
  explainEmptyReport,
  matchKeywords,
  normaliseKeywords,
  productReportCsv,
} from '../../src/connectors/superoffice/product-report.ts';
import type { ProductReportSource, ReportSale } from '../../src/connectors/superoffice/product-report.ts';
import { useToolsWorld } from './superoffice-tools-support.ts';

const HEADER = 'SaleId,SaleDate,CustomerId,CustomerName,Heading,MatchedKeywords';

function sale(id: number, heading: string, customerId = '7', customerName = 'Hanse Logistik KG'): ReportSale {
  return { saleId: String(id), saleDate: '2024-05-01T09:00:00', customerId, customerName, heading };
}

/** A source over an array; records how often the (costly) count was asked for. */
function arraySource(withContact: readonly ReportSale[], allSales = withContact.length) {
  const calls = { count: 0 };
  const source: ProductReportSource = {
    async *salesWithContact(limit) {
      await Promise.resolve();
      yield* withContact.slice(0, limit);
    },
    countSales(limit) {
      calls.count += 1;
      return Promise.resolve(Math.min(limit, allSales));
    },
  };
  return { source, calls };
}

describe('product report: matching and CSV', () => {
  it('matches keywords case-insensitively, in keyword order, whatever the Unicode form', () => {
    const decomposed = 'Zubehör'.normalize('NFD');
    assert.notEqual(decomposed, 'Zubehör'.normalize('NFC'));
    const keywords = normaliseKeywords([' OMNIE ', 'cd-01', 'omnie', '', decomposed]);
    assert.deepEqual(keywords, ['OMNIE', 'cd-01', decomposed]);
    assert.deepEqual(matchKeywords('2xOmnie CD-01 mit Nachlass', keywords), ['OMNIE', 'cd-01']);
    assert.deepEqual(matchKeywords('ZUBEHÖRPAKET cd-01'.normalize('NFC'), keywords), ['cd-01', decomposed]);
    assert.deepEqual(matchKeywords('Beratung', keywords), []);
  });

  it('writes RFC 4180 CSV and keeps spreadsheet formulas out', () => {
    assert.equal(csvCell('plain'), 'plain');
    assert.equal(csvCell('a, "b"'), '"a, ""b"""');
    assert.equal(csvCell('two\nlines'), '"two\nlines"');
    assert.equal(csvCell('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
    assert.equal(csvCell('-20% Rabatt'), "'-20% Rabatt");
    const csv = productReportCsv([
      {
        ...sale(5, 'OMNIE, CD-01'),
        customerName: 'Müller "Technik" GmbH',
        matchedKeywords: ['OMNIE', 'CD-01'],
      },
    ]);
    assert.equal(csv, `${HEADER}\r\n5,2024-05-01,7,"Müller ""Technik"" GmbH","OMNIE, CD-01",OMNIE;CD-01\r\n`);
    assert.equal(productReportCsv([]), `${HEADER}\r\n`);
  });
});

describe('product report: why it is empty', () => {
  const keywords = ['OMNIE', 'CD-01'];

  it('no sales at all', async () => {
    const { source, calls } = arraySource([], 0);
    const report = await buildProductReport(source, { limit: 1000, keywords });
    assert.deepEqual(report.empty, { kind: 'no-sales' });
    assert.equal(calls.count, 1);
    assert.match(explainEmptyReport(report.empty), /^No sales at all: the tenant returned 0 sales/);
  });

  it('no sale with a contact, below and at the limit', async () => {
    const few = await buildProductReport(arraySource([], 37).source, { limit: 1000, keywords });
    assert.deepEqual(few.empty, { kind: 'no-sales-with-contact', sales: 37, atLimit: false });
    assert.match(explainEmptyReport(few.empty), /^No sales with a contact: 37 sales, 0 with a contact\./);
    const many = await buildProductReport(arraySource([], 5000).source, { limit: 1000, keywords });
    assert.match(
      explainEmptyReport(many.empty!),
      /^No sales with a contact: the latest 1000 sales, 0 with a contact/,
    );
  });

  it('a vendor that ignores the contact filter: rows without contact are skipped and counted', async () => {
    const { source, calls } = arraySource([sale(1, 'OMNIE', '0', ''), sale(2, 'CD-01', '', '')]);
    const report = await buildProductReport(source, { limit: 1000, keywords });
    assert.equal(report.skippedWithoutContact, 2);
    assert.deepEqual(report.empty, { kind: 'no-sales-with-contact', sales: 2, atLimit: false });
    assert.equal(calls.count, 0, 'the rows read already say that there are sales');
  });

  it('no keyword matched, with the keywords tried', async () => {
    const report = await buildProductReport(arraySource([sale(1, 'Beratung'), sale(2, 'Schulung')]).source, {
      limit: 1000,
      keywords,
    });
    assert.deepEqual(report.empty, { kind: 'no-keyword-match', salesWithContact: 2, keywords });
    assert.equal(
      explainEmptyReport(report.empty),
      'No keyword matched: 2 sales with a contact, keywords tried: OMNIE, CD-01. Check the headings (crmsync superoffice raw) and pass --keywords.',
    );
  });

  it('reads at most the limit and reports progress', async () => {
    const progress: [number, number][] = [];
    const sales = [sale(1, 'OMNIE'), sale(2, 'nothing'), sale(3, 'CD-01'), sale(4, 'OMNIE')];
    const report = await buildProductReport(arraySource(sales).source, {
      limit: 3,
      keywords,
      onProgress: (done, total) => progress.push([done, total]),
    });
    assert.deepEqual(
      report.rows.map((row) => [row.saleId, row.matchedKeywords]),
      [
        ['1', ['OMNIE']],
        ['3', ['CD-01']],
      ],
    );
    assert.equal(report.empty, null);
    assert.deepEqual(progress, [
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
    await assert.rejects(
      buildProductReport(arraySource(sales).source, { limit: 3, keywords: [' '] }),
      RangeError,
    );
  });

  it('draws a progress bar on a terminal only', () => {
    const drawn: string[] = [];
    const tty = progressBar({ isTTY: true, write: (text) => drawn.push(text) > 0 }, 'reading sales');
    for (let done = 1; done <= 200; done++) tty.update(done, 200);
    tty.finish();
    assert.equal(drawn.length, 102, 'one redraw per percent from 0 to 100, and the final newline');
    assert.equal(drawn.at(-2), `\rreading sales [${'#'.repeat(30)}] 200/200`);
    assert.equal(drawn.at(-1), '\n');
    const piped: string[] = [];
    const plain = progressBar({ isTTY: false, write: (text) => piped.push(text) > 0 }, 'reading sales');
    plain.update(1, 2);
    plain.finish();
    assert.deepEqual(piped, []);
  });
});

describe('crmsync report products', () => {
  const world = useToolsWorld();

  /** The CSV lines of a report, header first. */
  function lines(csv: string): string[] {
    assert.ok(csv.endsWith('\r\n'), 'CRLF line ends');
    return csv.slice(0, -2).split('\r\n');
  }

  it('writes the latest sales with a contact whose heading names a product family, across pages', async () => {
    await world().admin('POST', 'quirks', { archivePageSize: 7 });
    const out = join(world().temp.path, 'report.csv');
    const result = await world().run(['report', 'products', 'so', '--limit', '30', '--out', out]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, '', 'the CSV went to the file, not stdout');
    assert.match(
      result.stderr,
      new RegExp(
        `^product report: 30 sales with a contact read, \\d+ matched \\(keywords: OMNIE, CD-01, Service, Zubehör, Software\\); CSV written to ${out.replaceAll('.', '\\.')}\\n$`,
      ),
    );

    // The expected report, computed from the tenant itself.
    const tenant = await world().tenant();
    const names = new Map(tenant.contacts.map((contact) => [contact.contactId, contact.name]));
    const keywords = ['OMNIE', 'CD-01', 'Service', 'Zubehör', 'Software'];
    const expected = tenant.sales
      .filter((candidate) => candidate.contactId !== 0)
      .sort((a, b) => b.saledate - a.saledate || b.saleId - a.saleId)
      .slice(0, 30)
      .map((candidate) => ({
        ...candidate,
        matched: keywords.filter((keyword) =>
          candidate.heading.toLowerCase().includes(keyword.toLowerCase()),
        ),
      }))
      .filter((candidate) => candidate.matched.length > 0)
      .map((candidate) =>
        [
          candidate.saleId,
          new Date(candidate.saledate).toISOString().slice(0, 10),
          candidate.contactId,
          csvCell(names.get(candidate.contactId) ?? ''),
          candidate.heading,
          candidate.matched.join(';'),
        ].join(','),
      );
    assert.ok(expected.length > 0);
    assert.deepEqual(lines(readFileSync(out, 'utf8')), [HEADER, ...expected]);
  });

  it('takes --keywords and writes to stdout without --out', async () => {
    const result = await world().run([
      'report',
      'products',
      'so',
      '--limit',
      '1000',
      '--keywords',
      'wartung',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const rows = lines(result.stdout).slice(1);
    const tenant = await world().tenant();
    const expected = tenant.sales.filter(
      (candidate) => candidate.contactId !== 0 && candidate.heading.toLowerCase().includes('wartung'),
    );
    assert.equal(rows.length, expected.length);
    for (const row of rows) assert.match(row, /,Wartung OMNIE 12 Monate,wartung$/);
    assert.match(result.stderr, /\(keywords: wartung\); CSV written to stdout\n$/);
  });

  it('refuses empty keywords and a bad limit with exit 2', async () => {
    const keywords = await world().run(['report', 'products', 'so', '--keywords', ' , ']);
    assert.equal(keywords.code, 2);
    assert.match(keywords.stderr, /--keywords: give at least one keyword/);
    const limit = await world().run(['report', 'products', 'so', '--limit', 'all']);
    assert.equal(limit.code, 2);
    assert.match(limit.stderr, /--limit: expected a whole number from 1 to 100000, got "all"/);
  });
});

describe('crmsync report products: empty reports say why', () => {
  const world = useToolsWorld({ seed: false });
  let out = '';
  beforeEach(async () => {
    out = join(world().temp.path, 'empty.csv');
    await world().admin('POST', 'reset', { seed: false });
  });

  async function emptyReport(): Promise<string> {
    const result = await world().run(['report', 'products', 'so', '--out', out]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(readFileSync(out, 'utf8'), `${HEADER}\r\n`, 'an empty report still has its header');
    return result.stderr;
  }

  it('no sales at all', async () => {
    assert.match(
      await emptyReport(),
      /^No sales at all: the tenant returned 0 sales, so there is nothing to report\.\n/,
    );
  });

  it('sales, but none with a contact', async () => {
    await world().admin('POST', 'act/RKAB/Sale', { Heading: '2xOmnie CD-01 mit Nachlass' });
    await world().admin('POST', 'act/RCGO/Sale', { Heading: 'Service Vertrag OMNIE' });
    assert.match(await emptyReport(), /^No sales with a contact: 2 sales, 0 with a contact\./);
  });

  it('sales with a contact, but no keyword matched', async () => {
    const contact = (await world().admin('POST', 'act/RKAB/Contact', { Name: 'Weser Spedition GmbH' }))[
      'id'
    ] as number;
    await world().admin('POST', 'act/RKAB/Sale', {
      Heading: 'Beratungstag',
      Contact: { ContactId: contact },
    });
    await world().admin('POST', 'act/RKAB/Sale', { Heading: 'OMNIE ohne Kunde' });
    const stderr = await emptyReport();
    assert.match(
      stderr,
      /^No keyword matched: 1 sales with a contact, keywords tried: OMNIE, CD-01, Service, Zubehör, Software\./,
    );
    assert.match(stderr, /product report: 1 sales with a contact read, 0 matched/);
  });
});
