/**
 * Options of a `superoffice` connection, validated when the config is loaded. Secrets come from the same
 * environment variables the seeds used, either all at once through {@link superOfficeEnv}:
 *
 * ```ts
 * connections: { superoffice: { connector: 'superoffice', options: superOfficeEnv() } }
 * ```
 *
 * or one by one through `env()`, mixed with values written in the config:
 *
 * ```ts
 * options: { ...superOfficeEnv(), requestsPerSecond: 5, webhookSecret: env('MY_SO_SECRET') }
 * ```
 */
import { z } from 'zod';
import { env } from '../../config/secrets.ts';
import type { EnvRef } from '../../config/secrets.ts';

/** The auth subdomains: development, stage, production (reference §2.1). Numbered hosts never serve auth. */
const SUPEROFFICE_ENVIRONMENTS = ['sod', 'qaonline', 'online'] as const;

/** Zod schema of a superoffice connection's `options`. Unknown keys are rejected. */
export const superOfficeOptionsSchema = z.strictObject({
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  /** Long-lived refresh token from the authorization-code flow; reused until consent is revoked. */
  refreshToken: z.string().min(1),
  /** Sent with the refresh grant when set (the vendor treats it as optional). */
  redirectUri: z.string().min(1).optional(),
  /**
   * `sod`, `qaonline` or `online`. A numbered host (`online3`, as the seeds' SO_ENVIRONMENT held) is read as
   * its environment: numbered hosts serve API data only, never auth (reference §2.1).
   */
  environment: z.preprocess(
    (value) => (typeof value === 'string' ? value.trim().toLowerCase().replace(/\d+$/, '') : value),
    z.enum(SUPEROFFICE_ENVIRONMENTS).default('online'),
  ),
  /** Tenant id, e.g. `Cust12345`. */
  contextIdentifier: z.string().regex(/^[A-Za-z0-9_-]+$/, 'expected a tenant id such as Cust12345'),
  /**
   * Base URL of the auth host, overriding `https://{environment}.superoffice.com` (for the simulator or a
   * proxy). No trailing slash needed.
   */
  authBaseUrl: z.url().optional(),
  /** Secret of the webhook registration: `X-SuperOffice-Signature` is verified with it. */
  webhookSecret: z.string().min(16, 'use at least 16 random characters').optional(),
  /**
   * Shared token of the seeds' setup (webhooks without a Secret): accepted in `?token=` or in the header
   * {@link webhookTokenHeader}. Used only when no webhookSecret is set.
   */
  webhookToken: z.string().min(16, 'use at least 16 random characters').optional(),
  /** Header that carries the shared token (case-insensitive). */
  webhookTokenHeader: z
    .string()
    .min(1)
    .default('x-webhook-token')
    .transform((name) => name.toLowerCase()),
  /**
   * Request budget per tenant. [UNCONFIRMED] The vendor documents no limit; 10/s is the PHP-SDK's
   * "no more than 10 api calls per second" (reference §5).
   */
  requestsPerSecond: z.number().positive().max(1_000).default(10),
  /** Longest total wait for 429 Retry-After answers within one call before it fails as retryable. */
  maxRateLimitWaitMs: z.number().int().min(0).default(60_000),
  /** Retries of idempotent calls after 5xx, timeouts and connection errors. */
  maxRetries: z.number().int().min(0).max(10).default(3),
  /** Per-request timeout. */
  requestTimeoutMs: z.number().int().positive().default(30_000),
  /**
   * The API user's associate id, when it should not be read from the id_token (seed 000's circuit breaker
   * hard-coded 528; here it is discovered and this only overrides it).
   */
  apiAssociateId: z.coerce.number().int().positive().optional(),
});

/** A superoffice connection's options after validation (defaults applied). */
export type SuperOfficeOptions = z.output<typeof superOfficeOptionsSchema>;

/** The auth host of the connection: the override, or `https://{environment}.superoffice.com`. */
export function authBaseUrl(options: Pick<SuperOfficeOptions, 'authBaseUrl' | 'environment'>): string {
  return (options.authBaseUrl ?? `https://${options.environment}.superoffice.com`).replace(/\/+$/, '');
}

/**
 * The environment variables a connection reads through {@link superOfficeEnv}: the seeds' `SO_*` names, plus
 * the auth host override (the sandbox prints it) and the webhook credentials.
 */
const SUPEROFFICE_ENV_VARIABLES = {
  clientId: 'SO_CLIENT_ID',
  clientSecret: 'SO_CLIENT_SECRET',
  refreshToken: 'SO_REFRESH_TOKEN',
  contextIdentifier: 'SO_CONTEXT_IDENTIFIER',
  environment: 'SO_ENVIRONMENT',
  redirectUri: 'SO_REDIRECT_URI',
  authBaseUrl: 'SO_AUTH_BASE_URL',
  webhookSecret: 'SO_WEBHOOK_SECRET',
  webhookToken: 'SO_WEBHOOK_TOKEN',
  // Seed 000's open todo: the circuit breaker's id configurable instead of the hard-coded 528.
  apiAssociateId: 'SO_API_ASSOCIATE_ID',
} as const;

/** Settings a connection cannot work without; loading the config reports each one that is unset. */
const REQUIRED_FROM_ENV = new Set<string>(['clientId', 'clientSecret', 'refreshToken', 'contextIdentifier']);

/**
 * Connection options read from the environment (after `.env`), for a config file. Required variables become
 * `env()` references, so an unset one is reported with its config path; optional ones are included only when
 * set. `SO_ENVIRONMENT` defaults to `online`.
 */
export function superOfficeEnv(
  environment: NodeJS.ProcessEnv = process.env,
): Partial<Record<keyof typeof SUPEROFFICE_ENV_VARIABLES, EnvRef>> {
  const options: Partial<Record<string, EnvRef>> = {};
  for (const [option, variable] of Object.entries(SUPEROFFICE_ENV_VARIABLES)) {
    if (option === 'environment') options[option] = env(variable, 'online');
    else if (REQUIRED_FROM_ENV.has(option) || (environment[variable] ?? '') !== '')
      options[option] = env(variable);
  }
  return options;
}
