/**
 * Vertical classification by keyword rules. Every fact (name, web addresses, department, category, business,
 * sale headings) is reduced to its words; each vertical the CRM offers scores the weights of its keywords found
 * there, times the fact's factor. Each keyword counts once per fact, and where several keywords of a vertical
 * match the same words (`reise*` and `*reisen` on "Reisen") only the heaviest counts, so overlapping keywords
 * do not inflate a score. The highest score wins; on equal scores the vertical listed first in the rules wins.
 * Pure and deterministic: the same facts and rules always give the same answer.
 */
import type { CompanyFacts } from '../../ports/enricher.ts';
import { domainWords, wordsOf } from '../text.ts';
import type { CompiledVertical, RuleField, RuleSet } from './rule-set.ts';

/** The outcome of a classification, with the evidence for logs. */
export interface Classification {
  /** The winning vertical in the spelling of the CRM's list, or null when none reached the minimum score. */
  readonly vertical: string | null;
  /** The winner's score (0 when there is none). */
  readonly score: number;
  /** The winner's matched keywords as `field:keyword`, in scoring order. */
  readonly evidence: readonly string[];
}

/** A half-open character range of a matched keyword within one text. */
type Span = readonly [start: number, end: number];

/** Classifies `company` among the `offered` verticals (the CRM's list). */
export function classifyCompany(
  rules: RuleSet,
  company: CompanyFacts,
  offered: readonly string[],
): Classification {
  const texts = factTexts(company);
  let best: Classification = { vertical: null, score: 0, evidence: [] };
  for (const vertical of rules.verticals) {
    const offeredName = offered.find((name) => vertical.names.includes(wordsOf(name)));
    if (offeredName === undefined) continue;
    let score = 0;
    const evidence: string[] = [];
    for (const [field, fieldTexts] of texts) {
      const factor = rules.fieldWeights[field];
      if (factor === 0) continue;
      for (const { keyword, weight } of matchKeywords(vertical, fieldTexts)) {
        score += weight * factor;
        evidence.push(`${field}:${keyword}`);
      }
    }
    // Strictly greater: an equal score keeps the earlier vertical (the rules' order breaks ties).
    if (score >= rules.minScore && score > best.score) best = { vertical: offeredName, score, evidence };
  }
  return best;
}

/** Each known fact as its {@link wordsOf} texts; unknown facts are left out. */
function factTexts(company: CompanyFacts): [RuleField, string[]][] {
  const single = (value: string | undefined) => (value === undefined ? [] : [wordsOf(value)]);
  const entries: [RuleField, string[]][] = [
    ['name', [wordsOf(company.name)]],
    ['urls', company.urls.map(domainWords)],
    ['department', single(company.department)],
    ['category', single(company.category)],
    ['business', single(company.business)],
    ['saleHeadings', (company.saleHeadings ?? []).map(wordsOf)],
  ];
  return entries
    .map(([field, values]): [RuleField, string[]] => [field, values.filter((text) => text !== '')])
    .filter(([, values]) => values.length > 0);
}

/**
 * The keywords of `vertical` found in one fact's texts. Keywords are tried heaviest first; a keyword counts
 * once, at its first occurrence that does not overlap words an earlier (heavier) keyword already claimed.
 */
function matchKeywords(
  vertical: CompiledVertical,
  texts: readonly string[],
): { keyword: string; weight: number }[] {
  const claimed: Span[][] = texts.map(() => []);
  const found: { keyword: string; weight: number }[] = [];
  for (const keyword of vertical.keywords) {
    const hit = texts.some((text, index) => {
      const taken = claimed[index] ?? [];
      for (const match of text.matchAll(keyword.pattern)) {
        const span: Span = [match.index, match.index + match[0].length];
        if (taken.some(([start, end]) => span[0] < end && start < span[1])) continue;
        taken.push(span);
        return true;
      }
      return false;
    });
    if (hit) found.push({ keyword: keyword.keyword, weight: keyword.weight });
  }
  return found;
}
