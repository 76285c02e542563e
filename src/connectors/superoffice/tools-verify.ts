/**
 * `crmsync superoffice verify`: did the enrichment land? (seeds 000/002 `verify_enrichment.py`, which had to
 * search raw text because its UDF parsing crashed). The current user-defined field values of a company (and
 * of the persons the run wrote) are read and decoded, and compared with the changes the last COMPLETED run of
 * the enrich flow recorded for that company. Each field gets a verdict; a written value that is not there
 * fails the check.
 */
import { NotFoundError } from '../../core/errors.ts';
import type { FieldChange, RecordRef } from '../../core/types.ts';
import type { Run, RunRepository } from '../../ports/store.ts';
import { getField, isObject } from '../shared/casing.ts';
import { entityTypeOf, parseVendorDate } from './endpoints.ts';
import type { EntityType, SuperOfficeApi } from './endpoints.ts';
import { UdfFormatError } from './errors.ts';
import { currentFieldValue, displayWritten, textField, valueSpellings } from './tools-fields.ts';
import type { CurrentValue } from './tools-fields.ts';

/** The user-defined fields an enrich flow writes, by ProgId (null: not written). Mirrors the flow's `fields`. */
export interface EnrichmentFields {
  readonly vertical: string | null;
  readonly summary: string | null;
  readonly companyOpener: string | null;
  readonly personOpener: string | null;
}

/** What a field is for: one of {@link EnrichmentFields}, or `other` for a change outside them. */
export type FieldRole = keyof EnrichmentFields | 'other';

/** The outcome for one field. */
export type FieldVerdict = 'landed' | 'missing' | 'not-written' | 'unreadable';

/** One field of one record, expected against current. */
export interface FieldCheck {
  readonly ref: RecordRef;
  readonly role: FieldRole;
  /** The UDF key (ProgId), or the property name for a change outside UserDefinedFields. */
  readonly field: string;
  /** What the run wrote, for display; null when the run did not write this field. */
  readonly expected: string | null;
  /** What the record holds now, for display (decoded; list items with their name). */
  readonly current: string | null;
  readonly verdict: FieldVerdict;
  /** Why, when the verdict is not `landed`. */
  readonly detail: string | null;
}

/** The answer of {@link verifyEnrichment}. */
export interface VerifyResult {
  readonly flow: string;
  readonly contact: { readonly id: string; readonly name: string };
  /** The run compared with (see {@link lastCompletedRun}), or null when the record has no COMPLETED run. */
  readonly run: { readonly id: string; readonly finishedAt: number | null } | null;
  readonly checks: readonly FieldCheck[];
  /** True when a run exists and every value it wrote is there. */
  readonly ok: boolean;
}

const CONTACT_ROLES = ['vertical', 'summary', 'companyOpener'] as const;
const UDF_PREFIX = /^UserDefinedFields[./]/i;

/** A change's field name without a `UserDefinedFields.` / `UserDefinedFields/` prefix. */
function changeFieldKey(field: string): string {
  return field.replace(UDF_PREFIX, '');
}

function changedAfterRun(record: Readonly<Record<string, unknown>>, run: Run | null): string | null {
  const updated = getField(record, 'UpdatedDate');
  const updatedAt = typeof updated === 'string' ? parseVendorDate(updated) : null;
  if (run === null || run.finishedAt === null || updatedAt === null || updatedAt <= run.finishedAt)
    return null;
  const by = getField(record, 'UpdatedBy');
  const who = isObject(by) ? getField(by, 'Name') : undefined;
  return `the record changed after the run (${String(updated)}${typeof who === 'string' ? ` by ${who}` : ''})`;
}

function checkField(
  record: Readonly<Record<string, unknown>>,
  ref: RecordRef,
  role: FieldRole,
  field: string,
  change: FieldChange | undefined,
  run: Run | null,
): FieldCheck {
  const base = { ref, role, field, expected: change === undefined ? null : displayWritten(change.after) };
  let current: CurrentValue;
  try {
    current = currentFieldValue(record, field);
  } catch (error) {
    if (!(error instanceof UdfFormatError)) throw error;
    return { ...base, current: null, verdict: 'unreadable', detail: error.message };
  }
  if (change === undefined)
    return { ...base, current: current.display, verdict: 'not-written', detail: null };
  const expected = valueSpellings(change.after, field);
  const landed =
    expected.size === 0 ? current.display === '' : [...expected].some((s) => current.spellings.has(s));
  return {
    ...base,
    current: current.display,
    verdict: landed ? 'landed' : 'missing',
    detail: landed ? null : (changedAfterRun(record, run) ?? 'the value the run wrote is not there'),
  };
}

