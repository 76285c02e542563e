/**
 * Options of an `advoware` connection, validated when the config is loaded. Secrets come from environment
 * variables, either all at once through {@link advowareEnv}:
 *
 * ```ts
 * connections: { advoware: { connector: 'advoware', options: advowareEnv() } }
 * ```
 *
 * or one by one through `env()`, mixed with values written in the config:
 *
 * ```ts
 * options: { ...advowareEnv(), requestsPerSecond: 2, betNrField: 'BetNr' }
 * ```
 *
 * Vendor facts: /work/shared/reference/advoware-api.md (cited as "reference §n").
 */
import { z } from 'zod';
import { env } from '../../config/secrets.ts';
import type { EnvRef } from '../../config/secrets.ts';

/** The vendor's public configurator that maps a Kanzleikennung to its API hosts (reference §2). */
export const DEFAULT_CONFIGURATOR_URL = 'https://www2.advo-net.net/AdvonetConfigurator/api/Url';

/** `kommKz` codes run from 1 (TelGesch) to 12 (Bea), reference §5. */
const kommKzCode = z.number().int().min(1).max(12);

/** Zod schema of an advoware connection's `options`. Unknown keys are rejected. */
export const advowareOptionsSchema = z.strictObject({
  /** The configurator endpoint; `?Kanzlei=<kanzlei>` is appended. Override it for the simulator or a proxy. */
  configuratorUrl: z.url().default(DEFAULT_CONFIGURATOR_URL),
  /** The firm's Kanzleikennung (firm identifier). */
  kanzlei: z.string().trim().min(1),
  /** The advoware database name. */
  database: z.string().trim().min(1),
  /** The employee short code (Mitarbeiterkürzel) the API acts as. */
  user: z.string().trim().min(1),
  /** Token request `Role`. The docs and all known code send 2; other values are undocumented (reference §3). */
  role: z.number().int().default(2),
  /** The user's advoware password (sent in the token request body; never logged). */
  password: z.string().min(1),
  /** The App-ID advoware GmbH issued for this integration. */
  appId: z.string().trim().min(1),
  /** The API key as issued: base64. Its decoded bytes are the HMAC-SHA512 key of the token signature. */
  apiKey: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'expected the API key as issued by advoware (standard base64)')
    .refine((value) => value.length % 4 === 0, 'a base64 API key has a length divisible by 4'),
  /** Token request `Product`: always 64 for third-party vendors (reference §3). */
  product: z.number().int().positive().default(64),
  /**
   * Get a new token this long before `expiration_utc`, so that no call starts with a token about to lapse.
   * The token lifetime is undocumented (reference §3); capped at half the lifetime when that is shorter.
   */
  tokenRefreshMarginSeconds: z.number().int().min(0).default(120),
  /**
   * Request budget of this connection (token bucket). [INF] The vendor documents no limit (reference §8); the
   * firm's own advoware Manager serves the API, so the default is deliberately gentle.
   */
  requestsPerSecond: z.number().positive().max(1_000).default(5),
  /** Longest total wait for 429 Retry-After answers within one call before it fails as retryable. */
  maxRateLimitWaitMs: z.number().int().min(0).default(60_000),
  /** Retries of idempotent calls (GET, PUT) after 5xx, timeouts and connection errors. */
  maxRetries: z.number().int().min(0).max(10).default(3),
  /** Per-request timeout. */
  requestTimeoutMs: z.number().int().positive().default(30_000),
  /**
   * [UNCONFIRMED] advoware refuses (409) a Beteiligte PUT whose body carries a `rowId` other than the stored
   * one (reference §6 does not say). On: an update is built from the record the caller read and sent with its
   * rowId, a conditional write at the vendor (`conditionalWrite: 'atomic'`), with no GET of its own. Off (the
   * default): the connector reads right before the PUT and compares the rowId itself.
   */
  putChecksRowId: z.boolean().default(false),
  /**
   * [UNCONFIRMED] A POST/PUT answer carries the written Beteiligter with its new `rowId` (seed 004 re-reads
   * after every write, which suggests it does not). On: the answer's rowId is taken and the read-back skipped.
   */
  writeAnswersRowId: z.boolean().default(false),
  /** [UNCONFIRMED] JSON name of a Beteiligter's id; the seeds use `betnr` in paths only (reference §4). */
  betNrField: z.string().trim().min(1).default('betNr'),
  /**
   * Page size of `GET Beteiligte?skip=&take=`. [UNCONFIRMED] Neither the collection nor its paging is
   * documented (reference §6); an answer with more rows than asked for is taken as "paging unsupported".
   */
  listPageSize: z.number().int().min(1).max(5_000).default(200),
  /**
   * Top-level Beteiligte fields whose value names a Kommunikation's kind, used when `kommKz` reads back as 0
   * (seed 003: `beteiligte.mobil` -> 3 Mobil). Field name -> kommKz. Further names are [UNCONFIRMED].
   */
  kommKzHints: z.record(z.string().min(1), kommKzCode).default({ mobil: 3 }),
  /**
   * Secret of the optional change webhooks ([UNCONFIRMED]: advoware is polled; only the simulator sends
   * them): `X-Advoware-Signature: sha256=<hex HMAC-SHA256>` is verified with it. Unset: webhooks are refused.
   */
  webhookSecret: z.string().min(16, 'use at least 16 random characters').optional(),
});

/** An advoware connection's options after validation (defaults applied). */
export type AdvowareOptions = z.output<typeof advowareOptionsSchema>;

/** The environment variables a connection reads through {@link advowareEnv}. */
export const ADVOWARE_ENV_VARIABLES = {
  kanzlei: 'ADVOWARE_KANZLEI',
  database: 'ADVOWARE_DATABASE',
  user: 'ADVOWARE_USER',
  password: 'ADVOWARE_PASSWORD',
  appId: 'ADVOWARE_APP_ID',
  apiKey: 'ADVOWARE_API_KEY',
  configuratorUrl: 'ADVOWARE_CONFIGURATOR_URL',
  webhookSecret: 'ADVOWARE_WEBHOOK_SECRET',
} as const;

/** Settings a connection cannot work without; loading the config reports each one that is unset. */
const REQUIRED_FROM_ENV = new Set<string>(['kanzlei', 'database', 'user', 'password', 'appId', 'apiKey']);

/**
 * Connection options read from the environment (after `.env`), for a config file. Required variables become
 * `env()` references, so an unset one is reported with its config path; optional ones (the configurator
 * override, the webhook secret) are included only when set.
 */
export function advowareEnv(
  environment: NodeJS.ProcessEnv = process.env,
): Partial<Record<keyof typeof ADVOWARE_ENV_VARIABLES, EnvRef>> {
  const options: Partial<Record<string, EnvRef>> = {};
  for (const [option, variable] of Object.entries(ADVOWARE_ENV_VARIABLES)) {
    if (REQUIRED_FROM_ENV.has(option) || (environment[variable] ?? '') !== '')
      options[option] = env(variable);
  }
  return options;
}
