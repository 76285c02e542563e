/**
 * Bearer-token protection for the operator routes (the control API, and /metrics when a token is set).
 * Webhook routes never use it: vendors authenticate by signature.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { isLoopback } from '../config/load.ts';
import { InputError } from '../core/errors.ts';

/** Where the server listens and the token it expects. */
export interface BearerAuthOptions {
  /** The configured token; absent means none was configured. */
  readonly token?: string | undefined;
  /** The address the server binds to. */
  readonly host: string;
}

/**
 * An `onRequest` hook that requires `Authorization: Bearer <token>`, unless the server is bound to loopback
 * (only local users can reach it then). When the server is exposed without a token, protected routes are
 * refused rather than left open (config validation normally prevents that setup).
 */
export function bearerAuth(options: BearerAuthOptions): onRequestHookHandler {
  if (isLoopback(options.host)) return (_request, _reply, done) => done();
  // Compare fixed-length digests: timingSafeEqual needs equal lengths, and comparing the raw strings would
  // leak the token's length through the early return.
  const expected = options.token === undefined ? undefined : digest(options.token);
  return (request: FastifyRequest, reply: FastifyReply, done) => {
    if (expected === undefined) {
      done(unauthorized('This route needs a token, but server.token is not configured.'));
      return;
    }
    const header = request.headers.authorization;
    const given = header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : undefined;
    if (given === undefined || !timingSafeEqual(digest(given), expected)) {
      void reply.header('www-authenticate', 'Bearer');
      done(unauthorized(given === undefined ? 'Missing Authorization: Bearer <token>.' : 'Invalid token.'));
      return;
    }
    done();
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function unauthorized(message: string): InputError {
  return new InputError('UNAUTHORIZED', message, 401);
}
