/**
 * Errors the simulator answers with. The vendor's error body is [UNCONFIRMED] (reference §5; from memory
 * only: `{"Error":true,"ErrorType","Message","ErrorSource"}`), so the body is built by a replaceable function
 * ({@link ErrorBodyBuilder}, option `errorBody` of the simulator); the status codes follow the reference.
 */
import type { FastifyReply } from 'fastify';

/** Builds the JSON body of an error answer. */
export type ErrorBodyBuilder = (status: number, errorType: string, message: string) => unknown;

/** The default body: the NetServer-like shape remembered in reference §5 [UNCONFIRMED]. */
export const netServerErrorBody: ErrorBodyBuilder = (_status, errorType, message) => ({
  Error: true,
  ErrorType: errorType,
  Message: message,
  ErrorSource: 'crmsync-simulator',
});

/** An error that ends a simulator request with `status`. Thrown by the request handlers. */
export class SimHttpError extends Error {
  readonly status: number;
  readonly errorType: string;
  /** Extra headers (e.g. Retry-After). */
  readonly headers: Record<string, string>;
  constructor(status: number, errorType: string, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'SimHttpError';
    this.status = status;
    this.errorType = errorType;
    this.headers = headers;
  }
}

/** A 400 for a request body that does not fit. */
export function badRequest(message: string): SimHttpError {
  return new SimHttpError(400, 'BadRequest', message);
}

/** A 404 for a missing record. */
export function notFound(message: string): SimHttpError {
  return new SimHttpError(404, 'NotFound', message);
}

/** Sends `error` with the configured body builder. */
export function sendSimError(
  reply: FastifyReply,
  error: SimHttpError,
  build: ErrorBodyBuilder,
): FastifyReply {
  return reply
    .code(error.status)
    .headers(error.headers)
    .send(build(error.status, error.errorType, error.message));
}
