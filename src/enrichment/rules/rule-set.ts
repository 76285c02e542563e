/**
 * Keyword rules of the `rules` enricher: the JSON file format, its validation, and its compiled form.
 *
 * A rules file lists verticals in order of preference (on equal scores the one listed first wins). Each has a
 * name, aliases (other names the CRM's vertical list may use for it) and keywords with weights. A keyword
 * matches whole words, case- and umlaut-insensitively; `*` at its start or end lets it match inside longer
 * words (`klinik*` matches `Kliniken`, `*handel` matches `Einzelhandel`). The built-in rules are
 * `verticals.json` next to this module; docs/enrichment.md describes the format for operators.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ConfigError } from '../../core/errors.ts';
import { wordsOf } from '../text.ts';

/** The facts a rule looks at, each scored with its own factor. */
export const RULE_FIELDS = ['name', 'urls', 'department', 'category', 'business', 'saleHeadings'] as const;

/** One of {@link RULE_FIELDS}. */
export type RuleField = (typeof RULE_FIELDS)[number];

/**
 * Default factors: what a company calls itself counts fully; sale headings name what it bought from us,
 * which says less about its own industry, so they count half.
 */
const DEFAULT_FIELD_WEIGHTS: Readonly<Record<RuleField, number>> = {
  name: 1,
  urls: 1,
  department: 1,
  category: 1,
  business: 1,
  saleHeadings: 0.5,
};

/** A keyword: letters, digits, spaces and punctuation, with an optional `*` at either end only. */
const keywordSchema = z
  .string()
  .regex(/^\*?[^*]+\*?$/, 'a `*` is allowed only at the start or the end of a keyword')
  .refine((keyword) => wordsOf(keyword) !== '', 'a keyword needs at least one letter or digit');

/** Factor of one fact's score; 0 ignores the fact. */
const fieldWeightSchema = z.number().min(0).max(10).optional();

const verticalRuleSchema = z.strictObject({
  /** The vertical's name as the CRM's list usually spells it. */
  name: z.string().min(1),
  /** Other names of the same vertical (e.g. German ones), matched against the CRM's list too. */
  aliases: z.array(z.string().min(1)).default([]),
  /** Free text for the file's readers; ignored. */
  description: z.string().optional(),
  /** Keyword -> weight (a positive number; 3 strong, 2 good, 1 weak hint by convention). */
  keywords: z
    .record(keywordSchema, z.number().positive().max(100))
    .refine((keywords) => Object.keys(keywords).length > 0, 'list at least one keyword'),
});

/** Zod schema of a rules file. */
export const ruleFileSchema = z
  .strictObject({
    /** Free text for the file's readers; ignored. */
    description: z.string().optional(),
    /** JSON-schema reference for editors; ignored. */
    $schema: z.string().optional(),
    /** The least score a vertical needs to be proposed (default 1). */
    minScore: z.number().positive().default(1),
    /** Factor per fact; unnamed facts keep their default. */
    fieldWeights: z
      .strictObject({
        name: fieldWeightSchema,
        urls: fieldWeightSchema,
        department: fieldWeightSchema,
        category: fieldWeightSchema,
        business: fieldWeightSchema,
        saleHeadings: fieldWeightSchema,
      })
      .default({}),
    verticals: z.array(verticalRuleSchema).min(1, 'list at least one vertical'),
  })
  .superRefine((file, context) => {
    // Two rules answering to the same name would make the choice depend on which one is found first.
    const owners = new Map<string, number>();
    file.verticals.forEach((vertical, index) => {
      for (const name of [vertical.name, ...vertical.aliases]) {
        const key = wordsOf(name);
        const owner = owners.get(key);
        if (owner !== undefined && owner !== index) {
          context.addIssue({
            code: 'custom',
            path: ['verticals', index, 'aliases'],
            message: `"${name}" already names verticals.${owner} (${file.verticals[owner]?.name}); each name may belong to one vertical only`,
          });
        }
        owners.set(key, index);
      }
      const seen = new Set<string>();
      for (const keyword of Object.keys(vertical.keywords)) {
        const key = normaliseKeyword(keyword);
        if (seen.has(key)) {
          context.addIssue({
            code: 'custom',
            path: ['verticals', index, 'keywords', keyword],
            message: `duplicate keyword (the same as another after folding case and umlauts)`,
          });
        }
        seen.add(key);
      }
    });
  });

/** A rules file as written (before defaults). */
export type RuleFile = z.input<typeof ruleFileSchema>;

