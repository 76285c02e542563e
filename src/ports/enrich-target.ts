import type { FieldChange, JsonValue, RecordRef } from '../core/types.ts';
import type { CallOptions } from './connector.ts';
import type { CompanyFacts, PersonFacts } from './enricher.ts';

/**
 * The vendor side of an `enrich` flow: reads a record with what an enricher needs, and writes enrichment
 * results back into the record's fields. A connector that supports enrichment provides one (SuperOffice:
 * user-defined fields). The flow itself (filters, enricher, comparison, ledger) is vendor-neutral.
 *
 * Values are compared in a canonical form per role: the list item id (a number) for `vertical`, the text
 * for the others, null for "empty". The flow writes a role only when its canonical value differs.
 *
 * Every method takes {@link CallOptions}: an aborted signal stops the call's vendor requests and rejects it
 * with the signal's reason. Results shared between calls (the API user, the cached vertical list) are
 * fetched for all of them: one caller's signal stops its own wait, never the fetch the others wait for.
 */
export interface EnrichTarget {
  /**
   * The vendor user id under which the connection writes (the API user), or null when it cannot be found.
   * The flow's echo breaker asks the write ledger about the changes made by this user.
   */
  apiActorId(options?: CallOptions): Promise<string | null>;

  /**
   * Reads the record `ref` (a company, or a person with its company) with what the enricher needs and the
   * current values of the fields the flow writes. Null when the record does not exist (any more).
   */
  load(
    ref: RecordRef,
    options: CallOptions & { readonly includeSaleHeadings: boolean },
  ): Promise<EnrichSubject | null>;

  /** The vertical names the vendor offers, with the canonical value (list item id) of each. Cached. */
  verticals(options?: CallOptions): Promise<ReadonlyMap<string, number>>;

  /**
   * Writes `values` (canonical, by role) into the record in one request, conditional on the subject's
   * version (a concurrent edit fails with StaleWriteError, and the job is retried). Returns the written
   * fields in vendor names with before and after values, and the record's new version token.
   */
  write(
    subject: EnrichSubject,
    values: Partial<Record<EnrichRole, JsonValue>>,
    options?: CallOptions,
  ): Promise<EnrichWrite>;
}

/** The fields an enrichment fills. Company records take the first three, person records `personOpener`. */
export type EnrichRole = 'vertical' | 'summary' | 'companyOpener' | 'personOpener';

/** A record as the enrich flow sees it. */
export interface EnrichSubject {
  /** The record read (the event's record). */
  readonly ref: RecordRef;
  /** `company` for company records, `person` for persons. */
  readonly kind: 'company' | 'person';
  /** The record's version token when read. */
  readonly version: string | null;
  /** Human-readable name for the run history: the company name, or "First Last (Company)". */
  readonly displayName: string;
  /** The owner of the account (the company's owner, also for persons). */
  readonly owner: { readonly id: string | null; readonly shortName: string | null };
  readonly company: CompanyFacts;
  /** Present for persons. */
  readonly person?: PersonFacts;
  /** Current canonical values of the roles this record can take (roles without a configured field absent). */
  readonly current: Partial<Record<EnrichRole, JsonValue>>;
  /** Vendor field name of each role (for the write ledger and messages). */
  readonly fieldNames: Partial<Record<EnrichRole, string>>;
}

/** What {@link EnrichTarget.write} did. */
export interface EnrichWrite {
  readonly changes: readonly FieldChange[];
  readonly version: string | null;
}
