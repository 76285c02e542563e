/**
 * The customer product report of seed 000: which customers bought which products, read from the free text of
 * sale headings (`"2xOmnie CD-01 mit Nachlass"`), because the tenant links no structured quote lines to its
 * sales. The latest N sales that have a contact are matched against product keywords case-insensitively.
 *
 * The seed's script produced an empty CSV and nobody knew why. This module therefore always knows why a
 * report is empty (no sales at all, no sale with a contact, or no keyword matched) and says so with counts.
 * It has no I/O of its own: sales come from a {@link ProductReportSource}, so it is tested without a vendor.
 */

/** One sale as the report reads it. */
export interface ReportSale {
  readonly saleId: string;
  /** ISO date or date-time as the vendor sent it, '' when absent. */
  readonly saleDate: string;
  /** The customer's contact id; '' or '0' means the sale has no company. */
  readonly customerId: string;
  readonly customerName: string;
  readonly heading: string;
}

/** Where the sales come from (the WebAPI in production, an array in tests). */
export interface ProductReportSource {
  /** The latest `limit` sales that have a contact, newest first. */
  salesWithContact(limit: number): AsyncIterable<ReportSale>;
  /**
   * How many sales exist among the latest `limit`, with or without a contact. Only asked when the report
   * found no sale with a contact, to tell "no sales at all" from "no sale has a contact".
   */
  countSales(limit: number): Promise<number>;
}

/** One line of the report. */
export interface ProductReportRow extends ReportSale {
  /** The keywords found in the heading, in keyword order. */
  readonly matchedKeywords: readonly string[];
}

/** Why a report has no rows. */
export type EmptyReportReason =
  | { readonly kind: 'no-sales' }
  | {
      readonly kind: 'no-sales-with-contact';
      /** Sales seen without a contact. */
      readonly sales: number;
      /** True when `sales` stopped at the limit, so there may be more. */
      readonly atLimit: boolean;
    }
  | {
      readonly kind: 'no-keyword-match';
      readonly salesWithContact: number;
      readonly keywords: readonly string[];
    };

/** The finished report. */
export interface ProductReport {
  readonly rows: readonly ProductReportRow[];
  /** Sales with a contact that were checked against the keywords. */
  readonly salesWithContact: number;
  /** Rows the source returned although they have no contact (a vendor that ignored the filter). */
  readonly skippedWithoutContact: number;
  readonly keywords: readonly string[];
  /** Null when there are rows. */
  readonly empty: EmptyReportReason | null;
}

/** Options of {@link buildProductReport}. */
export interface ProductReportOptions {
  /** How many of the latest sales with a contact to read. */
  readonly limit: number;
  /** Product keywords (see {@link normaliseKeywords}); must not be empty. */
  readonly keywords: readonly string[];
  /** Called after every sale read with the count so far and the limit (for a progress bar). */
  readonly onProgress?: (done: number, limit: number) => void;
}

/** The CSV columns, in order. */
const PRODUCT_REPORT_COLUMNS = [
  'SaleId',
  'SaleDate',
  'CustomerId',
  'CustomerName',
  'Heading',
  'MatchedKeywords',
] as const;

/** Separator of several matched keywords inside the MatchedKeywords cell. */
const KEYWORD_SEPARATOR = ';';

/** Lower case in Unicode NFC, so "Zubehör" typed on any keyboard matches the stored heading. */
function fold(text: string): string {
  return text.normalize('NFC').toLowerCase();
}

/** Keywords trimmed, without empty ones and without case-insensitive duplicates (first spelling kept). */
export function normaliseKeywords(keywords: Iterable<string>): string[] {
  const seen = new Set<string>();
  const result: string[] = [];
  for (const raw of keywords) {
    const keyword = raw.trim();
    const key = fold(keyword);
    if (keyword === '' || seen.has(key)) continue;
    seen.add(key);
    result.push(keyword);
  }
  return result;
}

