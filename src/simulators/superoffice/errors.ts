/**
 * Errors the simulator answers with. The vendor's error body is [UNCONFIRMED] (reference §5; from memory
 * only: `{"Error":true,"ErrorType","Message","ErrorSource"}`), so the body is built by a replaceable function
 * ({@link ErrorBodyBuilder}, option `errorBody` of the simulator); the status codes follow the reference.
 * The error class and its sender are the simulator kit's, re-exported so the handlers import one module.
 */
import { SimHttpError } from '../kit/index.ts';
import type { ErrorBodyBuilder } from '../kit/index.ts';

export { SimHttpError, sendSimError } from '../kit/index.ts';
export type { ErrorBodyBuilder } from '../kit/index.ts';

/** The default body: the NetServer-like shape remembered in reference §5 [UNCONFIRMED]. */
export const netServerErrorBody: ErrorBodyBuilder = (_status, errorType, message) => ({
  Error: true,
  ErrorType: errorType,
  Message: message,
  ErrorSource: 'crmsync-simulator',
});

/** A 400 for a request body that does not fit. */
export function badRequest(message: string): SimHttpError {
  return new SimHttpError(400, 'BadRequest', message);
}

/** A 404 for a missing record. */
export function notFound(message: string): SimHttpError {
  return new SimHttpError(404, 'NotFound', message);
}
