/**
 * The checks after quiescence in the convergence test: reads both vendors and crmsync's store, and lists
 * every violation (a record not linked exactly once, a record nobody made, sides that disagree, a field the
 * oracle refuses, a DEAD job) with, for each, the edits and runs of the records involved in time order.
 */
import type { JsonObject, JsonValue, RecordRef } from '../../src/core/types.ts';
import {
  beteiligteFlowDefaults,
  compileSyncFlow,
  syncOptionsSchema,
} from '../../src/engine/flows/sync/index.ts';
import type { ConflictRecord, Link } from '../../src/ports/store.ts';
import { simAdmin } from '../support/sim-admin.ts';
import { CANONICAL_FIELDS, isViolation, judgeField } from './convergence-oracle.ts';
import type { CanonicalField, CanonicalValues, Edit } from './convergence-oracle.ts';
import { ADVO, ESPO, FLOW } from './convergence-world.ts';
import type { ConvergenceWorld } from './convergence-world.ts';

/** One record the test made: its key, kind, and id per side as far as the test knows them. */
export interface TrackedRecord {
  readonly key: string;
  readonly kind: 'person' | 'company';
  espoId: string | null;
  betNr: string | null;
  /** The side that created it during the edits (edited there only, since its partner is not known yet). */
  readonly createdOn: 'a' | 'b' | null;
  /** Its values when made (the setup's pairs converge on them before the edits). */
  readonly initial: CanonicalValues;
}

/** What the checks found. */
export interface Judgement {
  readonly violations: string[];
  readonly traces: string[];
  readonly conflicts: number;
  /** Fields whose final value only a conflict record explains (oracle rule 4). */
  readonly explainedByConflict: number;
}

/** The flow's own mapping, to read both vendors' records as canonical values. */
const mapping = compileSyncFlow(
  syncOptionsSchema.parse(beteiligteFlowDefaults({ espocrm: 'espo', advoware: 'advo' })),
);

function canonical(side: 'a' | 'b', fields: JsonObject): CanonicalValues {
  const record = (side === 'a' ? mapping.a : mapping.b).toCanonical(fields);
  const text = (field: CanonicalField) => {
    const value = record[field];
    return typeof value === 'string' ? value : null;
  };
  return { firstName: text('firstName'), lastName: text('lastName'), companyName: text('companyName') };
}

/** An id as text (EspoCRM's `advowareId` is an int), or null. */
const idText = (value: JsonValue | undefined): string | null =>
  typeof value === 'string' || typeof value === 'number' ? String(value) : null;

const show = (value: unknown) => JSON.stringify(value);

async function allEspoRecords(world: ConvergenceWorld): Promise<JsonObject[]> {
  const records: JsonObject[] = [];
  for (let offset = 0; ; offset += 200) {
    const page = await world.espoApi<{ list: JsonObject[] }>('GET', `${ESPO}?maxSize=200&offset=${offset}`);
    records.push(...page.list);
    if (page.list.length < 200) return records;
  }
}

async function allAdvoRecords(world: ConvergenceWorld): Promise<Map<string, JsonObject>> {
  const state = await simAdmin<{ data: { beteiligte: { betNr: number; fields: JsonObject }[] } }>(
    world.advo,
    'GET',
    'state',
  );
  return new Map(state.data.beteiligte.map((row) => [String(row.betNr), row.fields]));
}

/** Every record on each side linked exactly once, with foreign keys that agree with the links. */
function checkLinks(espoRecords: JsonObject[], advoIds: Iterable<string>, links: Link[]): string[] {
  const violations: string[] = [];
  const linkOfEspo = new Map(links.map((link) => [link.a.ref.id, link]));
  const partners = new Map<string, string>();
  for (const record of espoRecords) {
    const id = idText(record['id']) ?? '?';
    const betNr = idText(record['advowareId']);
    const link = linkOfEspo.get(id);
    if (betNr === null || link === undefined)
      violations.push(`${ESPO} ${id} is not linked (advowareId ${betNr})`);
    else if (link.b.ref.id !== betNr)
      violations.push(`${ESPO} ${id}: advowareId ${betNr} but its link names Beteiligter ${link.b.ref.id}`);
    else if (partners.has(betNr))
      violations.push(`Beteiligter ${betNr} is linked twice (${partners.get(betNr)}, ${id})`);
    else partners.set(betNr, id);
  }
  let advoCount = 0;
  for (const betNr of advoIds) {
    advoCount++;
    if (!partners.has(betNr)) violations.push(`Beteiligter ${betNr} has no CBeteiligter (unlinked)`);
  }
  if (links.length !== espoRecords.length || advoCount !== espoRecords.length)
    violations.push(
      `counts differ: ${espoRecords.length} CBeteiligte, ${advoCount} Beteiligte, ${links.length} links`,
    );
  return violations;
}

