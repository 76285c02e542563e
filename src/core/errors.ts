/**
 * Typed errors. Every error crmsync raises on purpose is a {@link CrmsyncError}: it has a stable string
 * `code` (safe to match on, shown to operators and sent in HTTP error bodies), a `retryable` flag (the worker
 * retries retryable failures with backoff and sends the others straight to DEAD), and, where it answers an
 * HTTP request, a status. Messages say what was wrong, where, and how to fix it; they never contain secrets.
 */

/** Options shared by all crmsync errors. */
export interface CrmsyncErrorOptions {
  /** Whether trying again later can succeed (network, 5xx, 429, lock contention). */
  readonly retryable?: boolean;
  /** HTTP status to answer with when this error ends a request. */
  readonly httpStatus?: number;
  /** Wait suggested by the source (e.g. a vendor's Retry-After), in milliseconds. */
  readonly retryAfterMs?: number;
  /**
   * The work could not start yet (another run holds the lock it needs): the job waits `retryAfterMs` and runs
   * again without the attempt counting, so contention never sends a job to DEAD. Only for errors raised
   * before the work wrote anything.
   */
  readonly postpone?: boolean;
  /** Structured details for logs and the run history. Never put secrets here. */
  readonly details?: Record<string, unknown>;
  /** The underlying error. */
  readonly cause?: unknown;
}

/** Base class of every deliberate crmsync error. */
export class CrmsyncError extends Error {
  /** Stable machine-readable code, e.g. `WEBHOOK_SIGNATURE_INVALID`. */
  readonly code: string;
  /** Whether a retry may succeed. */
  readonly retryable: boolean;
  /** HTTP status used when the error ends a request (default 500). */
  readonly httpStatus: number;
  /** Suggested wait before a retry, if the source gave one. */
  readonly retryAfterMs: number | undefined;
  /** The job is postponed, not failed: its attempt does not count (see {@link CrmsyncErrorOptions.postpone}). */
  readonly postpone: boolean;
  /** Structured, secret-free details. */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, message: string, options: CrmsyncErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.httpStatus = options.httpStatus ?? 500;
    this.retryAfterMs = options.retryAfterMs;
    this.postpone = options.postpone ?? false;
    this.details = options.details;
  }

  /** The `{code, message}` pair sent in HTTP error bodies and stored with failed runs. */
  toJSON(): { code: string; message: string } {
    return { code: this.code, message: this.message };
  }
}

/** A configuration file or value is invalid. Not retryable: the operator must fix the config. */
export class ConfigError extends CrmsyncError {
  /** Every problem found, each with the path of the offending value. */
  readonly problems: readonly { path: string; message: string }[];
  constructor(message: string, problems: readonly { path: string; message: string }[] = []) {
    super('CONFIG_INVALID', message, { httpStatus: 500, details: { problems } });
    this.problems = problems;
  }
}

/** Bad input from a caller (HTTP body, CLI argument): a 4xx, never retried. */
export class InputError extends CrmsyncError {
  constructor(code: string, message: string, httpStatus = 400, details?: Record<string, unknown>) {
    super(code, message, { httpStatus, retryable: false, details });
  }
}

/** A webhook signature or token did not verify. Answered 401; nothing is stored. */
export class WebhookAuthError extends InputError {
  constructor(message: string, code = 'WEBHOOK_SIGNATURE_INVALID') {
    super(code, message, 401);
  }
}

/** A webhook body could not be parsed into change events. Answered 400; nothing is stored. */
export class WebhookPayloadError extends InputError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('WEBHOOK_PAYLOAD_INVALID', message, 400, details);
  }
}

/** Something asked for does not exist (job, connection, run). */
export class NotFoundError extends InputError {
  constructor(code: string, message: string) {
    super(code, message, 404);
  }
}

/**
 * A queue lease was lost: the job's lease expired and another worker may own it now. The worker must stop
 * touching the job; its result is discarded (handlers are idempotent, so the other run redoes the work).
 */
export class LeaseLostError extends CrmsyncError {
  constructor(jobId: string) {
    super(
      'QUEUE_LEASE_LOST',
      `Lease on job ${jobId} was lost (expired or taken over); its result is discarded.`,
      {
        retryable: false,
      },
    );
  }
}

/** An optimistic-concurrency check failed (stale link revision, stale vendor version token). Retryable. */
export class StaleWriteError extends CrmsyncError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('STALE_WRITE', message, { retryable: true, httpStatus: 409, details });
  }
}

/**
 * An outcome commit carried the fence of a lock for which a newer fence was issued since: its holder lost
 * the lock (stalled past the TTL) and another holder took it, so the commit is refused. Retryable: the job
 * runs again, under the lock, on fresh data.
 */
export class FenceStaleError extends CrmsyncError {
  constructor(key: string, fence: number, current: number | null) {
    super(
      'LOCK_FENCE_STALE',
      `The lock ${key} was taken by another holder (fence ${current ?? 'none'}, ours ${fence}); the outcome was not committed.`,
      { retryable: true, httpStatus: 409, details: { key, fence, current } },
    );
  }
}

/** A backend (store, queue, locks) failed or is unreachable. Retryable. */
export class StorageError extends CrmsyncError {
  constructor(message: string, cause?: unknown) {
    super('STORAGE_UNAVAILABLE', message, { retryable: true, httpStatus: 503, cause });
  }
}

/** A connector does not offer an operation (e.g. a webhook-only source asked to read a record). */
export class UnsupportedOperationError extends CrmsyncError {
  constructor(connector: string, operation: string) {
    super('CONNECTOR_UNSUPPORTED', `Connector "${connector}" does not support ${operation}.`, {
      retryable: false,
    });
  }
}

/** Turns anything thrown into a `{code, message, retryable}` triple for run history and queue errors. */
export function describeError(error: unknown): { code: string; message: string; retryable: boolean } {
  if (error instanceof CrmsyncError)
    return { code: error.code, message: error.message, retryable: error.retryable };
  if (error instanceof Error) return { code: 'UNEXPECTED', message: error.message, retryable: true };
  return { code: 'UNEXPECTED', message: String(error), retryable: true };
}

/**
 * An enricher failed. `ENRICHER_UNAVAILABLE` (timeout, connection error, 5xx, 429) and `ENRICHER_BAD_RESPONSE`
 * (an answer that does not fit the expected shape) are retryable; `ENRICHER_REJECTED` (4xx other than 429:
 * wrong key, wrong model) is not, since retrying cannot fix configuration.
 */
export class EnricherError extends CrmsyncError {
  constructor(
    code: 'ENRICHER_UNAVAILABLE' | 'ENRICHER_BAD_RESPONSE' | 'ENRICHER_REJECTED',
    message: string,
    options: { cause?: unknown; retryAfterMs?: number } = {},
  ) {
    super(code, message, {
      retryable: code !== 'ENRICHER_REJECTED',
      httpStatus: 502,
      cause: options.cause,
      ...(options.retryAfterMs !== undefined && { retryAfterMs: options.retryAfterMs }),
    });
  }
}
