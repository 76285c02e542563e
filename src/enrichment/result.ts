/**
 * The result shape remote providers answer with, and how an answer becomes an {@link EnrichmentResult}:
 * validated with zod (a mismatch is `ENRICHER_BAD_RESPONSE` naming each wrong field), texts trimmed, empty
 * texts read as "no proposal", a vertical outside the request's list dropped (the CRM could not store it),
 * and no person opener for a request without a person.
 */
import { z } from 'zod';
import { EnricherError } from '../core/errors.ts';
import type { EnrichmentRequest, EnrichmentResult } from '../ports/enricher.ts';
import type { Logger } from '../ports/logger.ts';
import { findAllowedVertical } from './text.ts';

/** The four proposals, each a string or null; every key is required, other keys are ignored. */
const wireResultSchema = z.object({
  vertical: z.string().nullable(),
  summary: z.string().nullable(),
  companyOpener: z.string().nullable(),
  personOpener: z.string().nullable(),
});

/**
 * Validates `answer` against {@link wireResultSchema} and normalises it for `request`. `context` starts the
 * error message (e.g. `http enricher: POST https://ce.example/enrich`).
 */
export function toEnrichmentResult(
  answer: unknown,
  request: EnrichmentRequest,
  context: { readonly description: string; readonly logger: Logger },
): EnrichmentResult {
  const parsed = wireResultSchema.safeParse(answer);
  if (!parsed.success) {
    throw new EnricherError(
      'ENRICHER_BAD_RESPONSE',
      `${context.description} answered JSON that does not fit the result contract: ${describeIssues(parsed.error)}`,
    );
  }
  const { vertical, summary, companyOpener, personOpener } = parsed.data;
  const proposed = text(vertical);
  const allowed = proposed === null ? null : findAllowedVertical(proposed, request.verticals);
  if (proposed !== null && allowed === null) {
    context.logger.debug(
      { proposed, offered: request.verticals },
      'enricher proposed a vertical outside the list; ignored',
    );
  }
  return {
    vertical: allowed,
    summary: text(summary),
    companyOpener: text(companyOpener),
    personOpener: request.person === undefined ? null : text(personOpener),
  };
}

/** Trimmed text, or null for null and blank text. */
function text(value: string | null): string | null {
  const trimmed = value?.trim() ?? '';
  return trimmed === '' ? null : trimmed;
}

/** A zod error as one line: `path: message` per issue, `;`-separated, for error messages. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map(
      (issue) => `${issue.path.length === 0 ? '(root)' : issue.path.map(String).join('.')}: ${issue.message}`,
    )
    .join('; ');
}
