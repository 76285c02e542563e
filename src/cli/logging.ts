/** The process logger (pino, JSON lines on stdout) with secrets redacted. */
import { pino } from 'pino';
import type { Logger } from '../ports/logger.ts';

/** Creates the process logger. Authorization and signature headers are never written. */
export function createLogger(level: string): pino.Logger {
  return pino({
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers["x-crmsync-signature"]',
        '*.secret',
        '*.token',
        '*.password',
      ],
      censor: '***',
    },
  });
}

/** A logger that drops everything (commands whose output is their own text). */
export const silentLogger: Logger = pino({ level: 'silent' });
