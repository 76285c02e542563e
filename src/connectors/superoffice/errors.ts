/**
 * SuperOffice-specific errors. Each extends CrmsyncError with a stable code; messages say what failed and how
 * to fix it, and never contain tokens or secrets.
 */
import { CrmsyncError } from '../../core/errors.ts';

/**
 * Authentication with SuperOffice failed: the token endpoint refused the refresh token, or the tenant could not
 * be discovered. Raised instead of returning null (seed 001: a silent null made jobs "succeed" without work).
 * Retryable only when the cause was transient (network, 5xx of the login host).
 */
export class SuperOfficeAuthError extends CrmsyncError {
  constructor(message: string, options: { retryable?: boolean; status?: number; cause?: unknown } = {}) {
    super('SUPEROFFICE_AUTH_FAILED', message, {
      retryable: options.retryable ?? false,
      httpStatus: 502,
      details: options.status === undefined ? undefined : { status: options.status },
      cause: options.cause,
    });
  }
}

/** The WebAPI answered with an unexpected status. Retryable for 5xx and 429. */
export class SuperOfficeApiError extends CrmsyncError {
  /** The HTTP status the WebAPI answered (0 for a network error or timeout). */
  readonly status: number;
  constructor(
    message: string,
    options: { status: number; route: string; retryable?: boolean; retryAfterMs?: number; cause?: unknown },
  ) {
    super(options.status === 404 ? 'SUPEROFFICE_NOT_FOUND' : 'SUPEROFFICE_API_ERROR', message, {
      retryable:
        options.retryable ?? (options.status === 0 || options.status === 429 || options.status >= 500),
      httpStatus: 502,
      ...(options.retryAfterMs !== undefined && { retryAfterMs: options.retryAfterMs }),
      details: { status: options.status, route: options.route },
      cause: options.cause,
    });
    this.status = options.status;
  }
}

/**
 * A user-defined field value had a shape the vendor's encoding does not allow (an object or array where a
 * string belongs, the "unhashable dict" of seed 002, or a malformed `[I:..]`/`[D:..]`). Names the field.
 */
export class UdfFormatError extends CrmsyncError {
  /** The UDF key (ProgId or `SuperOffice:N`). */
  readonly field: string;
  constructor(field: string, problem: string) {
    super('SUPEROFFICE_UDF_INVALID', `User-defined field "${field}": ${problem}`, {
      retryable: false,
      httpStatus: 502,
      details: { field },
    });
    this.field = field;
  }
}
