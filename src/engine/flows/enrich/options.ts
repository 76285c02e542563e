/**
 * Options of an `enrich` flow (seeds 000-002): which SuperOffice events and columns trigger work, whose
 * records are ours, where the results go, and which enricher proposes them. Every default is the seeds'.
 */
import { z } from 'zod';
import { enricherConfigSchema } from '../../../enrichment/index.ts';

/**
 * Column names SuperOffice sends in `Changes` that make an event relevant, compared case-insensitively.
 * The seeds' whitelist (`name`, `urladdress`, `urls`, `orgnr`, `userdef_id`; persons `jobtitle`,
 * `position_id`, `userdef_id`) plus the names the vendor documents for the same fields (`orgNr`,
 * `userdef2_id` for long-text UDFs, person `title`, `position_idx`).
 */
const DEFAULT_RELEVANT_COLUMNS = {
  contact: ['name', 'urladdress', 'urls', 'orgnr', 'userdef_id', 'userdef2_id'],
  person: ['jobtitle', 'title', 'position_id', 'position_idx', 'userdef_id', 'userdef2_id'],
} as const;

/** The user-defined fields the flow writes, by ProgId; null leaves that result unwritten. */
const fieldsSchema = z.strictObject({
  vertical: z.string().min(1).nullable().default('SuperOffice:83'),
  summary: z.string().min(1).nullable().default('SuperOffice:84'),
  companyOpener: z.string().min(1).nullable().default('SuperOffice:85'),
  personOpener: z.string().min(1).nullable().default('SuperOffice:91'),
});

/** Zod schema of an enrich flow's own options (besides `type` and `connections`). */
export const enrichOptionsSchema = z.strictObject({
  /** Vendor events that start an enrichment; others are SKIPPED (irrelevant). */
  events: z
    .array(z.string().min(1))
    .default(['contact.created', 'contact.changed', 'person.created', 'person.changed']),
  /** See {@link DEFAULT_RELEVANT_COLUMNS}. A created event is always relevant. */
  relevantColumns: z
    .strictObject({
      contact: z.array(z.string().min(1)).default([...DEFAULT_RELEVANT_COLUMNS.contact]),
      person: z.array(z.string().min(1)).default([...DEFAULT_RELEVANT_COLUMNS.person]),
    })
    .default({
      contact: [...DEFAULT_RELEVANT_COLUMNS.contact],
      person: [...DEFAULT_RELEVANT_COLUMNS.person],
    }),
  /**
   * The API user's associate id (echo breaker). Default: discovered from `User/currentPrincipal` / the
   * id_token at startup; set it only to override (the seeds hard-coded 528).
   */
  apiAssociateId: z.number().int().positive().optional(),
  /**
   * Shared tenant (seed 001): only records owned by these associates (ids or short names, any match) are
   * enriched; others are SKIPPED (foreign owner). Absent: every owner.
   */
  owners: z
    .strictObject({
      associateIds: z.array(z.number().int().positive()).default([]),
      shortNames: z.array(z.string().min(1)).default([]),
    })
    .optional(),
  /** A `contact.created` for a company name processed within this window is SKIPPED (duplicate). 0: off. */
  duplicateWindowMinutes: z.number().min(0).default(5),
  fields: fieldsSchema.default({
    vertical: 'SuperOffice:83',
    summary: 'SuperOffice:84',
    companyOpener: 'SuperOffice:85',
    personOpener: 'SuperOffice:91',
  }),
  /** Name of the list holding the verticals (List API), read once and cached. */
  verticalList: z.string().min(1).default('Vertical'),
  /** Vertical name -> list item id, overriding (or replacing) the list lookup. */
  verticalIds: z.record(z.string().min(1), z.number().int().positive()).default({}),
  /** How long the vertical list is cached. */
  verticalCacheMinutes: z.number().positive().default(60),
  /** Fetch the company's latest sale headings for the enricher (one more API call per company). */
  includeSaleHeadings: z.boolean().default(false),
  /** Language of summaries and openers. */
  language: z.string().min(2).default('de'),
  /**
   * The reconciler (webhooks are hints, polling is the truth): on this schedule, companies modified since its
   * last run are queued as if their webhook had arrived, so a lost webhook delays an enrichment instead of
   * losing it. Each up-to-date company costs one read.
   */
  reconcile: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Cron expression (5 fields, or 6 with seconds). */
      cron: z.string().min(1).default('*/15 * * * *'),
      /** How far the first run looks back. */
      lookbackMinutes: z.number().positive().default(60),
      /** Most records one run queues. */
      maxPerRun: z.number().int().positive().default(1_000),
    })
    .prefault({}),
  /** The enricher; default the built-in `rules` provider. */
  enricher: enricherConfigSchema.prefault({ provider: 'rules' }),
});

/** An enrich flow's options after validation. */
export type EnrichOptions = z.output<typeof enrichOptionsSchema>;
