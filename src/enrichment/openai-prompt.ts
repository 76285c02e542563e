/**
 * The chat-completions request of the `openai` enricher: a system prompt with the task, a user message with
 * the allowed verticals and the facts (as JSON, so a company name cannot break out of its place in the
 * prompt), and a strict JSON schema for the answer. The schema already limits the vertical to the allowed
 * names and forces `personOpener` to null without a person; servers that ignore `response_format` (some local
 * ones) are caught by validating the answer anyway.
 */
import type { EnrichmentRequest } from '../ports/enricher.ts';

/** The default system prompt; replace it with the `systemPrompt` option. */
export const DEFAULT_SYSTEM_PROMPT = [
  'You research companies for a B2B sales team and fill fields in their CRM.',
  'Use only the facts you are given and general knowledge about well-known companies; never invent specific',
  'claims such as customers, figures or awards.',
  'vertical: exactly one name from the allowed list, spelled as listed, or null when none fits or the facts are',
  'too thin to tell.',
  'summary: two or three factual sentences on what the company does.',
  'companyOpener: one friendly sentence to open a conversation with the company.',
  'personOpener: one sentence addressed to the given person, referring to their role where known; null when no',
  'person is given.',
  'Write summary and openers in the requested language. Answer only with the JSON object the schema describes.',
].join(' ');

/** Name of the response schema sent in `response_format.json_schema.name`. */
const RESPONSE_SCHEMA_NAME = 'crm_enrichment';

/** What the request builder needs from the provider's settings. */
export interface ChatRequestSettings {
  readonly model: string;
  readonly temperature: number;
  readonly systemPrompt?: string | undefined;
}

/** The body of `POST {baseUrl}/chat/completions`. */
export function buildChatRequest(request: EnrichmentRequest, settings: ChatRequestSettings): object {
  return {
    model: settings.model,
    temperature: settings.temperature,
    messages: [
      { role: 'system', content: settings.systemPrompt ?? DEFAULT_SYSTEM_PROMPT },
      { role: 'user', content: userMessage(request) },
    ],
    response_format: {
      type: 'json_schema',
      json_schema: { name: RESPONSE_SCHEMA_NAME, strict: true, schema: responseSchema(request) },
    },
  };
}

/** The facts, the allowed verticals and the language. */
function userMessage(request: EnrichmentRequest): string {
  const lines = [
    `Allowed verticals (JSON): ${JSON.stringify(request.verticals)}`,
    `Language of summary and openers: ${request.language}`,
    `Company facts (JSON): ${JSON.stringify(request.company)}`,
    request.person === undefined
      ? 'No person is given: personOpener must be null.'
      : `Person facts (JSON): ${JSON.stringify(request.person)}`,
  ];
  return lines.join('\n');
}

/**
 * The JSON schema of the answer, in the subset strict mode accepts: every property required, no others,
 * nullable as a type union.
 */
function responseSchema(request: EnrichmentRequest): object {
  const nullableText = (description: string) => ({ type: ['string', 'null'], description });
  return {
    type: 'object',
    additionalProperties: false,
    required: ['vertical', 'summary', 'companyOpener', 'personOpener'],
    properties: {
      vertical:
        request.verticals.length === 0
          ? { type: 'null', description: 'No verticals are offered.' }
          : {
              type: ['string', 'null'],
              enum: [...request.verticals, null],
              description: 'One of the allowed verticals, or null.',
            },
      summary: nullableText('Two or three factual sentences on what the company does.'),
      companyOpener: nullableText('One sentence to open a conversation with the company.'),
      personOpener:
        request.person === undefined
          ? { type: 'null', description: 'No person is given.' }
          : nullableText('One sentence addressed to the person.'),
    },
  };
}
