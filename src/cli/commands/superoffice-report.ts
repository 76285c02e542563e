/**
 * `crmsync report products <connection>`: the customer product report of seed 000 as CSV (logic in
 * src/connectors/superoffice/product-report.ts). The CSV goes to `--out` (written to a temporary file, then
 * renamed, so a half report never replaces a good one) or to stdout; progress and explanations go to stderr,
 * so stdout stays clean CSV. The progress bar is drawn only on a terminal; elsewhere one plain final line.
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  buildProductReport,
  explainEmptyReport,
  normaliseKeywords,
  productReportCsv,
} from '../../connectors/superoffice/product-report.ts';
import { productFamilies, saleReportSource } from '../../connectors/superoffice/tools-products.ts';
import type { SuperOfficeApi } from '../../connectors/superoffice/index.ts';
import { InputError } from '../../core/errors.ts';
import type { GlobalOptions } from '../context.ts';
import { integerOption, parseList, withSuperOffice } from './superoffice-context.ts';

/** Default number of sales read (seed 000's SALE_LIMIT). */
const DEFAULT_REPORT_LIMIT = 1000;

/** Width of the progress bar in characters. */
const BAR_WIDTH = 30;

/** Where progress is drawn: a stream that may be a terminal. */
export interface ProgressStream {
  readonly isTTY?: boolean;
  write(text: string): boolean;
}

/** A progress bar on a terminal; does nothing on anything else. */
export interface ProgressBar {
  update(done: number, total: number): void;
  /** Ends the bar's line (on a terminal). */
  finish(): void;
}

/** A progress bar that redraws in place, at most once per percent of progress. */
export function progressBar(stream: ProgressStream, label: string): ProgressBar {
  if (stream.isTTY !== true) return { update: () => {}, finish: () => {} };
  let lastPercent = -1;
  let drawn = false;
  return {
    update(done, total) {
      const ratio = total <= 0 ? 1 : Math.min(1, done / total);
      const percent = Math.floor(ratio * 100);
      if (percent === lastPercent) return;
      lastPercent = percent;
      const filled = Math.round(ratio * BAR_WIDTH);
      stream.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${done}/${total}`);
      drawn = true;
    },
    finish() {
      if (drawn) stream.write('\n');
    },
  };
}

/** Writes `text` to `path` through a temporary file in the same folder, then renames it into place. */
function writeFileAtomically(path: string, text: string): void {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, text);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new InputError('CLI_CANNOT_WRITE', `--out: cannot write ${path}: ${(error as Error).message}`);
  }
}

/** The keywords: `--keywords`, else the ProductFamily names; an InputError when there are none. */
async function reportKeywords(api: SuperOfficeApi, given: string[] | undefined): Promise<string[]> {
  if (given !== undefined) {
    const keywords = normaliseKeywords(given);
    if (keywords.length === 0)
      throw new InputError(
        'CLI_NO_KEYWORDS',
        '--keywords: give at least one keyword, e.g. --keywords OMNIE,CD-01',
      );
    return keywords;
  }
  const keywords = normaliseKeywords((await productFamilies(api)).map((item) => item.name));
  if (keywords.length === 0) {
    throw new InputError(
      'CLI_NO_KEYWORDS',
      'The ProductFamily list has no items to use as keywords; pass them with --keywords OMNIE,CD-01,...',
    );
  }
  return keywords;
}

/** Registers `report products`. */
export function registerReportCommands(program: Command, globals: () => GlobalOptions): void {
  const report = program.command('report').description('reports over the data of a connection');
  report
    .command('products <connection>')
    .description('CSV of the latest sales with a contact whose heading names a product keyword (SuperOffice)')
    .option(
      '--limit <n>',
      'latest sales with a contact to read',
      integerOption('--limit', 1, 100_000),
      DEFAULT_REPORT_LIMIT,
    )
    .option(
      '--keywords <list>',
      'comma-separated product keywords (default: the ProductFamily list names)',
      parseList,
    )
    .option('--out <file>', 'write the CSV to this file (default: stdout)')
    .addHelpText(
      'after',
      '\nColumns: SaleId, SaleDate, CustomerId, CustomerName, Heading, MatchedKeywords (";"-separated).\n' +
        'An empty report says why (no sales, no sale with a contact, no keyword matched) and still writes the header.',
    )
    .action(async (connection: string, options: { limit: number; keywords?: string[]; out?: string }) => {
      await withSuperOffice(globals(), connection, async ({ api }) => {
        const keywords = await reportKeywords(api, options.keywords);
        const bar = progressBar(process.stderr, 'reading sales');
        let result;
        try {
          result = await buildProductReport(saleReportSource(api), {
            limit: options.limit,
            keywords,
            onProgress: (done, total) => bar.update(done, total),
          });
        } finally {
          bar.finish();
        }
        if (result.empty !== null) process.stderr.write(`${explainEmptyReport(result.empty)}\n`);
        const csv = productReportCsv(result.rows);
        if (options.out === undefined) process.stdout.write(csv);
        else writeFileAtomically(options.out, csv);
        process.stderr.write(
          `product report: ${result.salesWithContact} sales with a contact read, ${result.rows.length} matched ` +
            `(keywords: ${result.keywords.join(', ')}); CSV written to ${options.out ?? 'stdout'}\n`,
        );
      });
    });
}