function sameRef(a: RecordRef, b: RecordRef): boolean {
  return (
    a.connection === b.connection &&
    a.entityType.toLowerCase() === b.entityType.toLowerCase() &&
    a.id === b.id
  );
}

/** How many recent COMPLETED runs are searched for one that wrote something. */
const RUNS_SEARCHED = 20;

/**
 * The last COMPLETED run of `flow` for `ref` that wrote something, or else the last COMPLETED run, or null.
 * A later run that found every value already in place writes nothing; the run before it holds the values.
 */
async function lastCompletedRun(runs: RunRepository, flow: string, ref: RecordRef): Promise<Run | null> {
  const completed = await runs.list({ flow, ref, outcomes: ['COMPLETED'], limit: RUNS_SEARCHED });
  return completed.find((run) => run.changes.length > 0) ?? completed[0] ?? null;
}

/** Compares the company `contactId` (and the persons the run wrote) with the last COMPLETED run. */
export async function verifyEnrichment(
  api: SuperOfficeApi,
  runs: RunRepository,
  request: { flow: string; connection: string; contactId: string; fields: EnrichmentFields },
): Promise<VerifyResult> {
  const contactRef: RecordRef = {
    connection: request.connection,
    entityType: 'Contact',
    id: request.contactId,
  };
  const contact = await api.getEntity('Contact', request.contactId);
  if (contact === null) {
    throw new NotFoundError(
      'SUPEROFFICE_CONTACT_UNKNOWN',
      `Contact ${request.contactId} does not exist on connection "${request.connection}".`,
    );
  }
  const run = await lastCompletedRun(runs, request.flow, contactRef);
  const changes = run?.changes ?? [];
  const changeOf = (ref: RecordRef, field: string) =>
    changes.find(
      (change) =>
        sameRef(change.ref, ref) && changeFieldKey(change.field).toLowerCase() === field.toLowerCase(),
    );
  const checks: FieldCheck[] = [];
  const covered = new Set<FieldChange>();
  for (const role of CONTACT_ROLES) {
    const field = request.fields[role];
    if (field === null) continue;
    const change = changeOf(contactRef, field);
    if (change !== undefined) covered.add(change);
    checks.push(checkField(contact, contactRef, role, field, change, run));
  }
  // Whatever else the run wrote: person openers, and fields outside the configured ones.
  const records = new Map<string, Readonly<Record<string, unknown>> | null>([
    [`Contact/${request.contactId}`, contact],
  ]);
  for (const change of changes) {
    if (covered.has(change)) continue;
    const entity: EntityType | null = entityTypeOf(change.ref.entityType);
    if (entity === null || change.ref.connection !== request.connection) continue;
    const key = `${entity}/${change.ref.id}`;
    if (!records.has(key)) records.set(key, await api.getEntity(entity, change.ref.id));
    const record = records.get(key) ?? null;
    const field = changeFieldKey(change.field);
    const role: FieldRole =
      entity === 'Person' && field === request.fields.personOpener ? 'personOpener' : 'other';
    checks.push(
      record === null
        ? {
            ref: change.ref,
            role,
            field,
            expected: displayWritten(change.after),
            current: null,
            verdict: 'missing',
            detail: `${entity} ${change.ref.id} no longer exists`,
          }
        : checkField(record, change.ref, role, field, change, run),
    );
  }
  const failed = checks.some(
    (check) => check.verdict === 'missing' || (check.verdict === 'unreadable' && check.expected !== null),
  );
  return {
    flow: request.flow,
    contact: { id: request.contactId, name: textField(contact, 'Name') },
    run: run === null ? null : { id: run.id, finishedAt: run.finishedAt },
    checks,
    ok: run !== null && !failed,
  };
}
