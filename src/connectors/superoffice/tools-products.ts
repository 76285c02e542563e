/**
 * Product tools of `crmsync superoffice products` and `crmsync report products`: the ProductFamily list, and
 * the WebAPI source of the customer product report (./product-report.ts).
 */
import type { JsonValue } from '../../core/types.ts';
import { getField } from '../shared/casing.ts';
import type { ArchiveRow, ListItem, SuperOfficeApi } from './endpoints.ts';
import type { ProductReportSource, ReportSale } from './product-report.ts';
import { countRecords } from './tools-counts.ts';

/** The list holding product families (seed 000's `list_products.py`). */
const PRODUCT_FAMILY_LIST = 'ProductFamily';

/**
 * Archive columns of a report row. [UNCONFIRMED] the FindSale provider's exact column names: `saleDate` and
 * `contactId` follow the documented camelCase pattern, `contact/name` the documented related-column syntax.
 */
const SALE_COLUMNS = ['saleId', 'saleDate', 'contactId', 'contact/name', 'heading'] as const;

/**
 * Sales "with a contact". The seed used `Contact ne null`; null comparisons are undocumented (reference §4),
 * and a sale without a company has contact id 0, so the id is compared instead. The report also skips rows
 * without a contact itself, in case a tenant ignores the filter.
 */
const WITH_CONTACT = 'contactId ne 0';

/** Newest first; the id breaks ties between sales of the same date, so the order is stable. */
const NEWEST_FIRST = 'saleDate desc,saleId desc';

/** The ProductFamily list items (deleted ones only when asked). */
export function productFamilies(
  api: SuperOfficeApi,
  options: { includeDeleted?: boolean } = {},
): Promise<ListItem[]> {
  return api.listItems(PRODUCT_FAMILY_LIST, options);
}

function cellText(value: JsonValue | undefined): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function toReportSale(row: ArchiveRow): ReportSale {
  const column = (name: string) => cellText(getField(row.columns, name) as JsonValue | undefined);
  return {
    saleId: column('saleId') || row.primaryKey,
    saleDate: column('saleDate'),
    customerId: column('contactId'),
    customerName: column('contact/name'),
    heading: column('heading'),
  };
}

/** The product report's sales from the `Sale` archive, following `odata.nextLink` page by page. */
export function saleReportSource(api: SuperOfficeApi): ProductReportSource {
  return {
    async *salesWithContact(limit) {
      const rows = api.archiveRows('Sale', {
        select: SALE_COLUMNS,
        filter: WITH_CONTACT,
        orderBy: NEWEST_FIRST,
        top: limit,
      });
      for await (const row of rows) yield toReportSale(row);
    },
    countSales: (limit) => countRecords(api, 'Sale', { max: limit }),
  };
}
