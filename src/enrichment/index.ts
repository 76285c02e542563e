/**
 * Enrichment providers behind the {@link Enricher} port: `rules` (built in, the default; keyword rules and
 * templates), `http` (a Company-Explorer-style service) and `openai` (any OpenAI-compatible
 * chat-completions endpoint). A flow's `enricher` setting is validated with {@link enricherConfigSchema} and
 * turned into an Enricher by {@link createEnricher}. See docs/enrichment.md.
 */
import { z } from 'zod';
import type { Enricher } from '../ports/enricher.ts';
import type { Logger } from '../ports/logger.ts';
import { HttpEnricher, httpEnricherSchema } from './http-enricher.ts';
import { OpenAiEnricher, openAiEnricherSchema } from './openai-enricher.ts';
import { createRulesEnricher, rulesEnricherSchema } from './rules/rules-enricher.ts';

export { httpEnricherSchema, toHttpRequestBody } from './http-enricher.ts';
export type { HttpEnricherConfig, HttpEnrichmentRequestBody } from './http-enricher.ts';
export { openAiEnricherSchema } from './openai-enricher.ts';
export type { OpenAiEnricherConfig } from './openai-enricher.ts';
export { DEFAULT_SYSTEM_PROMPT } from './openai-prompt.ts';
export { rulesEnricherSchema } from './rules/rules-enricher.ts';
export type { RulesEnricherConfig } from './rules/rules-enricher.ts';
export { ruleFileSchema } from './rules/rule-set.ts';
export type { RuleFile } from './rules/rule-set.ts';
export { BUILT_IN_TEMPLATES, PLACEHOLDERS } from './rules/templates.ts';

/**
 * Zod schema of an `enricher` setting: one strict object per provider, told apart by `provider`. Every
 * `rules` option is optional, so `enricherConfigSchema.prefault({ provider: 'rules' })` gives the default.
 * Secrets (`apiKey`) arrive resolved: the config's `env()` references are replaced before validation.
 */
export const enricherConfigSchema = z.discriminatedUnion('provider', [
  rulesEnricherSchema,
  httpEnricherSchema,
  openAiEnricherSchema,
]);

/** An `enricher` setting after validation (defaults applied). */
export type EnricherConfig = z.output<typeof enricherConfigSchema>;

/** What {@link createEnricher} needs. */
export interface EnricherDeps {
  readonly logger: Logger;
  /** Folder a relative `rulesFile` is resolved against (default the working directory). */
  readonly cwd?: string;
}

/**
 * Creates the configured enricher. A `rules` provider reads its rules file now: a missing or invalid file
 * throws a ConfigError naming the file and each problem. Call `close()` on the result when done.
 */
export function createEnricher(config: EnricherConfig, deps: EnricherDeps): Enricher {
  const logger = deps.logger.child({ enricher: config.provider });
  switch (config.provider) {
    case 'rules':
      return createRulesEnricher(config, { ...deps, logger });
    case 'http':
      return new HttpEnricher(config, logger);
    case 'openai':
      return new OpenAiEnricher(config, logger);
  }
}
