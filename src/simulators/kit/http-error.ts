/**
 * The error every simulator handler throws to end a request with a vendor-like answer, and the sender that
 * writes it. The status, error type and extra headers are generic; the body's shape is the vendor's (and
 * mostly [UNCONFIRMED]), so it is built by an {@link ErrorBodyBuilder} that each simulator supplies.
 */
import type { FastifyReply } from 'fastify';

/** Builds the JSON body of an error answer in the vendor's shape. */
export type ErrorBodyBuilder = (status: number, errorType: string, message: string) => unknown;

/** An error that ends a simulator request with `status`. Thrown by handlers and by the fault injector. */
export class SimHttpError extends Error {
  readonly status: number;
  /** A short machine name of the failure (`BadRequest`, `TooManyRequests`), for bodies that carry one. */
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

/** Sends `error`: its status and headers, and the body `build` makes of it. */
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
