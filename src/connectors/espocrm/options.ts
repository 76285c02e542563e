/**
 * Options of an `espocrm` connection, validated when the config is loaded. Secrets come from the environment,
 * either all at once through {@link espoCrmEnv}:
 *
 * ```ts
 * connections: { espocrm: { connector: 'espocrm', options: espoCrmEnv() } }
 * ```
 *
 * or one by one through `env()`, mixed with values written in the config:
 *
 * ```ts
 * options: { ...espoCrmEnv(), requestsPerSecond: 5, entities: { CBeteiligte: { skipDuplicateCheck: true } } }
 * ```
 */
import { z } from 'zod';
import { env } from '../../config/secrets.ts';
import type { EnvRef } from '../../config/secrets.ts';

/** The vendor's list limit (`recordListMaxSizeLimit`): a larger `maxSize` is answered 403 (reference §3). */
export const ESPOCRM_MAX_PAGE_SIZE = 200;

/**
 * Entity type names: letters, digits and `_`, starting with a letter (`Account`, `CBeteiligte`). Attribute
 * names follow the same rule (`advowareId`, `cMyField`).
 */
export const ENTITY_TYPE_PATTERN = /^[A-Za-z][A-Za-z0-9_]*$/;

/** Webhook ids: 17 hex characters or a UUID; anything without `:`, `,` or white space is accepted here. */
const WEBHOOK_ID_PATTERN = /^[^:,\s]+$/;

const secretSchema = z
  .string()
  .trim()
  .min(16, 'use the webhook secretKey EspoCRM returned (32 hex characters)');

/**
 * `webhookSecrets` as written in the config or in ESPOCRM_WEBHOOK_SECRET: one secret for every webhook, a map
 * of webhook id to secretKey, or that map as the string `id1:secret1,id2:secret2` (the form an environment
 * variable can hold; ids and secretKeys never contain `:` or `,`).
 */
const webhookSecretsSchema = z.preprocess(
  (value) => (typeof value === 'string' && value.includes(':') ? parseSecretList(value) : value),
  z.union([
    secretSchema.regex(
      /^[^:,]+$/,
      'expected one secretKey, or webhookId:secretKey pairs separated by commas',
    ),
    z.record(
      z.string().regex(WEBHOOK_ID_PATTERN, 'expected a webhook id such as 6651a8e2f0b1c4d7e'),
      secretSchema,
    ),
  ]),
);

function parseSecretList(value: string): Record<string, string> | string {
  const entries = value
    .split(',')
    .map((pair) => pair.trim())
    .filter((pair) => pair !== '')
    .map((pair) => {
      const colon = pair.indexOf(':');
      return colon < 0
        ? (['', ''] as const)
        : ([pair.slice(0, colon).trim(), pair.slice(colon + 1).trim()] as const);
    });
  // A malformed list is handed on unchanged, so that the schema reports it with its path.
  if (entries.some(([id, secret]) => id === '' || secret === '')) return value;
  return Object.fromEntries(entries);
}

/**
 * How requests authenticate (reference §1). `apiKey` and `hmac` identify an API-type user (the normal case);
 * `password` signs in as a regular user with `Espo-Authorization`, for what API users may not do (an admin
 * creating in-app notifications, reference §6).
 */
const authSchema = z.discriminatedUnion('mode', [
  /** `X-Api-Key: <apiKey>`. */
  z.strictObject({ mode: z.literal('apiKey'), apiKey: z.string().min(1) }),
  /** `X-Hmac-Authorization`: the key plus an HMAC of method and path with the secret key; the secret never travels. */
  z.strictObject({ mode: z.literal('hmac'), apiKey: z.string().min(1), secretKey: z.string().min(1) }),
  /** `Espo-Authorization: base64(username:password)` on every request; use HTTPS. */
  z.strictObject({
    mode: z.literal('password'),
    username: z
      .string()
      .min(1)
      .refine((name) => !name.includes(':'), 'a user name cannot contain ":"'),
    password: z.string().min(1),
  }),
]);

/** Per entity type settings. */
const entitySettingsSchema = z.strictObject({
  /**
   * Attributes list() selects (`id` and `modifiedAt` are always added). Default: all attributes. Include
   * `versionNumber` where the entity type has optimistic concurrency control, so that versions come back.
   */
  select: z.array(z.string().regex(ENTITY_TYPE_PATTERN, 'expected an attribute name')).optional(),
  /**
   * Creates send `X-Skip-Duplicate-Check: true`. Default false: a create that matches an existing record fails
   * with ESPOCRM_DUPLICATE (carrying the matches) instead of creating a second one.
   */
  skipDuplicateCheck: z.boolean().default(false),
});