/** The keywords contained in `heading`, case-insensitively, in the order of `keywords`. */
export function matchKeywords(heading: string, keywords: readonly string[]): string[] {
  const haystack = fold(heading);
  return keywords.filter((keyword) => haystack.includes(fold(keyword)));
}

function hasContact(sale: ReportSale): boolean {
  return sale.customerId !== '' && sale.customerId !== '0';
}

/**
 * Reads the sales, matches the keywords and, when nothing matched, finds out why. Sales the source returns
 * without a contact are skipped and counted, so a vendor that ignores the contact filter is noticed.
 */
export async function buildProductReport(
  source: ProductReportSource,
  options: ProductReportOptions,
): Promise<ProductReport> {
  const keywords = normaliseKeywords(options.keywords);
  if (keywords.length === 0) throw new RangeError('buildProductReport needs at least one keyword');
  const rows: ProductReportRow[] = [];
  let read = 0;
  let withContact = 0;
  for await (const sale of source.salesWithContact(options.limit)) {
    read += 1;
    options.onProgress?.(read, options.limit);
    if (hasContact(sale)) {
      withContact += 1;
      const matched = matchKeywords(sale.heading, keywords);
      if (matched.length > 0) rows.push({ ...sale, matchedKeywords: matched });
    }
    if (read >= options.limit) break;
  }
  const report = { rows, salesWithContact: withContact, skippedWithoutContact: read - withContact, keywords };
  if (rows.length > 0) return { ...report, empty: null };
  if (withContact > 0) {
    return { ...report, empty: { kind: 'no-keyword-match', salesWithContact: withContact, keywords } };
  }
  // Nothing with a contact: were there sales at all? `read` already counts any the filter let through.
  const sales = read > 0 ? read : await source.countSales(options.limit);
  return {
    ...report,
    empty:
      sales === 0
        ? { kind: 'no-sales' }
        : { kind: 'no-sales-with-contact', sales, atLimit: sales >= options.limit },
  };
}

/** One sentence saying why the report is empty, with the counts. */
export function explainEmptyReport(reason: EmptyReportReason): string {
  switch (reason.kind) {
    case 'no-sales':
      return 'No sales at all: the tenant returned 0 sales, so there is nothing to report.';
    case 'no-sales-with-contact': {
      const counted = reason.atLimit ? `the latest ${reason.sales} sales` : `${reason.sales} sales`;
      return `No sales with a contact: ${counted}, 0 with a contact. Sales without a company cannot be attributed to a customer.`;
    }
    case 'no-keyword-match':
      return `No keyword matched: ${reason.salesWithContact} sales with a contact, keywords tried: ${reason.keywords.join(', ')}. Check the headings (crmsync superoffice raw) and pass --keywords.`;
  }
}

/**
 * One CSV cell (RFC 4180): quoted when it holds a comma, quote or line break. A cell starting with `=`, `+`,
 * `-` or `@` is prefixed with `'` so that a spreadsheet shows it as text instead of running it as a formula
 * (CSV injection: sale headings are typed by users).
 */
export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** The date part of an ISO date-time (`2024-03-15T09:00:00` -> `2024-03-15`), other text unchanged. */
function datePart(value: string): string {
  const match = /^(\d{4}-\d{2}-\d{2})(?:[T ]|$)/.exec(value);
  return match?.[1] ?? value;
}

/** The report as CSV text: a header line, then one line per row, CRLF line ends (RFC 4180). */
export function productReportCsv(rows: readonly ProductReportRow[]): string {
  const lines = [PRODUCT_REPORT_COLUMNS.join(',')];
  for (const row of rows) {
    lines.push(
      [
        row.saleId,
        datePart(row.saleDate),
        row.customerId,
        row.customerName,
        row.heading,
        row.matchedKeywords.join(KEYWORD_SEPARATOR),
      ]
        .map(csvCell)
        .join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}
