/** Options of a `generic` connection, validated when the config is loaded. */
import { z } from 'zod';

/** The header that carries the signature unless a connection names another one. */
export const DEFAULT_SIGNATURE_HEADER = 'x-crmsync-signature';

/** Zod schema of a generic connection's `options`. Unknown keys are rejected, so typos surface at startup. */
export const genericOptionsSchema = z.strictObject({
  /**
   * Shared secret of the HMAC-SHA256 signature. At least 16 characters: a short secret could be guessed
   * offline from one captured webhook. Put it in the environment: `secret: env('GENERIC_SECRET')`.
   */
  secret: z.string().min(16, 'must be at least 16 characters (use a long random value from the environment)'),
  /** Request header that carries `sha256=<hex>`. Case-insensitive, like every HTTP header name. */
  signatureHeader: z
    .string()
    .min(1)
    .default(DEFAULT_SIGNATURE_HEADER)
    .transform((name) => name.toLowerCase()),
  /** Most change events one webhook may carry; larger batches are answered 400 and must be split. */
  maxEventsPerRequest: z.number().int().positive().max(100_000).default(500),
});

/** A generic connection's options after validation (defaults applied). */
export type GenericOptions = z.output<typeof genericOptionsSchema>;
