/**
 * The common bases of the vendor connectors' errors. Each vendor extends them with its own stable codes
 * (`SUPEROFFICE_*`, `ESPOCRM_*`, `ADVOWARE_*`); the bases fix what the vendors share: a vendor failure ends a
 * request with 502, an API error carries the HTTP status and the route template, and no answer (status 0), a
 * 429 or a 5xx is retryable unless the vendor says otherwise. A call that is not idempotent and got no usable
 * answer is ambiguous, with one code for every vendor ({@link VendorWriteAmbiguousError}). Messages never
 * contain tokens or secrets.
 */
import { CrmsyncError } from '../../core/errors.ts';

/** Whether trying a vendor call again later may succeed: no answer at all (status 0), 429, or 5xx. */
export function isTransientStatus(status: number): boolean {
  return status === 0 || status === 429 || status >= 500;
}

/** `GET Contact/:id answered 404: Not found`: the message of an error answer, with the vendor's words if any. */
export function answeredMessage(what: string, status: number, vendorWords: string): string {
  return `${what} answered ${status}${vendorWords === '' ? '' : `: ${vendorWords}`}`;
}

/** Options of {@link VendorApiError}. */
export interface VendorApiErrorOptions {
  /** The HTTP status the vendor answered (0 for a network error or timeout). */
  readonly status: number;
  /** The route template of the call, e.g. `GET Contact/:id`. */
  readonly route: string;
  /** Default: {@link isTransientStatus} of the status. */
  readonly retryable?: boolean;
  /** The wait the vendor asked for (Retry-After), in milliseconds. */
  readonly retryAfterMs?: number;
  readonly cause?: unknown;
  /** Details beyond status and route, for logs and the run history. Never secrets. */
  readonly details?: Record<string, unknown>;
}

/** A vendor API answered with an unexpected status or shape, or not at all (status 0). */
export class VendorApiError extends CrmsyncError {
  /** The HTTP status the vendor answered (0 for a network error or timeout). */
  readonly status: number;
  /** The route template of the call. */
  readonly route: string;

  constructor(code: string, message: string, options: VendorApiErrorOptions) {
    super(code, message, {
      retryable: options.retryable ?? isTransientStatus(options.status),
      httpStatus: 502,
      retryAfterMs: options.retryAfterMs,
      details: { status: options.status, route: options.route, ...options.details },
      cause: options.cause,
    });
    this.status = options.status;
    this.route = options.route;
  }
}

/**
 * A call that is not idempotent (a create) was sent but got no usable answer: none at all (a timeout, the
 * connection reset after the request went out) or a 5xx. The vendor may have applied it or not, so it is not
 * sent again blindly. Retryable, but whoever retries a create must first look for the record it would create
 * (`WriteRequest.match`): connectors do so themselves when given a match. Code `VENDOR_WRITE_AMBIGUOUS`,
 * whatever the vendor; the status (0 for no answer) and route are kept.
 */
export class VendorWriteAmbiguousError extends VendorApiError {
  constructor(message: string, options: Omit<VendorApiErrorOptions, 'retryable'>) {
    super('VENDOR_WRITE_AMBIGUOUS', message, { ...options, retryable: true });
  }
}

/** Options of {@link VendorAuthError}. */
export interface VendorAuthErrorOptions {
  /** Whether the cause was transient (network, 5xx or 429 of the auth host); default false. */
  readonly retryable?: boolean;
  /** The status the auth host answered, when it answered. */
  readonly status?: number;
  readonly cause?: unknown;
}

/**
 * Getting access to a vendor failed: a token request was refused, or where the API lives could not be found
 * out. Raised instead of returning null (seed 001: a silent null made jobs "succeed" without work). Not
 * retryable unless the cause was transient: the operator must fix credentials or settings.
 */
export class VendorAuthError extends CrmsyncError {
  constructor(code: string, message: string, options: VendorAuthErrorOptions = {}) {
    super(code, message, {
      retryable: options.retryable ?? false,
      httpStatus: 502,
      details: options.status === undefined ? undefined : { status: options.status },
      cause: options.cause,
    });
  }
}
