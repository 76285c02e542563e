/**
 * An enricher looks at what is known about a company (and optionally one of its persons) and proposes a
 * vertical (industry), a short summary and personalised openers. The `enrich` flow asks it, maps the answer to
 * the vendor's fields and writes only what differs from the current values.
 *
 * Providers live in src/enrichment/: `rules` (built in, deterministic keyword rules), `http` (a
 * Company-Explorer-style service) and `openai` (any OpenAI-compatible chat-completions endpoint).
 *
 * Errors: a provider throws {@link EnricherError}s. `ENRICHER_UNAVAILABLE` (timeouts, connection errors, 5xx,
 * 429) is retryable, so the queue retries the job with backoff and finally parks it as DEAD; a response that
 * cannot be understood (`ENRICHER_BAD_RESPONSE`) is retryable too, since models answer differently next time.
 */

/** What is known about the company. Absent values are unknown, never empty strings. */
export interface CompanyFacts {
  /** The company's name as in the CRM. */
  readonly name: string;
  /** Web addresses (as entered; may lack a scheme). */
  readonly urls: readonly string[];
  /** Organisation number (VAT / registry id), when set. */
  readonly orgNr?: string;
  /** Department or second name line, when set. */
  readonly department?: string;
  /** Country name, when known. */
  readonly country?: string;
  /** The CRM's category and business list values (display names), when set. */
  readonly category?: string;
  readonly business?: string;
  /** Headings of the company's sales, newest first, when the flow was asked to fetch them. */
  readonly saleHeadings?: readonly string[];
}

/** What is known about the person, for a person-level opener. */
export interface PersonFacts {
  readonly firstName?: string;
  readonly lastName?: string;
  /** Job title as entered. */
  readonly jobTitle?: string;
  /** Position list value (display name), when set. */
  readonly position?: string;
}

/** The input of one enrichment. */
export interface EnrichmentRequest {
  readonly company: CompanyFacts;
  /** Present for person events: the enricher should also propose a person-level opener. */
  readonly person?: PersonFacts;
  /** The vertical names the CRM offers (list item names); a proposed vertical must be one of them. */
  readonly verticals: readonly string[];
  /** Language of summary and openers, e.g. `de` or `en`. */
  readonly language: string;
}

/** What an enricher proposes. Null means "no proposal" (the field is left as it is). */
export interface EnrichmentResult {
  /** One of the request's `verticals`, or null when none fits. */
  readonly vertical: string | null;
  /** A short description of the company (a few sentences). */
  readonly summary: string | null;
  /** An opening line for outreach to the company. */
  readonly companyOpener: string | null;
  /** An opening line for the person; only for requests with `person`. */
  readonly personOpener: string | null;
}

/** Options of one {@link Enricher.enrich} call. */
export interface EnrichOptions {
  /** Aborted when the run must stop (shutdown, lost lease); providers pass it to their HTTP calls. */
  readonly signal?: AbortSignal;
}

/** A provider of enrichments. */
export interface Enricher {
  /** Provider name for logs and runs, e.g. `rules`, `http`, `openai`. */
  readonly provider: string;
  /** Proposes values for the request. Throws EnricherError when the provider fails. */
  enrich(request: EnrichmentRequest, options?: EnrichOptions): Promise<EnrichmentResult>;
  /** Checks reachability and credentials for `crmsync doctor`; never throws. */
  check(): Promise<{ readonly ok: boolean; readonly message: string }>;
  /** Frees sockets and timers. */
  close(): Promise<void>;
}
