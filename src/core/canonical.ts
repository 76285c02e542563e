/**
 * Canonical JSON and value hashes: two equal values always give the same text and the same hash, whatever
 * the order of their object keys. Used to compare checkpoints and snapshots, and for the write ledger's value
 * hashes (so echoes compare without storing values).
 */
import { createHash } from 'node:crypto';
import type { JsonValue } from './types.ts';

/** JSON with object keys sorted at every level. */
export function canonicalJson(value: JsonValue): string {
  return JSON.stringify(value, (_key, nested: unknown) => {
    if (nested === null || typeof nested !== 'object' || Array.isArray(nested)) return nested;
    const source = nested as Record<string, unknown>;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(source).sort()) sorted[key] = source[key];
    return sorted;
  });
}

/** Stable hash of a value: hex SHA-256 of its canonical JSON. */
export function valueHash(value: JsonValue): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}
