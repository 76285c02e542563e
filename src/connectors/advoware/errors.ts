/**
 * Advoware-specific errors. Each extends the vendor error bases of ../shared/api-error.ts (CrmsyncErrors) with
 * a stable code; messages say what failed and which settings to check, and never contain the password, the
 * API key or a token.
 */
import { VendorApiError, VendorAuthError } from '../shared/api-error.ts';
import type { VendorApiErrorOptions, VendorAuthErrorOptions } from '../shared/api-error.ts';

/** Stable codes of {@link AdvowareAuthError}. */
export type AdvowareAuthCode =
  /** Credentials or signature rejected: check user, password, App-ID, API key, clock. */
  | 'ADVOWARE_AUTH_FAILED'
  /** The configurator did not give usable API hosts for the Kanzleikennung. */
  | 'ADVOWARE_DISCOVERY_FAILED'
  /** The firm's advoware connector/Manager is not logged on ("... ist nicht angemeldet"): retryable. */
  | 'ADVOWARE_CONNECTOR_OFFLINE'
  /** Kanzlei, database or user unknown ("... ist nicht registriert"). */
  | 'ADVOWARE_NOT_REGISTERED'
  /** The App-ID or product is not unlocked for this firm or user ("... freigeschaltet"). */
  | 'ADVOWARE_NOT_UNLOCKED';

/**
 * Getting API access failed: discovery through the configurator or the token request. Raised instead of
 * returning null, so a job never "succeeds" without work (seed 001's lesson). Retryable only when the cause
 * is transient (network, 5xx, 429, the firm's connector offline).
 */
export class AdvowareAuthError extends VendorAuthError {
  constructor(message: string, options: VendorAuthErrorOptions & { code?: AdvowareAuthCode } = {}) {
    super(options.code ?? 'ADVOWARE_AUTH_FAILED', message, options);
  }
}

/** The API answered with an unexpected status or shape (0 for none). Code ADVOWARE_NOT_FOUND for a 404. */
export class AdvowareApiError extends VendorApiError {
  constructor(message: string, options: VendorApiErrorOptions) {
    super(options.status === 404 ? 'ADVOWARE_NOT_FOUND' : 'ADVOWARE_API_ERROR', message, options);
  }
}

/**
 * The vendor's error text, if its body has one. The error body shape is unknown (reference §7): a JSON
 * string, an object with a message-like field, or plain text; cut to 300 characters.
 */
export function vendorMessage(body: unknown): string {
  let message: unknown = body;
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
    const record = body as Record<string, unknown>;
    const key = Object.keys(record).find((name) =>
      ['message', 'error_description', 'error', 'detail', 'title'].includes(name.toLowerCase()),
    );
    message = key === undefined ? undefined : record[key];
  }
  return typeof message === 'string' ? message.trim().slice(0, 300) : '';
}

/** German fragments of advo-net error texts (reference §7) and what they mean for the operator. */
const AUTH_FAILURE_KINDS: readonly {
  readonly pattern: RegExp;
  readonly code: AdvowareAuthCode;
  readonly retryable: boolean;
  readonly fix: string;
}[] = [
  {
    pattern: /nicht angemeldet/i,
    code: 'ADVOWARE_CONNECTOR_OFFLINE',
    retryable: true,
    fix: "the Kanzlei or database is not logged on: the firm's advoware Manager is offline (will retry), or ADVOWARE_DATABASE is wrong",
  },
  {
    pattern: /nicht registriert/i,
    code: 'ADVOWARE_NOT_REGISTERED',
    retryable: false,
    fix: 'check ADVOWARE_KANZLEI, ADVOWARE_APP_ID, ADVOWARE_DATABASE and ADVOWARE_USER',
  },
  {
    pattern: /signatur/i,
    code: 'ADVOWARE_AUTH_FAILED',
    retryable: false,
    fix: "the request signature was rejected: check ADVOWARE_API_KEY (base64, exactly as issued), ADVOWARE_APP_ID and this machine's clock",
  },
  {
    pattern: /freigeschaltet/i,
    code: 'ADVOWARE_NOT_UNLOCKED',
    retryable: false,
    fix: 'the App-ID (ADVOWARE_APP_ID) or the user is not unlocked for this Kanzlei; ask advoware (api@advoware.de) to unlock it',
  },
  {
    pattern: /falsche[rs]? (name|kennwort)|kennwort ung|passwort/i,
    code: 'ADVOWARE_AUTH_FAILED',
    retryable: false,
    fix: 'check ADVOWARE_USER and ADVOWARE_PASSWORD',
  },
];

/**
 * The typed error for a refused token request: the vendor's own words plus which settings to check. `url`
 * is the endpoint (never the request, which holds the password).
 */
export function tokenRequestFailure(url: string, status: number, body: unknown): AdvowareAuthError {
  const message = vendorMessage(body);
  const said = message === '' ? '' : ` ("${message}")`;
  const kind = AUTH_FAILURE_KINDS.find((candidate) => candidate.pattern.test(message));
  if (kind !== undefined)
    return new AdvowareAuthError(`${url} answered ${status}${said}: ${kind.fix}.`, {
      code: kind.code,
      retryable: kind.retryable,
      status,
    });
  if (status >= 500 || status === 429)
    return new AdvowareAuthError(`${url} answered ${status}${said}; will retry.`, {
      retryable: true,
      status,
    });
  return new AdvowareAuthError(
    `${url} answered ${status}${said}: the token request was refused; check ADVOWARE_APP_ID, ADVOWARE_API_KEY (base64, as issued), ADVOWARE_USER, ADVOWARE_PASSWORD, ADVOWARE_DATABASE, and this machine's clock (the timestamp is signed).`,
    { status },
  );
}
