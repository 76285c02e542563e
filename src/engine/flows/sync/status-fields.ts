/**
 * The seed system's status fields (seed 004: `syncStatus`, `advowareLastSync`, `syncErrorMessage`,
 * `syncRetryCount`, `advowareRowId`) as the vendor fields a run writes to the status side. They travel in the
 * same request as the run's data write to that side: the status costs no call of its own when data is written
 * anyway. A run writes them alone only when the record shows a state that is no longer true (a `failed`
 * record that now synced, or a failure to record); an up-to-date `clean` record is not rewritten just to move
 * `advowareLastSync`, which would cost a call per sync (docs/sync-flow.md, "Status fields").
 */
import type { JsonObject, JsonValue } from '../../../core/types.ts';
import type { SyncOptions } from './options.ts';
import type { SYNC_STATUS_VALUES } from './options.ts';

/** A `syncStatus` value. */
export type SyncStatusValue = (typeof SYNC_STATUS_VALUES)[number];

/** What the status fields should say after the run. */
export interface StatusReport {
  readonly syncStatus: SyncStatusValue;
  /** When the run ended (epoch ms); written as `lastSync` after a success only. */
  readonly at: number;
  /** The error of a failed run (cut to the configured length), null after a success. */
  readonly error: string | null;
  readonly retryCount: number;
  /** The other side's version token after the run (`advowareRowId`), when known. */
  readonly otherVersion?: string | null;
}

/** The status fields' vendor values for `report`, or `{}` when the flow keeps no status fields. */
export function statusFields(status: SyncOptions['status'], report: StatusReport): JsonObject {
  if (status === undefined) return {};
  const fields: Record<string, JsonValue> = {};
  const success = report.syncStatus === 'clean';
  if (status.syncStatus !== undefined) fields[status.syncStatus] = report.syncStatus;
  if (status.lastSync !== undefined && success)
    fields[status.lastSync] = formatTime(report.at, status.lastSyncFormat);
  if (status.errorMessage !== undefined)
    fields[status.errorMessage] =
      report.error === null ? null : cut(report.error, status.errorMessageMaxLength);
  if (status.retryCount !== undefined) fields[status.retryCount] = report.retryCount;
  if (status.versionToken !== undefined && success && report.otherVersion != null)
    fields[status.versionToken] = report.otherVersion;
  return fields;
}

/**
 * Whether the status side's record shows something the run must correct though it writes no data there: a
 * status other than `clean`, a retry count or an error left from a failure.
 */
export function statusIsStale(status: SyncOptions['status'], fields: JsonObject): boolean {
  if (status === undefined) return false;
  const value = (field: string | undefined): JsonValue | undefined =>
    field === undefined ? undefined : fields[field];
  const syncStatus = value(status.syncStatus);
  const retryCount = value(status.retryCount);
  const error = value(status.errorMessage);
  return (
    (syncStatus !== undefined && syncStatus !== 'clean') ||
    (typeof retryCount === 'number' && retryCount !== 0) ||
    (typeof error === 'string' && error !== '')
  );
}

function formatTime(at: number, format: 'datetime-utc' | 'iso'): string {
  const iso = new Date(at).toISOString();
  return format === 'iso' ? iso : iso.slice(0, 19).replace('T', ' ');
}

/** `text` cut to `max` characters (code points, so a cut never splits a surrogate pair), marked with "…". */
function cut(text: string, max: number): string {
  const points = [...text];
  return points.length <= max ? text : `${points.slice(0, max - 1).join('')}…`;
}
