/**
 * Where a scan of one entity type stands between runs: the newest modification time it handled and the
 * (record, version) pairs it handled within the overlap window before that time. Scans (the enrich flow's
 * reconciler, the sync flow's scans) list `modifiedSince` = position - overlap, so a record saved in the same
 * unit of time as the position is listed again even where the vendor's filter is exclusive (SuperOffice
 * `afterTime` on whole seconds), and the seen pairs make that re-listing free: a pair already handled is
 * neither queued again nor counted against a run's budget.
 *
 * The overlap is the vendor's granularity (at least): what `modifiedSince` cannot tell apart. Entries older
 * than the window are dropped when the position moves on, so the checkpoint stays as small as the number of
 * records saved within one unit of time.
 */
import { InputError } from '../core/errors.ts';
import type { JsonObject, JsonValue } from '../core/types.ts';
import type { ListCapabilities, VendorRecord } from '../ports/connector.ts';

/** A scan window as stored in a checkpoint. */
interface StoredWindow {
  /** Newest modification time handled (ISO 8601 UTC). */
  readonly at: string;
  /** `id@version` -> modification time (ms) of each pair handled within the overlap before `at`. */
  readonly seen: Readonly<Record<string, number>>;
}

function pairKey(record: VendorRecord): string {
  return `${record.id}@${record.version ?? ''}`;
}

function parseStored(value: JsonValue | undefined): StoredWindow | null {
  // A bare ISO string is the checkpoint of the reconciler before scan windows: a position, nothing seen.
  if (typeof value === 'string') return { at: value, seen: {} };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const { at, seen } = value;
  if (typeof at !== 'string' || typeof seen !== 'object' || seen === null || Array.isArray(seen)) return null;
  const pairs: Record<string, number> = {};
  for (const [key, ms] of Object.entries(seen)) if (typeof ms === 'number') pairs[key] = ms;
  return { at, seen: pairs };
}

/** The scan window of one entity type; see the module documentation. */
export class ScanWindow {
  readonly #overlapMs: number;
  #atMs: number;
  readonly #seen: Map<string, number>;

  /**
   * Resumes from a checkpoint value (absent or unreadable: starts at `start`, ISO 8601). Throws InputError
   * for a vendor whose list cannot be scanned by modification time (`modifiedSince` unsupported, or records
   * not listed oldest first), since a checkpoint would then skip records.
   */
  constructor(checkpoint: JsonValue | undefined, start: string, list: ListCapabilities, overlapMs = 0) {
    if (list.modifiedSince === 'unsupported' || list.order !== 'modified') {
      throw new InputError(
        'SCAN_UNSUPPORTED',
        'This connector cannot list records by modification time, oldest first; it cannot be scanned from a checkpoint.',
      );
    }
    const stored = parseStored(checkpoint) ?? { at: start, seen: {} };
    const atMs = Date.parse(stored.at);
    this.#atMs = Number.isNaN(atMs) ? Date.parse(start) : atMs;
    this.#overlapMs = Math.max(overlapMs, list.modifiedGranularityMs);
    this.#seen = new Map(Object.entries(stored.seen));
  }

  /** The `modifiedSince` of this scan's list calls: the position minus the overlap. */
  get since(): string {
    return new Date(this.#atMs - this.#overlapMs).toISOString();
  }

  /** True when this (record, version) pair was handled before: skip it, free of charge. */
  seen(record: VendorRecord): boolean {
    return this.#seen.has(pairKey(record));
  }

  /** Marks the pair handled and moves the position to its modification time when that is newer. */
  handled(record: VendorRecord): void {
    const ms = record.modifiedAt === undefined ? Number.NaN : Date.parse(record.modifiedAt);
    if (Number.isNaN(ms)) return;
    this.#seen.set(pairKey(record), ms);
    if (ms > this.#atMs) this.#atMs = ms;
  }

  /** The checkpoint value: the position, and the pairs still inside the overlap window. */
  toCheckpoint(): JsonObject {
    const from = this.#atMs - this.#overlapMs;
    const seen: Record<string, number> = {};
    for (const [key, ms] of this.#seen) if (ms >= from) seen[key] = ms;
    return { at: new Date(this.#atMs).toISOString(), seen };
  }
}
