/**
 * Error answers of the EspoCRM simulator as the vendor writes them (reference §2, SRC `Core/Api/ErrorOutput.php`):
 * the status code, the exception message in the `X-Status-Reason` header, and a body only where the
 * exception carries one (validation failures, duplicates, version conflicts); otherwise the body is empty.
 */
import type { FastifyReply } from 'fastify';
import type { JsonValue } from '../../core/types.ts';

/** The header that carries the reason of an error answer. */
export const STATUS_REASON_HEADER = 'X-Status-Reason';

/** An error that ends a simulated API request. Thrown by handlers, answered by the server's error handler. */
export class EspoHttpError extends Error {
  readonly status: number;
  /** Sent as `X-Status-Reason` when not empty. */
  readonly reason: string;
  /** JSON body; undefined gives an empty body. */
  readonly body: JsonValue | undefined;
  /** Extra headers (e.g. Retry-After, WWW-Authenticate). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    status: number,
    reason: string,
    options: { body?: JsonValue; headers?: Record<string, string> } = {},
  ) {
    super(reason === '' ? `HTTP ${status}` : reason);
    this.name = 'EspoHttpError';
    this.status = status;
    this.reason = reason;
    this.body = options.body;
    this.headers = options.headers ?? {};
  }
}

/** 400 Bad Request with `reason`. */
export function badRequest(reason: string): EspoHttpError {
  return new EspoHttpError(400, reason);
}

/** 403 Forbidden with `reason` (may be empty, as for a bare `new Forbidden()`). */
export function forbidden(reason = ''): EspoHttpError {
  return new EspoHttpError(403, reason);
}

/** 404 Not Found with `reason`. */
export function notFound(reason: string): EspoHttpError {
  return new EspoHttpError(404, reason);
}

/**
 * A field validation failure (SRC `Core/FieldValidation/Exceptions/ValidationError.php`): 400, reason
 * `Field validation failure; entityType: T, field: f, type: t.` and the `messageTranslation` body.
 */
export function validationFailure(entityType: string, field: string, type: string): EspoHttpError {
  return new EspoHttpError(
    400,
    `Field validation failure; entityType: ${entityType}, field: ${field}, type: ${type}.`,
    { body: { messageTranslation: { label: 'validationFailure', scope: null, data: { field, type } } } },
  );
}

/** Sends `error` as the vendor does: status, reason header, optional JSON body. */
export function sendEspoError(reply: FastifyReply, error: EspoHttpError): FastifyReply {
  reply.code(error.status).headers(error.headers);
  // A header value must be printable ASCII; a reason echoing client input (an entity type) may not be.
  if (error.reason !== '') reply.header(STATUS_REASON_HEADER, error.reason.replace(/[^\x20-\x7e]/g, '?'));
  if (error.body === undefined) return reply.send('');
  return reply.type('application/json').send(JSON.stringify(error.body));
}