/** The edits and runs of one pair, in time order (ms since `startedAt`). */
async function traceOf(
  world: ConvergenceWorld,
  startedAt: number,
  edits: readonly Edit[],
  title: string,
  record: { key: string | null; espoId: string | null; betNr: string | null },
): Promise<string> {
  const lines: [number, string][] = edits
    .filter((entry) => entry.key === record.key)
    .map((entry) => [entry.atMs, `edit #${entry.seq} ${entry.side} ${entry.field}=${show(entry.value)}`]);
  const refs: RecordRef[] = [
    ...(record.espoId === null ? [] : [{ connection: 'espo', entityType: ESPO, id: record.espoId }]),
    ...(record.betNr === null ? [] : [{ connection: 'advo', entityType: ADVO, id: record.betNr }]),
  ];
  for (const ref of refs)
    for (const run of await world.backend.store.runs.list({ flow: FLOW, ref, limit: 1_000 })) {
      // A run that failed shows the changes it had set out to write (some may have landed).
      const attempted = run.changes.length === 0 && run.intendedChanges.length > 0;
      const changes = (attempted ? run.intendedChanges : run.changes)
        .map(
          (change) =>
            `${change.ref.connection}.${change.field}: ${show(change.before)} -> ${show(change.after)}`,
        )
        .join('; ');
      const reason = run.reason === null ? '' : ` (${run.reason})`;
      const error = run.error === null ? '' : ` ${run.error.code}`;
      lines.push([
        run.startedAt - startedAt,
        `run ${ref.connection} #${run.attempt} ${run.outcome ?? 'unfinished'}${reason}${error} ${attempted ? 'attempted: ' : ''}${changes}`,
      ]);
    }
  lines.sort((x, y) => x[0] - y[0]);
  return `${title}:\n${lines.map(([at, line]) => `    ${at} ms ${line}`).join('\n')}`;
}

/** Runs every check; see the module comment. */
export async function judgeWorld(
  world: ConvergenceWorld,
  tracked: readonly TrackedRecord[],
  edits: readonly Edit[],
  startedAt: number,
): Promise<Judgement> {
  const espoRecords = await allEspoRecords(world);
  const advoById = await allAdvoRecords(world);
  const links = await world.backend.store.links.list({ flow: FLOW, limit: 100_000 });
  const linkOfEspo = new Map(links.map((link) => [link.a.ref.id, link]));
  const violations = checkLinks(espoRecords, advoById.keys(), links);
  if (espoRecords.length !== tracked.length)
    violations.push(`${espoRecords.length} CBeteiligte for ${tracked.length} records made`);
  const traces: string[] = [];
  const trace = async (
    title: string,
    record: { key: string | null; espoId: string | null; betNr: string | null },
  ) => traces.push(await traceOf(world, startedAt, edits, title, record));

  // Values: both sides agree, and each field's value is what the oracle accepts.
  const conflicts: ConflictRecord[] = await world.backend.store.conflicts.list({
    flow: FLOW,
    limit: 100_000,
  });
  const claimed = new Set<string>();
  let explained = 0;
  for (const entry of tracked) {
    const espoRecord =
      entry.espoId !== null
        ? espoRecords.find((candidate) => candidate['id'] === entry.espoId)
        : espoRecords.find((candidate) => idText(candidate['advowareId']) === entry.betNr);
    const espoId = espoRecord === undefined ? null : idText(espoRecord['id']);
    if (espoId !== null) claimed.add(espoId);
    const betNr = entry.betNr ?? (espoRecord === undefined ? null : idText(espoRecord['advowareId']));
    const advoFields = betNr === null ? undefined : advoById.get(betNr);
    if (espoRecord === undefined || advoFields === undefined || espoId === null) {
      violations.push(`${entry.key}: missing on a side (CBeteiligter ${espoId}, Beteiligter ${betNr})`);
      continue;
    }
    const a = canonical('a', espoRecord);
    const b = canonical('b', advoFields);
    const linkId = linkOfEspo.get(espoId)?.id;
    for (const field of CANONICAL_FIELDS) {
      if (a[field] !== b[field]) {
        violations.push(`${entry.key} ${field}: EspoCRM ${show(a[field])} but Advoware ${show(b[field])}`);
        continue;
      }
      const verdict = judgeField({
        key: entry.key,
        field,
        initial: entry.initial[field],
        final: a[field],
        edits: edits.filter((candidate) => candidate.key === entry.key && candidate.field === field),
        conflicts: conflicts.filter((conflict) => conflict.linkId === linkId && conflict.field === field),
      });
      if (isViolation(verdict)) {
        violations.push(`${verdict.key} (${espoId}/${betNr}) ${verdict.field}: ${verdict.problem}`);
        await trace(`${entry.key} ${field}`, { key: entry.key, espoId, betNr });
      } else if (verdict.explainedByConflict) explained++;
    }
  }
  // A pair no record of the test explains is a duplicate; its twin has the values it was made with.
  for (const espoRecord of espoRecords) {
    const id = idText(espoRecord['id']);
    if (id === null || claimed.has(id)) continue;
    const betNr = idText(espoRecord['advowareId']);
    const values = canonical('a', espoRecord);
    violations.push(
      `duplicate: CBeteiligter ${id} / Beteiligter ${betNr} ${show(values)} is no record the test made`,
    );
    await trace(`extra pair ${id}/${betNr}`, { key: null, espoId: id, betNr });
    for (const twin of tracked.filter((entry) => show(entry.initial) === show(values)))
      await trace(`the record it duplicates, ${twin.key} (${twin.espoId}/${twin.betNr})`, twin);
  }
  for (const job of await world.backend.queue.list({ states: ['DEAD'], limit: 100 }))
    violations.push(`job ${job.id} (${job.recordKey}) is DEAD: ${show(job.lastError)}`);
  return { violations, traces, conflicts: conflicts.length, explainedByConflict: explained };
}
