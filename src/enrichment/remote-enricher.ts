/**
 * The common frame of the enrichers that call a remote service (`http`, `openai`): their validated config,
 * one {@link JsonHttpClient} (connection pool, retries, error mapping) and a logger; `close()` frees the pool.
 */
import type { EnrichmentRequest, EnrichmentResult, EnrichOptions, Enricher } from '../ports/enricher.ts';
import type { Logger } from '../ports/logger.ts';
import { JsonHttpClient } from './json-http.ts';
import type { HttpTransportSettings } from './json-http.ts';

/** Base class of the HTTP-based enrichers. */
export abstract class RemoteEnricher<Config extends HttpTransportSettings> implements Enricher {
  readonly provider: string;
  protected readonly config: Config;
  protected readonly client: JsonHttpClient;
  protected readonly logger: Logger;

  constructor(provider: string, config: Config, logger: Logger) {
    this.provider = provider;
    this.config = config;
    this.logger = logger;
    this.client = new JsonHttpClient(provider, config, logger);
  }

  abstract enrich(request: EnrichmentRequest, options?: EnrichOptions): Promise<EnrichmentResult>;

  abstract check(): Promise<{ readonly ok: boolean; readonly message: string }>;

  close(): Promise<void> {
    return this.client.close();
  }
}
