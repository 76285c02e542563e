/**
 * SuperOffice-specific errors. Each extends CrmsyncError (the API and auth errors through the vendor bases of
 * ../shared/api-error.ts) with a stable code; messages say what failed and how to fix it, and never contain
 * tokens or secrets.
 */
import { CrmsyncError } from '../../core/errors.ts';
import { VendorApiError, VendorAuthError } from '../shared/api-error.ts';
import type { VendorApiErrorOptions, VendorAuthErrorOptions } from '../shared/api-error.ts';

/**
 * Authentication with SuperOffice failed: the token endpoint refused the refresh token, or the tenant could not
 * be discovered. Raised instead of returning null (seed 001: a silent null made jobs "succeed" without work).
 * Retryable only when the cause was transient (network, 5xx of the login host).
 */
export class SuperOfficeAuthError extends VendorAuthError {
  constructor(message: string, options: VendorAuthErrorOptions = {}) {
    super('SUPEROFFICE_AUTH_FAILED', message, options);
  }
}

/** The WebAPI answered with an unexpected status (0 for none). Code SUPEROFFICE_NOT_FOUND for a 404. */
export class SuperOfficeApiError extends VendorApiError {
  constructor(message: string, options: VendorApiErrorOptions) {
    super(options.status === 404 ? 'SUPEROFFICE_NOT_FOUND' : 'SUPEROFFICE_API_ERROR', message, options);
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
