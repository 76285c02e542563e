/**
 * The webhook events of a record change and their payloads (reference §5, SRC `Core/Webhook/Manager.php`):
 * `T.create` with the full record, `T.update` with the changed attributes and `id` (none when nothing but
 * skipped attributes changed), `T.fieldUpdate.f` with `id` and every attribute of field `f` when one of its
 * attributes changed, `T.delete` with `{id}`. Payloads are copies, so they stay as they were at event time.
 */
import type { JsonObject } from '../../core/types.ts';
import { actualAttributes, entityDef, fieldAttributes } from './entity-defs.ts';
import type { RecordChange } from './records.ts';
import { cloneJson } from './values.ts';

/** One event of a change. */
export interface ChangeEvent {
  readonly event: string;
  readonly data: JsonObject;
}

/** Attributes never in a fieldUpdate payload (the same skip list as for updates). */
const SKIPPED = new Set(['modifiedAt', 'versionNumber', 'streamUpdatedAt']);

/** The events `change` raises, in the vendor's order (update first, then field updates in field order). */
export function eventsOfChange(change: RecordChange): ChangeEvent[] {
  const type = change.entityType;
  if (change.kind === 'create') return [{ event: `${type}.create`, data: cloneJson(change.after) }];
  if (change.kind === 'delete') return [{ event: `${type}.delete`, data: { id: change.id } }];
  if (Object.keys(change.changed).length === 0) return [];
  const events: ChangeEvent[] = [
    { event: `${type}.update`, data: cloneJson({ ...change.changed, id: change.id }) },
  ];
  for (const field of entityDef(type).fields) {
    const touched = actualAttributes(field).some(
      (attribute) => !SKIPPED.has(attribute) && Object.hasOwn(change.changed, attribute),
    );
    if (!touched) continue;
    const data: JsonObject = { id: change.id };
    for (const attribute of fieldAttributes(field))
      if (!SKIPPED.has(attribute)) data[attribute] = cloneJson(change.after[attribute] ?? null);
    events.push({ event: `${type}.fieldUpdate.${field.name}`, data });
  }
  return events;
}
