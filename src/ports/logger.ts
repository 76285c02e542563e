/**
 * The logging surface the engine uses. pino's logger satisfies it; tests may pass a silent one.
 * Log objects must never contain secrets (the server's logger also redacts known secret paths).
 */
export interface Logger {
  debug(object: object, message?: string): void;
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}
