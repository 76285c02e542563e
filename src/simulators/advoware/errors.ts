/**
 * Error answers of the Advoware simulator. The vendor's error body is unknown (reference §7): public code
 * prints whatever comes back. [UNCONFIRMED] The default body is ASP.NET Web API's `{"Message": "..."}`
 * (advo-net's services are .NET), replaceable through the option `errorBody`. Messages reuse the German
 * fragments public code matches ("Falscher Name oder falsches Kennwort", "... ist nicht registriert",
 * "... ist nicht angemeldet", "... freigeschaltet"); the statuses are [UNCONFIRMED] unless noted.
 *
 * The error class and the sender are the simulator kit's, so the kit's fault injector's errors and these
 * are answered the same way; they are re-exported so the handlers import one module.
 */
import { SimHttpError } from '../kit/index.ts';
import type { ErrorBodyBuilder } from '../kit/index.ts';

export { SimHttpError, sendSimError } from '../kit/index.ts';
export type { ErrorBodyBuilder } from '../kit/index.ts';

/** [UNCONFIRMED] ASP.NET Web API's error shape. */
export const aspNetErrorBody: ErrorBodyBuilder = (_status, _errorType, message) => ({ Message: message });

/** 400: a request body or parameter that does not fit. */
export function badRequest(message: string): SimHttpError {
  return new SimHttpError(400, 'BadRequest', message);
}

/** 401: the token request's credentials or the bearer token did not verify. */
export function unauthorized(message: string, headers: Record<string, string> = {}): SimHttpError {
  return new SimHttpError(401, 'Unauthorized', message, headers);
}

/** 403: an operation the vendor forbids (seed 003: DELETE of a Kommunikation) or a product not unlocked. */
export function forbidden(message: string): SimHttpError {
  return new SimHttpError(403, 'Forbidden', message);
}

/** 404: an unknown Beteiligter, Kommunikation or Kanzlei. */
export function notFound(message: string): SimHttpError {
  return new SimHttpError(404, 'NotFound', message);
}

/** 409: the `putChecksRowId` quirk saw a stale rowId. */
export function conflict(message: string): SimHttpError {
  return new SimHttpError(409, 'Conflict', message);
}

/** 503: the firm's advoware Manager is offline (quirk `kanzleiOffline`). */
export function kanzleiOffline(kanzlei: string): SimHttpError {
  return new SimHttpError(503, 'ServiceUnavailable', `Die Kanzlei ${kanzlei} ist nicht angemeldet.`);
}
