/**
 * The `openai` enricher: any OpenAI-compatible chat-completions endpoint (OpenAI, Azure-style gateways,
 * OpenRouter, or a local model server such as Ollama, vLLM or llama.cpp, which need no key). It sends
 * `POST {baseUrl}/chat/completions` with a strict JSON-schema `response_format` (./openai-prompt.ts), reads
 * `choices[0].message.content` as JSON and validates it like the `http` provider's answer (./result.ts).
 */
import { z } from 'zod';
import { EnricherError } from '../core/errors.ts';
import type { EnrichmentRequest, EnrichmentResult, EnrichOptions } from '../ports/enricher.ts';
import type { Logger } from '../ports/logger.ts';
import { describeUrl, httpTransportShape, parseJsonBody } from './json-http.ts';
import { buildChatRequest } from './openai-prompt.ts';
import { RemoteEnricher } from './remote-enricher.ts';
import { describeIssues, toEnrichmentResult } from './result.ts';

/** Zod schema of the `openai` provider's settings. */
export const openAiEnricherSchema = z.strictObject({
  provider: z.literal('openai'),
  /** Base URL of the API, up to and including the version (`/v1`); a trailing slash is ignored. */
  baseUrl: z
    .url({ protocol: /^https?$/, error: 'expected an http(s) URL such as http://127.0.0.1:11434/v1' })
    .default('https://api.openai.com/v1')
    .transform((url) => url.replace(/\/+$/, '')),
  /** Model name, e.g. `gpt-4o-mini` or a local model's name. */
  model: z.string().min(1),
  /** Sent as `Authorization: Bearer <apiKey>`. Optional: local model servers need none. */
  apiKey: z.string().min(1).optional(),
  /** Sampling temperature; 0 keeps answers as repeatable as the model allows. */
  temperature: z.number().min(0).max(2).default(0),
  /** Replaces the built-in system prompt (the allowed verticals and facts are always sent). */
  systemPrompt: z.string().min(1).optional(),
  ...httpTransportShape,
});

/** The `openai` provider's settings after validation. */
export type OpenAiEnricherConfig = z.output<typeof openAiEnricherSchema>;

/** The part of a chat completion the enricher reads; other fields are ignored. */
const chatCompletionSchema = z.object({
  choices: z
    .array(
      z.object({
        finish_reason: z.string().nullish(),
        message: z.object({ content: z.string().nullish(), refusal: z.string().nullish() }),
      }),
    )
    .min(1),
});

/** The chat-completions enricher. */
export class OpenAiEnricher extends RemoteEnricher<OpenAiEnricherConfig> {
  constructor(config: OpenAiEnricherConfig, logger: Logger) {
    super('openai', config, logger);
  }

  async enrich(request: EnrichmentRequest, options: EnrichOptions = {}): Promise<EnrichmentResult> {
    const url = `${this.config.baseUrl}/chat/completions`;
    const description = `openai enricher: POST ${describeUrl(url)} (model ${this.config.model})`;
    const answer = await this.client.postJson(url, buildChatRequest(request, this.config), options.signal);
    const content = messageContent(answer, description);
    const json = parseJsonBody(stripCodeFence(content), `${description} answered message content`);
    return toEnrichmentResult(json, request, { description, logger: this.logger });
  }

  /** GETs `{baseUrl}/models` and reports whether the model is listed (local servers may not list it). */
  async check(): Promise<{ ok: boolean; message: string }> {
    const { ok, message, answer } = await this.client.check(`${this.config.baseUrl}/models`, false);
    if (answer === undefined) return { ok, message };
    const listed = listedModels(answer.text);
    if (listed === undefined) return { ok, message };
    return listed.includes(this.config.model)
      ? { ok, message: `${message}; model ${this.config.model} is available` }
      : {
          ok,
          message: `${message}; model ${this.config.model} is not listed (a local server may still serve it)`,
        };
  }
}

/** `choices[0].message.content`, or ENRICHER_BAD_RESPONSE saying why there is no usable content. */
function messageContent(answer: unknown, description: string): string {
  const parsed = chatCompletionSchema.safeParse(answer);
  if (!parsed.success) {
    throw new EnricherError(
      'ENRICHER_BAD_RESPONSE',
      `${description} answered JSON that is not a chat completion (expected choices[0].message.content): ${describeIssues(parsed.error)}`,
    );
  }
  const choice = parsed.data.choices[0];
  const refusal = choice?.message.refusal;
  if (typeof refusal === 'string' && refusal !== '') {
    throw new EnricherError('ENRICHER_BAD_RESPONSE', `${description}: the model refused: ${refusal}`);
  }
  if (choice?.finish_reason === 'length') {
    throw new EnricherError(
      'ENRICHER_BAD_RESPONSE',
      `${description}: the answer was cut off (finish_reason "length"); the model's output limit is too small`,
    );
  }
  const content = choice?.message.content;
  if (typeof content !== 'string' || content.trim() === '') {
    throw new EnricherError('ENRICHER_BAD_RESPONSE', `${description} answered without message content`);
  }
  return content;
}

/** Local models sometimes wrap JSON in a Markdown code fence although asked not to; unwrap it. */
function stripCodeFence(content: string): string {
  const fenced = /^\s*```(?:json)?\s*\n([\s\S]*?)\n?```\s*$/i.exec(content);
  return fenced?.[1] ?? content;
}

/** The model ids of a `/models` answer (`{"data": [{"id": ...}]}`), or undefined for another shape. */
function listedModels(text: string): string[] | undefined {
  const parsed = z.object({ data: z.array(z.object({ id: z.string() })) }).safeParse(safeJson(text));
  return parsed.success ? parsed.data.data.map((model) => model.id) : undefined;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
