/**
 * The `rules` enricher, the built-in default: classifies the company by keyword rules (./classify.ts) and
 * writes summary and openers from templates (./templates.ts). No network, no cost, and deterministic: the
 * same request always gives the same result, so the enrich flow writes nothing on a re-run.
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import type {
  EnrichmentRequest,
  EnrichmentResult,
  EnrichOptions,
  Enricher,
  PersonFacts,
} from '../../ports/enricher.ts';
import type { Logger } from '../../ports/logger.ts';
import { classifyCompany } from './classify.ts';
import { builtInRuleSet, loadRuleFile } from './rule-set.ts';
import type { RuleSet } from './rule-set.ts';
import { renderTemplate, templateOverridesSchema, templatesFor } from './templates.ts';
import type { TemplateOverrides, TemplateValues } from './templates.ts';

/** How many sale headings `{recentSales}` names at most. */
const RECENT_SALES_SHOWN = 3;

/** Zod schema of the `rules` provider's settings; every option is optional. */
export const rulesEnricherSchema = z.strictObject({
  provider: z.literal('rules'),
  /** A JSON rules file replacing the built-in rules; relative paths resolve against the config's folder. */
  rulesFile: z.string().min(1).optional(),
  /** Templates per language replacing the built-in ones (see docs/enrichment.md). */
  templates: templateOverridesSchema,
});

/** The `rules` provider's settings after validation. */
export type RulesEnricherConfig = z.output<typeof rulesEnricherSchema>;

/** The keyword-and-template enricher. */
class RulesEnricher implements Enricher {
  readonly provider = 'rules';
  readonly #rules: RuleSet;
  readonly #templates: TemplateOverrides;
  readonly #logger: Logger;

  constructor(rules: RuleSet, templates: TemplateOverrides, logger: Logger) {
    this.#rules = rules;
    this.#templates = templates;
    this.#logger = logger;
  }

  enrich(request: EnrichmentRequest, options: EnrichOptions = {}): Promise<EnrichmentResult> {
    // Rejects rather than throws, as an async provider would.
    if (options.signal?.aborted === true) return Promise.reject(options.signal.reason as Error);
    const { company, person } = request;
    const classification = classifyCompany(this.#rules, company, request.verticals);
    this.#logger.debug(
      { provider: this.provider, company: company.name, ...classification },
      'rules enricher classified a company',
    );
    const templates = templatesFor(request.language, this.#templates);
    const values: TemplateValues = {
      company: company.name,
      ...(classification.vertical !== null && { vertical: classification.vertical }),
      ...(company.country !== undefined && { country: company.country }),
      ...(company.saleHeadings !== undefined && { recentSales: recentSales(company.saleHeadings) }),
      ...(person !== undefined && personValues(person)),
    };
    return Promise.resolve({
      vertical: classification.vertical,
      summary: renderTemplate(templates.summary, values),
      companyOpener: renderTemplate(templates.companyOpener, values),
      personOpener: person === undefined ? null : renderTemplate(templates.personOpener, values),
    });
  }

  check(): Promise<{ ok: boolean; message: string }> {
    const names = this.#rules.verticals.map((vertical) => vertical.name);
    return Promise.resolve({
      ok: true,
      message: `${this.#rules.source} rules with ${names.length} verticals (${names.join(', ')})`,
    });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Creates the rules enricher. A `rulesFile` is read now (relative to `cwd`, default the working directory),
 * so a broken file fails at startup with a ConfigError rather than on the first job.
 */
export function createRulesEnricher(
  config: RulesEnricherConfig,
  deps: { readonly logger: Logger; readonly cwd?: string },
): RulesEnricher {
  const rules =
    config.rulesFile === undefined
      ? builtInRuleSet()
      : loadRuleFile(resolve(deps.cwd ?? process.cwd(), config.rulesFile));
  return new RulesEnricher(rules, config.templates, deps.logger);
}

function personValues(person: PersonFacts): TemplateValues {
  const name = [person.firstName, person.lastName]
    .map((part) => part?.trim())
    .filter((part) => part !== undefined && part !== '')
    .join(' ');
  const jobTitle = person.jobTitle ?? person.position;
  return { ...(name !== '' && { person: name }), ...(jobTitle !== undefined && { jobTitle }) };
}

/** The newest distinct headings, joined; identical headings (repeat orders) are named once. */
function recentSales(headings: readonly string[]): string {
  const distinct = [...new Set(headings.map((heading) => heading.trim()).filter((h) => h !== ''))];
  return distinct.slice(0, RECENT_SALES_SHOWN).join('; ');
}
