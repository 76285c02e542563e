/**
 * The API access of the simulated firm (reference §1, §3): the Kanzleikennung, the advoware database and
 * employee the token request names, and the App-ID + API key advoware GmbH issues to a third party. The
 * simulator serves exactly one firm with one API user; every field can be overridden (tests use the
 * reference's test vector: App-ID `app-123`, API key base64("test-secret-key")).
 */
import { ConfigError } from '../../core/errors.ts';

/** Credentials of the simulated firm's API user; the same shape a client needs to get a token. */
export interface AdvowareCredentials {
  /** The Kanzleikennung the configurator and the token endpoint know. */
  readonly kanzlei: string;
  /** The advoware database name (token body `Database`). */
  readonly database: string;
  /** The employee short code (Mitarbeiterkürzel, token body `User`). */
  readonly user: string;
  /** Token body `Role`; the docs and all known code send 2 (reference §3). */
  readonly role: number;
  /** The employee's advoware password, sent in plain text in the token body. */
  readonly password: string;
  /** The App-ID advoware GmbH issued. */
  readonly appId: string;
  /** The API key as issued: standard base64; its decoded bytes are the HMAC-SHA512 key. */
  readonly apiKey: string;
}

/** The credentials a simulator has unless told otherwise. Not secret: they only open the simulator. */
export const DEFAULT_SIM_CREDENTIALS: AdvowareCredentials = {
  kanzlei: 'crmsync-sim',
  database: 'advoware',
  user: 'API',
  role: 2,
  password: 'crmsync-sim-password',
  appId: 'crmsync-sim-app',
  apiKey: Buffer.from('crmsync-sim-api-key-0123456789ab', 'utf8').toString('base64'),
};

/**
 * Whether two Kanzleikennungen (or database / user names) are the same. [INF] Compared case-insensitively,
 * as Windows-hosted services usually do; the vendor does not say.
 */
export function sameName(a: string, b: string): boolean {
  return a.localeCompare(b, 'de', { sensitivity: 'accent' }) === 0;
}

/** Standard base64 with padding, as the vendor issues API keys. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The defaults overridden by `overrides`, checked: every text non-blank, `role` an integer, `apiKey`
 * non-empty standard base64. Throws a {@link ConfigError} naming every bad field.
 */
export function resolveCredentials(overrides: Partial<AdvowareCredentials> = {}): AdvowareCredentials {
  const credentials: AdvowareCredentials = { ...DEFAULT_SIM_CREDENTIALS, ...overrides };
  const problems: { path: string; message: string }[] = [];
  const textFields = ['kanzlei', 'database', 'user', 'password', 'appId', 'apiKey'] as const;
  for (const field of textFields) {
    const value: unknown = credentials[field];
    if (typeof value !== 'string' || value.trim() === '')
      problems.push({ path: `credentials.${field}`, message: 'must be a non-blank string' });
  }
  if (!Number.isInteger(credentials.role))
    problems.push({ path: 'credentials.role', message: 'must be an integer (the vendor uses 2)' });
  if (typeof credentials.apiKey === 'string' && !BASE64.test(credentials.apiKey))
    problems.push({
      path: 'credentials.apiKey',
      message: 'must be standard base64 with padding, e.g. Buffer.from(secret).toString("base64")',
    });
  if (problems.length > 0)
    throw new ConfigError(
      `Advoware simulator credentials are invalid: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}.`,
      problems,
    );
  return credentials;
}