/** A keyword ready to match against {@link wordsOf} text. */
export interface CompiledKeyword {
  /** The keyword as written in the file (for explanations). */
  readonly keyword: string;
  readonly weight: number;
  /** Matches the keyword at word boundaries; global, so every occurrence can be found. */
  readonly pattern: RegExp;
}

/** One vertical's rule, compiled. */
export interface CompiledVertical {
  readonly name: string;
  /** Name and aliases as {@link wordsOf} gives them, for comparing with the CRM's list. */
  readonly names: readonly string[];
  /** Heaviest first (ties in file order), the order in which overlapping matches are claimed. */
  readonly keywords: readonly CompiledKeyword[];
}

/** A validated, compiled rules file. */
export interface RuleSet {
  /** Where the rules came from (`built-in` or the file's absolute path), for logs and `doctor`. */
  readonly source: string;
  readonly minScore: number;
  readonly fieldWeights: Readonly<Record<RuleField, number>>;
  /** In file order (the tie-break order). */
  readonly verticals: readonly CompiledVertical[];
}

const BUILT_IN_FILE = new URL('./verticals.json', import.meta.url);
let builtIn: RuleSet | undefined;

/** The built-in rules (`verticals.json`), loaded and validated once. */
export function builtInRuleSet(): RuleSet {
  builtIn ??= loadRuleFile(BUILT_IN_FILE, 'built-in');
  return builtIn;
}

/**
 * Reads, validates and compiles the rules file at `path` (absolute). Throws a ConfigError naming the file and
 * every problem (with its JSON path) when the file is missing, not JSON, or does not fit the format.
 */
export function loadRuleFile(path: string | URL, source = String(path)): RuleSet {
  const label = path instanceof URL ? fileURLToPath(path) : path;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`Rules file ${label} could not be read: ${reason}. Check enricher.rulesFile.`, [
      { path: label, message: reason },
    ]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`Rules file ${label} is not valid JSON: ${reason}`, [
      { path: label, message: reason },
    ]);
  }
  return compileRuleFile(json, source, label);
}

/** Validates and compiles an already parsed rules file; `label` names it in error messages. */
function compileRuleFile(json: unknown, source: string, label = source): RuleSet {
  const parsed = ruleFileSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => ({
      path: `${label}#${issue.path.length === 0 ? '(root)' : issue.path.map(String).join('.')}`,
      // A bad keyword is reported as an invalid record key; its own messages say what is wrong with it.
      message:
        issue.code === 'invalid_key' ? issue.issues.map((inner) => inner.message).join('; ') : issue.message,
    }));
    const lines = problems.map((problem) => `  - ${problem.path}: ${problem.message}`).join('\n');
    throw new ConfigError(
      `Rules file ${label} is invalid, ${problems.length} problem(s):\n${lines}\nSee docs/enrichment.md for the format.`,
      problems,
    );
  }
  const file = parsed.data;
  return {
    source,
    minScore: file.minScore,
    fieldWeights: { ...DEFAULT_FIELD_WEIGHTS, ...definedEntries(file.fieldWeights) },
    verticals: file.verticals.map((vertical) => ({
      name: vertical.name,
      names: [vertical.name, ...vertical.aliases].map(wordsOf),
      keywords: Object.entries(vertical.keywords)
        .map(([keyword, weight]) => ({ keyword, weight, pattern: keywordPattern(keyword) }))
        // A stable sort keeps the file order among equal weights.
        .sort((a, b) => b.weight - a.weight),
    })),
  };
}

/** The keyword in the form its duplicates are detected by: folded words, wildcards kept. */
function normaliseKeyword(keyword: string): string {
  const trimmed = keyword.trim();
  return `${trimmed.startsWith('*') ? '*' : ''}${wordsOf(trimmed)}${trimmed.endsWith('*') ? '*' : ''}`;
}

/**
 * A pattern over {@link wordsOf} text (words separated by single spaces): the keyword's words at word
 * boundaries, with letters or digits allowed before (`*` at the start) or after (`*` at the end).
 */
function keywordPattern(keyword: string): RegExp {
  const trimmed = keyword.trim();
  const letters = '[\\p{L}\\p{N}]*';
  const core = wordsOf(trimmed).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const prefix = trimmed.startsWith('*') ? letters : '';
  const suffix = trimmed.endsWith('*') ? letters : '';
  return new RegExp(`(?<=^| )${prefix}${core}${suffix}(?= |$)`, 'gu');
}

function definedEntries<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as Partial<T>;
}
