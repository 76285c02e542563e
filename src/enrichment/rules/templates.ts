/**
 * Text templates of the `rules` enricher: a summary, a company opener and a person opener per language.
 *
 * A template is text with placeholders in braces (`{company}`). A part in square brackets is optional: it is
 * kept only when every placeholder inside it is known, so `{company} is a company[ based in {country}].`
 * reads `Hanse Logistik GmbH is a company.` when the country is unknown. Placeholders outside brackets that
 * are unknown become empty. Rendering is pure: the same values always give the same text, which the enrich
 * flow relies on to write nothing when nothing changed.
 */
import { z } from 'zod';

/** The texts a template set produces. */
export const TEMPLATE_KEYS = ['summary', 'companyOpener', 'personOpener'] as const;

/** One of {@link TEMPLATE_KEYS}. */
export type TemplateKey = (typeof TEMPLATE_KEYS)[number];

/** One complete set of templates (one language). */
export type TemplateSet = Readonly<Record<TemplateKey, string>>;

/**
 * The placeholders templates may use: `company` (name), `vertical`, `country`, `person` (first and last
 * name), `jobTitle` (job title, else position), `recentSales` (up to three sale headings, newest first).
 */
export const PLACEHOLDERS = ['company', 'vertical', 'country', 'person', 'jobTitle', 'recentSales'] as const;

/** One of {@link PLACEHOLDERS}. */
export type Placeholder = (typeof PLACEHOLDERS)[number];

/** Values to fill in; absent or empty means unknown. */
export type TemplateValues = Partial<Record<Placeholder, string>>;

/** The built-in templates. English is the fallback of every other language. */
export const BUILT_IN_TEMPLATES: Readonly<Record<string, TemplateSet>> = {
  en: {
    summary:
      '{company} is a company[ in the {vertical} sector][ based in {country}].[ Recent topics: {recentSales}.]',
    companyOpener:
      'We work with many companies[ in {vertical}] and would like to hear where {company} could use support right now.',
    personOpener:
      'Hello[ {person}], you know best[ as {jobTitle}] what moves {company}[ in {vertical}] – may I briefly show you how similar companies handle it?',
  },
  de: {
    summary:
      '{company} ist ein Unternehmen[ der Branche {vertical}][ mit Sitz in {country}].[ Aktuelle Themen: {recentSales}.]',
    companyOpener:
      'Wir arbeiten mit vielen Unternehmen[ der Branche {vertical}] zusammen und möchten gern erfahren, wo {company} gerade Unterstützung gebrauchen kann.',
    personOpener:
      'Guten Tag[ {person}], Sie wissen[ als {jobTitle}] am besten, was {company}[ in der Branche {vertical}] bewegt – darf ich Ihnen kurz zeigen, wie vergleichbare Unternehmen damit umgehen?',
  },
};

const PLACEHOLDER_PATTERN = /\{([^{}]*)\}/g;
const OPTIONAL_PART_PATTERN = /\[([^[\]]*)\]/g;

/** A template: known placeholders only, square brackets balanced and not nested. */
const templateSchema = z
  .string()
  .min(1)
  .superRefine((template, context) => {
    for (const [, name] of template.matchAll(PLACEHOLDER_PATTERN)) {
      if (!(PLACEHOLDERS as readonly string[]).includes(name ?? '')) {
        context.addIssue({
          code: 'custom',
          message: `unknown placeholder {${name}}; use one of ${PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}`,
        });
      }
    }
    if (/[[\]]/.test(template.replace(OPTIONAL_PART_PATTERN, ''))) {
      context.addIssue({
        code: 'custom',
        message: 'square brackets mark optional parts: each `[` needs a matching `]`, and they cannot nest',
      });
    }
  });

/** Template overrides: language (`de`, `en`, `fr`, ...) -> the templates to replace. */
export const templateOverridesSchema = z
  .record(
    z
      .string()
      .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'expected a language tag such as de, en or de-AT')
      .transform((tag) => tag.toLowerCase()),
    z.strictObject({
      summary: templateSchema.optional(),
      companyOpener: templateSchema.optional(),
      personOpener: templateSchema.optional(),
    }),
  )
  .default({});

/** Template overrides after validation. */
export type TemplateOverrides = z.output<typeof templateOverridesSchema>;

/**
 * The templates for `language`: for each text the most specific language that has it wins, in the order
 * full tag (`de-at`), primary language (`de`), then English; overrides before built-ins at each step.
 */
export function templatesFor(language: string, overrides: TemplateOverrides): TemplateSet {
  const tag = language.trim().toLowerCase();
  const chain = [...new Set([tag, tag.split('-')[0] ?? tag, 'en'])];
  const sources = chain.flatMap((lang) => [overrides[lang], BUILT_IN_TEMPLATES[lang]]);
  const pick = (key: TemplateKey): string => {
    for (const source of sources) {
      const template = source?.[key];
      if (template !== undefined) return template;
    }
    // Unreachable: the English built-ins define every key.
    throw new Error(`no template for ${key}`);
  };
  return {
    summary: pick('summary'),
    companyOpener: pick('companyOpener'),
    personOpener: pick('personOpener'),
  };
}

/** Fills in `template` (see the module comment), then tidies the spacing. */
export function renderTemplate(template: string, values: TemplateValues): string {
  const known = (name: string): string | undefined => {
    const value = values[name as Placeholder]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const fill = (text: string) => text.replace(PLACEHOLDER_PATTERN, (_, name: string) => known(name) ?? '');
  const withOptionalParts = template.replace(OPTIONAL_PART_PATTERN, (_, part: string) => {
    const names = [...part.matchAll(PLACEHOLDER_PATTERN)].map((match) => match[1] ?? '');
    return names.every((name) => known(name) !== undefined) ? part : '';
  });
  return fill(withOptionalParts)
    .replace(/\s+/g, ' ')
    .replace(/\s+([.,;:!?])/g, '$1')
    .trim();
}
