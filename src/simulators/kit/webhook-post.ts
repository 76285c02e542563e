/**
 * One webhook POST as a vendor sends it: a single HTTP attempt with a total timeout that reports the
 * target's status, `'timeout'` (no answer in time, connect timeouts included), `'error'` (any other
 * connection failure) or `'aborted'` (the simulator is shutting down). Never throws, so a delivery loop
 * can treat every failure as an outcome. The body, headers and signatures are the vendor's, passed in.
 */
import type { Dispatcher } from 'undici';
import { request } from 'undici';

/** What one attempt came to: the target's HTTP status, a connection error, or no answer in time. */
export type AttemptOutcome = number | 'error' | 'timeout';

/** What {@link postWebhook} sends, and how. */
export interface WebhookPostOptions {
  readonly url: string;
  /** The exact bytes to send (the ones that were signed). */
  readonly body: Buffer;
  readonly headers: Record<string, string>;
  /** The total time the attempt may take. */
  readonly timeoutMs: number;
  /** Aborts at shutdown. */
  readonly signal: AbortSignal;
  /** The simulator's own connection pool, so that closing it ends every socket. */
  readonly dispatcher: Dispatcher;
}

/** Sends one POST; an abort by `signal` gives `'aborted'`. */
export async function postWebhook(options: WebhookPostOptions): Promise<AttemptOutcome | 'aborted'> {
  const timeout = new AbortController();
  // An own timer rather than AbortSignal.timeout(): it is cleared at once, so close() leaves no timers behind.
  const timer = setTimeout(() => timeout.abort(), options.timeoutMs);
  try {
    const response = await request(options.url, {
      method: 'POST',
      headers: options.headers,
      body: options.body,
      dispatcher: options.dispatcher,
      signal: AbortSignal.any([options.signal, timeout.signal]),
    });
    // The answer's body is irrelevant (only the status counts) but must be read to free the connection.
    await response.body.dump();
    return response.statusCode;
  } catch (error) {
    if (options.signal.aborted) return 'aborted';
    if (timeout.signal.aborted) return 'timeout';
    // The dispatcher's connect timeout (e.g. EspoCRM's `webhookConnectTimeout`) is a timeout too.
    return (error as { code?: unknown }).code === 'UND_ERR_CONNECT_TIMEOUT' ? 'timeout' : 'error';
  } finally {
    clearTimeout(timer);
  }
}

/** The target as it may appear in messages and logs: without query and credentials, which may hold tokens. */
export function redactTargetUrl(targetUrl: string): string {
  try {
    const url = new URL(targetUrl);
    return `${url.origin}${url.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
