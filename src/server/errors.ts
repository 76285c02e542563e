/**
 * One error shape for every answer that is not a success: `{"error":{"code","message"}}`, with a stable
 * `code`. crmsync's own errors carry code and status; fastify's errors (body too large, bad content type,
 * invalid JSON) are mapped onto the same shape; anything unexpected becomes a 500 whose message reveals
 * nothing internal.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CrmsyncError } from '../core/errors.ts';

/** The body of every error answer. */
export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}

/** An error answer: status and body. */
export interface HttpError {
  readonly status: number;
  readonly body: ErrorBody;
}

/** Codes for fastify's own client errors, by status. */
const FASTIFY_CODES: Readonly<Record<number, string>> = {
  400: 'BAD_REQUEST',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
};

/** Builds the error body. */
export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}

/** Answers to errors of Node's HTTP parser, by the parser's error code; anything else is a 400. */
const CLIENT_ERRORS: Readonly<Record<string, { status: number; code: string; message: string }>> = {
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    code: 'REQUEST_TIMEOUT',
    message: 'The request did not arrive in time (server.timeouts).',
  },
  HPE_HEADER_OVERFLOW: {
    status: 431,
    code: 'HEADERS_TOO_LARGE',
    message: 'The request headers are too large.',
  },
};
const MALFORMED_REQUEST = { status: 400, code: 'BAD_REQUEST', message: 'The request is not valid HTTP.' };

/**
 * fastify's `clientErrorHandler`: a request Node could not parse (or that timed out) gets the documented
 * error shape and `Connection: close`, and the socket is closed, so a keep-alive client never sends its next
 * request into a connection the parser has given up on. Only the parser's code is logged: the error carries
 * the raw request bytes, credentials included.
 */
export function answerClientError(
  this: FastifyInstance,
  error: Error & { code?: string },
  socket: Socket,
): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const answer = CLIENT_ERRORS[error.code ?? ''] ?? MALFORMED_REQUEST;
  this.log.debug({ code: error.code, status: answer.status }, 'malformed request refused');
  if (socket.writable) {
    const body = JSON.stringify(errorBody(answer.code, answer.message));
    socket.end(
      `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status]}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroySoon();
}

/** Maps anything thrown while handling a request to its status and body. */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof CrmsyncError) return { status: error.httpStatus, body: { error: error.toJSON() } };
  const status = (error as Partial<FastifyError>).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // fastify's client-error messages describe the request, never the server, so they are safe to send.
    const message = error instanceof Error ? error.message : 'Bad request';
    return { status, body: errorBody(FASTIFY_CODES[status] ?? `HTTP_${status}`, message) };
  }
  return { status: 500, body: errorBody('INTERNAL_ERROR', 'Internal error; see the server log.') };
}

/** Sends `error` as an error answer. */
export function sendError(reply: FastifyReply, error: HttpError): FastifyReply {
  return reply.code(error.status).send(error.body);
}

/**
 * Installs the error and not-found handlers on `app` (and so on every plugin that does not set its own).
 * Unexpected errors are logged with their stack; expected ones (4xx, crmsync's own) only at debug level,
 * so a flood of bad requests does not flood the log.
 */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const mapped = toHttpError(error);
    logRequestError(request, error, mapped);
    return sendError(reply, mapped);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, {
      status: 404,
      body: errorBody('ROUTE_NOT_FOUND', `No route ${request.method} ${pathOf(request)}`),
    }),
  );
}

/** Logs an error that ended a request, at a level that fits it. */
export function logRequestError(request: FastifyRequest, error: unknown, mapped: HttpError): void {
  if (mapped.status >= 500 && !(error instanceof CrmsyncError)) {
    request.log.error({ err: error, path: pathOf(request) }, 'request failed unexpectedly');
  } else {
    request.log.debug(
      { code: mapped.body.error.code, status: mapped.status, path: pathOf(request) },
      'request refused',
    );
  }
}

/** The request path without its query string: some vendors put a shared token in the query. */
export function pathOf(request: FastifyRequest): string {
  return request.url.split('?', 1)[0] ?? request.url;
}