/** Zod schema of an espocrm connection's `options`. Unknown keys are rejected. */
export const espoCrmOptionsSchema = z.strictObject({
  /**
   * The site URL, e.g. `https://crm.example.com` or `https://example.com/espo` (installed in a folder). A
   * trailing `/api/v1` is accepted and dropped; the client appends it.
   */
  baseUrl: z.url().transform(normaliseBaseUrl),
  auth: authSchema,
  /**
   * Webhook secretKeys: one secret, or webhook id -> secretKey (EspoCRM makes one secretKey per webhook, and
   * one webhook per event). The webhook id inside the signature header selects the secret.
   */
  webhookSecrets: webhookSecretsSchema.optional(),
  /**
   * Accept the legacy `X-Signature` header (binary HMAC) when `Signature` is absent. EspoCRM sends both
   * until v11; before v9.0 it sent only `X-Signature` (reference §5).
   */
  acceptLegacySignature: z.boolean().default(true),
  /**
   * Request budget per connection. [UNCONFIRMED] EspoCRM has no built-in API rate limit; a reverse proxy may
   * have one (its 429 Retry-After is honoured). 10/s keeps a shared instance responsive.
   */
  requestsPerSecond: z.number().positive().max(1_000).default(10),
  /** Longest total wait for 429 Retry-After answers within one call before it fails as retryable. */
  maxRateLimitWaitMs: z.number().int().min(0).default(60_000),
  /** Retries of idempotent calls (GET, PUT, PATCH, DELETE) after 5xx, timeouts and connection errors. */
  maxRetries: z.number().int().min(0).max(10).default(3),
  /** Per-request timeout. */
  requestTimeoutMs: z.number().int().positive().default(30_000),
  /** Page size of lists (`maxSize`), at most the vendor's limit of 200. */
  pageSize: z.number().int().min(1).max(ESPOCRM_MAX_PAGE_SIZE).default(ESPOCRM_MAX_PAGE_SIZE),
  /**
   * How list filters travel: `searchParams` (one JSON parameter, keeps value types; the official JS client's
   * form) or `query` (PHP bracket notation, every value a string; the Python client's form).
   */
  whereEncoding: z.enum(['searchParams', 'query']).default('searchParams'),
  /** Settings per entity type, e.g. `{ CBeteiligte: { skipDuplicateCheck: true } }`. */
  entities: z
    .record(
      z.string().regex(ENTITY_TYPE_PATTERN, 'expected an entity type such as CBeteiligte'),
      entitySettingsSchema,
    )
    .default({}),
});

/** An espocrm connection's options after validation (defaults applied). */
export type EspoCrmOptions = z.output<typeof espoCrmOptionsSchema>;

/** The auth part of {@link EspoCrmOptions}. */
export type EspoCrmAuth = EspoCrmOptions['auth'];

/** Settings of one entity type, defaults applied. */
export type EspoCrmEntitySettings = z.output<typeof entitySettingsSchema>;

/** The site URL without trailing slashes and without a trailing `/api/v1`. */
function normaliseBaseUrl(url: string): string {
  return url.replace(/\/+$/, '').replace(/\/api\/v1$/i, '');
}

/** The settings of `entityType`, defaults applied when the config names none. */
export function entitySettings(
  options: Pick<EspoCrmOptions, 'entities'>,
  entityType: string,
): EspoCrmEntitySettings {
  return options.entities[entityType] ?? { skipDuplicateCheck: false };
}

/** The environment variables {@link espoCrmEnv} reads. */
export const ESPOCRM_ENV_VARIABLES = {
  baseUrl: 'ESPOCRM_URL',
  apiKey: 'ESPOCRM_API_KEY',
  secretKey: 'ESPOCRM_SECRET_KEY',
  username: 'ESPOCRM_USERNAME',
  password: 'ESPOCRM_PASSWORD',
  webhookSecrets: 'ESPOCRM_WEBHOOK_SECRET',
} as const;

/** What {@link espoCrmEnv} returns: env() references in the shape of the options. */
export interface EspoCrmEnvOptions {
  readonly baseUrl: EnvRef;
  readonly auth:
    | { readonly mode: 'apiKey'; readonly apiKey: EnvRef }
    | { readonly mode: 'hmac'; readonly apiKey: EnvRef; readonly secretKey: EnvRef }
    | { readonly mode: 'password'; readonly username: EnvRef; readonly password: EnvRef };
  readonly webhookSecrets?: EnvRef;
}

/**
 * Connection options read from the environment (after `.env`), for a config file. `ESPOCRM_URL` and
 * `ESPOCRM_API_KEY` are required (an unset one is reported with its config path). With `ESPOCRM_SECRET_KEY`
 * set, requests use HMAC auth, otherwise the API key alone. Without an API key but with `ESPOCRM_USERNAME`,
 * they sign in as that user with `ESPOCRM_PASSWORD`. `ESPOCRM_WEBHOOK_SECRET` (one secretKey, or
 * `webhookId:secretKey` pairs separated by commas) is included only when set.
 */
export function espoCrmEnv(environment: NodeJS.ProcessEnv = process.env): EspoCrmEnvOptions {
  const isSet = (name: string) => (environment[name] ?? '') !== '';
  const apiKey = env(ESPOCRM_ENV_VARIABLES.apiKey);
  const byPassword = !isSet(ESPOCRM_ENV_VARIABLES.apiKey) && isSet(ESPOCRM_ENV_VARIABLES.username);
  return {
    baseUrl: env(ESPOCRM_ENV_VARIABLES.baseUrl),
    auth: byPassword
      ? {
          mode: 'password',
          username: env(ESPOCRM_ENV_VARIABLES.username),
          password: env(ESPOCRM_ENV_VARIABLES.password),
        }
      : isSet(ESPOCRM_ENV_VARIABLES.secretKey)
        ? { mode: 'hmac', apiKey, secretKey: env(ESPOCRM_ENV_VARIABLES.secretKey) }
        : { mode: 'apiKey', apiKey },
    ...(isSet(ESPOCRM_ENV_VARIABLES.webhookSecrets) && {
      webhookSecrets: env(ESPOCRM_ENV_VARIABLES.webhookSecrets),
    }),
  };
}
