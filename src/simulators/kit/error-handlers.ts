/**
 * The error and not-found handlers of a simulator whose errors are {@link SimHttpError}s: simulated errors
 * are answered as they are, fastify's own 4xx (a body that is not JSON, too large) as that status, and
 * anything else, which is a bug of the simulator rather than a simulated fault, as a logged 500.
 */
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from '../../ports/logger.ts';
import { SimHttpError, sendSimError } from './http-error.ts';
import type { ErrorBodyBuilder } from './http-error.ts';

/** What {@link installSimErrorHandlers} needs; the wording is the vendor's. */
export interface SimErrorHandlerOptions {
  /** Builds the vendor's error body. */
  readonly errorBody: ErrorBodyBuilder;
  /** Names the simulator in the log line of an unexpected error, e.g. `superoffice simulator`. */
  readonly name: string;
  /** Receives unexpected errors (the sandbox logs them); none is silent. */
  readonly logger?: Logger | undefined;
  /** The message of the 500 answered for an unexpected error. */
  readonly internalErrorMessage: string;
  /** The message of the 404 answered for a path no route serves. */
  readonly notFoundMessage: (request: FastifyRequest) => string;
}

/** Sets the error handler and the not-found handler of `app`. */
export function installSimErrorHandlers(app: FastifyInstance, options: SimErrorHandlerOptions): void {
  const { errorBody } = options;
  app.setErrorHandler((error: unknown, _request: FastifyRequest, reply) => {
    if (error instanceof SimHttpError) return sendSimError(reply, error, errorBody);
    const status = (error as Partial<FastifyError>).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500)
      return sendSimError(reply, new SimHttpError(status, 'BadRequest', (error as Error).message), errorBody);
    options.logger?.error({ err: error }, `${options.name}: unexpected error`);
    return sendSimError(
      reply,
      new SimHttpError(500, 'InternalServerError', options.internalErrorMessage),
      errorBody,
    );
  });
  app.setNotFoundHandler((request, reply) =>
    sendSimError(reply, new SimHttpError(404, 'NotFound', options.notFoundMessage(request)), errorBody),
  );
}
