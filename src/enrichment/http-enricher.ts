/**
 * The `http` enricher: asks a Company-Explorer-style service (seeds 000-002) over a small JSON contract.
 *
 * Request: `POST {url}` with `{"company": {...}, "person": {...}?, "verticals": [...], "language": "de"}`
 * (company and person carry the fields of CompanyFacts / PersonFacts that are known; services must ignore
 * keys they do not know). Response: `{"vertical", "summary", "companyOpener", "personOpener"}`, each a string
 * or null. The full contract, with examples, is in docs/enrichment.md.
 */
import { z } from 'zod';
import type { EnrichmentRequest, EnrichmentResult, EnrichOptions } from '../ports/enricher.ts';
import type { Logger } from '../ports/logger.ts';
import { describeUrl, httpTransportShape } from './json-http.ts';
import { RemoteEnricher } from './remote-enricher.ts';
import { toEnrichmentResult } from './result.ts';

/** Zod schema of the `http` provider's settings. */
export const httpEnricherSchema = z.strictObject({
  provider: z.literal('http'),
  /** The service's enrichment endpoint. */
  url: z.url({
    protocol: /^https?$/,
    error: 'expected an http(s) URL such as https://ce.example.com/enrich',
  }),
  /** Sent as `Authorization: Bearer <apiKey>`; use `env('...')` in the config. */
  apiKey: z.string().min(1).optional(),
  /** Answers `GET` for `crmsync doctor`; without it doctor only checks that `url` is reachable. */
  healthUrl: z.url({ protocol: /^https?$/ }).optional(),
  ...httpTransportShape,
});

/** The `http` provider's settings after validation. */
export type HttpEnricherConfig = z.output<typeof httpEnricherSchema>;

/** The JSON body POSTed to the service. */
export interface HttpEnrichmentRequestBody {
  readonly company: EnrichmentRequest['company'];
  readonly person?: EnrichmentRequest['person'];
  readonly verticals: readonly string[];
  readonly language: string;
}

/** Builds the request body of the contract from an enrichment request. */
export function toHttpRequestBody(request: EnrichmentRequest): HttpEnrichmentRequestBody {
  return {
    company: request.company,
    ...(request.person !== undefined && { person: request.person }),
    verticals: request.verticals,
    language: request.language,
  };
}

/** The Company-Explorer-style enricher. */
export class HttpEnricher extends RemoteEnricher<HttpEnricherConfig> {
  constructor(config: HttpEnricherConfig, logger: Logger) {
    super('http', config, logger);
  }

  async enrich(request: EnrichmentRequest, options: EnrichOptions = {}): Promise<EnrichmentResult> {
    const answer = await this.client.postJson(this.config.url, toHttpRequestBody(request), options.signal);
    return toEnrichmentResult(answer, request, {
      description: `http enricher: POST ${describeUrl(this.config.url)}`,
      logger: this.logger,
    });
  }

  /** GETs `healthUrl` (must answer 2xx), or without one `url` itself (any answer but 401, 403, 5xx will do). */
  async check(): Promise<{ ok: boolean; message: string }> {
    const { healthUrl, url } = this.config;
    const { ok, message } = await this.client.check(healthUrl ?? url, healthUrl !== undefined);
    return {
      ok,
      message: healthUrl === undefined && ok ? `${message} (set healthUrl for a real check)` : message,
    };
  }
}
