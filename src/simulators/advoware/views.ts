/**
 * How stored records look on the wire (camelCase, as the seeds show): the quirks that only concern reading
 * (`kommKz` read as 0, write answers without the new rowId) are applied here, never to the stored data.
 */
import type { BeteiligterRecord, KommunikationRecord } from './model.ts';
import type { AdvowareQuirks } from './quirks.ts';
import type { BeteiligteSchema } from './schema.ts';

/** Whether an answer is a read or a write's answer (quirk `writeResponseIncludesRowId`). */
export type Answer = 'read' | 'write';

/** Wire form of a Kommunikation. */
export interface KommunikationView {
  readonly id: number;
  readonly rowId?: string;
  readonly tlf: string;
  readonly bemerkung: string | null;
  readonly kommKz: number;
  readonly online: boolean;
}

function showsRowId(quirks: AdvowareQuirks, answer: Answer): boolean {
  return answer === 'read' || quirks.writeResponseIncludesRowId;
}

/** A Kommunikation as the API shows it. */
export function kommunikationView(
  item: KommunikationRecord,
  quirks: AdvowareQuirks,
  answer: Answer = 'read',
): KommunikationView {
  return {
    id: item.id,
    ...(showsRowId(quirks, answer) && { rowId: item.rowId }),
    tlf: item.tlf,
    bemerkung: item.bemerkung,
    // Seed 003's bug: the type comes back as 0 on every read.
    kommKz: quirks.kommKzReadAsZero ? 0 : item.kommKz,
    online: item.online,
  };
}

/** A Beteiligter as the API shows it: id, text fields (null when empty), rowId, embedded Kommunikationen. */
export function beteiligterView(
  record: BeteiligterRecord,
  schema: BeteiligteSchema,
  quirks: AdvowareQuirks,
  answer: Answer = 'read',
): Record<string, unknown> {
  const view: Record<string, unknown> = { [schema.idField]: record.betNr };
  for (const field of schema.fieldNames) view[field] = record.fields[field] ?? null;
  if (showsRowId(quirks, answer)) view.rowId = record.rowId;
  view.kommunikation = record.kommunikation.map((item) => kommunikationView(item, quirks, 'read'));
  return view;
}
