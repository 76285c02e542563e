/**
 * Echo suppression of a sync run: a job whose every change event the write ledger explains as the echo of
 * our own write ends before any vendor read. See docs/sync-flow.md, "Echoes".
 */
import { valueHash } from '../../../core/canonical.ts';
import type { ChangeEvent } from '../../../core/types.ts';
import type { EchoMatch, EchoQuery, Store } from '../../../ports/store.ts';

/**
 * What the event claims about its record, in the ledger's terms: the version token when it carries one, and
 * every changed vendor field with the hash of its new value, hashed as the run hashes what it writes
 * (`valueHash` of the vendor value). Null when the event does not say what changed to which value (a create,
 * a delete, a poll hint without data): such an event is never an echo.
 */
export function echoQueryOf(event: ChangeEvent): EchoQuery | null {
  if (event.kind !== 'updated' || event.changedFields === undefined || event.data === undefined) return null;
  const fields: Record<string, string> = {};
  for (const field of event.changedFields) {
    if (!Object.hasOwn(event.data, field)) return null;
    fields[field] = valueHash(event.data[field] ?? null);
  }
  return event.version === undefined ? { fields } : { version: event.version, fields };
}

/**
 * The ledger entries that explain every event of a job as our own echo, or null when one event is not
 * (then the run reads and merges as usual). A pure read: the run consumes the entries in its outcome commit.
 */
export async function matchJobEcho(
  ledger: Store['ledger'],
  events: readonly ChangeEvent[],
): Promise<EchoMatch | null> {
  const entryIds = new Set<string>();
  const runIds = new Set<string>();
  let by: EchoMatch['by'] = 'version';
  for (const event of events) {
    const query = echoQueryOf(event);
    const match = query === null ? null : await ledger.matchEcho(event.ref, query);
    if (match === null) return null;
    if (match.by === 'fields') by = 'fields';
    for (const id of match.entryIds) entryIds.add(id);
    for (const id of match.runIds) runIds.add(id);
  }
  if (entryIds.size === 0) return null;
  return { by, entryIds: [...entryIds], runIds: [...runIds] };
}
