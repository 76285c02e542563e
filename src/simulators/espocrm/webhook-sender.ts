/**
 * One webhook request as the vendor's sender makes it (reference §5, SRC `Core/Webhook/Sender.php`): a
 * JSON array of payloads in PHP `json_encode` form, `Content-Type: application/json`, `Content-Length`, and
 * two signatures over exactly those bytes: `Signature: base64(webhookId + ':' + hex HMAC-SHA256(secretKey,
 * body))` and the legacy `X-Signature: base64(webhookId + ':' + raw binary HMAC)`. The answer is the HTTP
 * status, or 408 for a connect or total timeout (curl's OPERATION_TIMEDOUT), or `error` for any other
 * connection failure. Redirects are not followed: the vendor follows them to https only, and every 3xx
 * counts as success anyway. The HTTP attempt itself is the simulator kit's `postWebhook`.
 *
 * The signatures are computed here with node:crypto, independently of the connector's verifier, so that a
 * shared mistake cannot hide.
 */
import { createHmac } from 'node:crypto';
import type { Dispatcher } from 'undici';
import type { JsonObject } from '../../core/types.ts';
import { postWebhook } from '../kit/index.ts';
import type { AttemptOutcome } from '../kit/index.ts';
import { phpJsonEncode } from './php-json.ts';

/** The body bytes of a batch. */
export function encodeBatch(items: readonly JsonObject[]): Buffer {
  return Buffer.from(phpJsonEncode(items), 'utf8');
}

/** `Signature` and `X-Signature` for `body`. */
function signatureHeaders(webhookId: string, secretKey: string, body: Buffer): Record<string, string> {
  const mac = () => createHmac('sha256', secretKey).update(body);
  const hex = mac().digest('hex');
  const binary = mac().digest();
  return {
    Signature: Buffer.from(`${webhookId}:${hex}`, 'utf8').toString('base64'),
    'X-Signature': Buffer.concat([Buffer.from(`${webhookId}:`, 'utf8'), binary]).toString('base64'),
  };
}

/** What one request came to. */
export type SendResult = AttemptOutcome;

/** Options of {@link sendBatch}. */
export interface SendOptions {
  readonly url: string;
  readonly webhookId: string;
  readonly secretKey: string;
  readonly body: Buffer;
  /** Total time the request may take (the vendor's `webhookTimeout`). */
  readonly timeoutMs: number;
  /** Carries the connect timeout (`webhookConnectTimeout`). */
  readonly dispatcher: Dispatcher;
  /** Aborts at shutdown; an aborted request reports `error`. */
  readonly signal: AbortSignal;
}

/** Sends one batch. Never throws: failures are results. */
export async function sendBatch(options: SendOptions): Promise<SendResult> {
  const outcome = await postWebhook({
    url: options.url,
    body: options.body,
    headers: {
      'Content-Type': 'application/json',
      'Content-Length': String(options.body.length),
      ...(options.secretKey !== '' && signatureHeaders(options.webhookId, options.secretKey, options.body)),
    },
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    dispatcher: options.dispatcher,
  });
  return outcome === 'aborted' ? 'error' : outcome;
}
