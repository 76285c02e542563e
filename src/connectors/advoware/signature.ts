/**
 * The signed token request of advoware's security gateway (reference §3, public docs and two independent
 * public clients agree):
 *
 * - message = `"{Product}:{AppID}:{Nonce}:{RequestTimeStamp}"`, UTF-8;
 * - key = the base64-DECODED API key (the key is issued as base64; signing with its text gives a wrong
 *   signature that the gateway rejects);
 * - HMAC-SHA512, standard base64 with padding (88 characters).
 *
 * The timestamp string goes into the message exactly as it is sent, so both are built from one value here.
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { JsonObject } from '../../core/types.ts';
import type { AdvowareOptions } from './options.ts';

/** What the signature covers. */
export interface SignatureInput {
  readonly product: number;
  readonly appId: string;
  readonly nonce: string;
  /** The `RequestTimeStamp` exactly as sent. */
  readonly timestamp: string;
  /** The API key as issued (base64). */
  readonly apiKey: string;
}

/** `HMAC512Signature` of a token request: base64(HMAC-SHA512(base64decode(apiKey), message)). */
export function signTokenRequest(input: SignatureInput): string {
  const message = `${input.product}:${input.appId}:${input.nonce}:${input.timestamp}`;
  return createHmac('sha512', Buffer.from(input.apiKey, 'base64')).update(message, 'utf8').digest('base64');
}

/**
 * A `RequestTimeStamp` in the form of the vendor's example (`2021-01-29T14:04:26.7955547Z`): ISO 8601 UTC
 * with seven fraction digits. The clock has milliseconds, so the last four digits are zeros.
 */
export function requestTimestamp(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');
}

/** The per-request values of a token request; random nonce and the current time unless given (tests). */
export interface TokenRequestParts {
  readonly nonce?: string;
  readonly timestamp: string;
}

/** The JSON body of `POST {securityGateway}api/v1/Token`, PascalCase as documented. Holds the password. */
export function tokenRequestBody(
  options: Pick<
    AdvowareOptions,
    'appId' | 'kanzlei' | 'database' | 'user' | 'role' | 'product' | 'password' | 'apiKey'
  >,
  parts: TokenRequestParts,
): JsonObject {
  const nonce = parts.nonce ?? randomUUID();
  return {
    AppID: options.appId,
    Kanzlei: options.kanzlei,
    Database: options.database,
    User: options.user,
    Role: options.role,
    Product: options.product,
    Password: options.password,
    Nonce: nonce,
    HMAC512Signature: signTokenRequest({
      product: options.product,
      appId: options.appId,
      nonce,
      timestamp: parts.timestamp,
      apiKey: options.apiKey,
    }),
    RequestTimeStamp: parts.timestamp,
  };
}
