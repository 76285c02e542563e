/**
 * The built-in `inspect` flow: a webhook inspector. It records every job as a COMPLETED run whose reason
 * summarises the change events the job carried (how many, which kinds, which fields changed, which vendor
 * event names), so a user can see what a vendor sends before configuring real sync or enrich flows.
 * It never calls a vendor.
 */
import { z } from 'zod';
import type { JsonValue } from '../../core/types.ts';
import type { FlowHandler } from '../handlers.ts';

/** The inspect flow takes no options; unknown keys are rejected so typos show up at startup. */
export const inspectOptionsSchema = z.strictObject({});

/** Longest list of field or event names quoted in a reason; the rest is counted. */
const MAX_LISTED = 20;

/** Creates the handler of an `inspect` flow. */
export function createInspectHandler(): FlowHandler {
  return (job) =>
    Promise.resolve({ outcome: 'COMPLETED', reason: summarizeEvents(job.payloads, job.inputCount) });
}

/**
 * One line describing the change events of a job, e.g.
 * `3 events (created 1, updated 2); fields: email, name; vendor events: contact.changed, contact.created`.
 * `inputCount` is the number of inputs folded into the job, which exceeds `payloads.length` when the queue
 * kept only the latest payloads.
 */
export function summarizeEvents(
  payloads: readonly JsonValue[],
  inputCount: number = payloads.length,
): string {
  const kinds = new Map<string, number>();
  const fields = new Set<string>();
  const vendorEvents = new Set<string>();
  for (const payload of payloads) {
    const event = asObject(payload);
    const kind = typeof event?.kind === 'string' ? event.kind : 'unknown';
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    for (const field of stringsOf(event?.changedFields)) fields.add(field);
    if (typeof event?.vendorEvent === 'string') vendorEvents.add(event.vendorEvent);
  }
  const kindList = [...kinds]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([kind, count]) => `${kind} ${count}`);
  const parts = [`${inputCount} event${inputCount === 1 ? '' : 's'} (${kindList.join(', ')})`];
  if (inputCount > payloads.length) parts[0] += `, last ${payloads.length} kept`;
  if (fields.size > 0) parts.push(`fields: ${listOf(fields)}`);
  if (vendorEvents.size > 0) parts.push(`vendor events: ${listOf(vendorEvents)}`);
  return parts.join('; ');
}

function asObject(value: JsonValue): { readonly [key: string]: JsonValue } | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : null;
}

function stringsOf(value: JsonValue | undefined): string[] {
  return Array.isArray(value) ? value.filter((item) => typeof item === 'string') : [];
}

function listOf(names: ReadonlySet<string>): string {
  const sorted = [...names].sort();
  const shown = sorted.slice(0, MAX_LISTED).join(', ');
  return sorted.length > MAX_LISTED ? `${shown} and ${sorted.length - MAX_LISTED} more` : shown;
}
