import type { FieldChange, JsonObject, JsonValue, RecordRef, RunOutcome } from '../core/types.ts';

/**
 * Durable state of the engine other than the queue: run history, links of sync flows, the write ledger,
 * checkpoints of scans, and small per-connection state such as cached tokens. Every adapter (SQLite,
 * PostgreSQL) passes the same contract suite.
 */
export interface Store {
  readonly runs: RunRepository;
  readonly links: LinkRepository;
  readonly ledger: WriteLedger;
  readonly checkpoints: CheckpointRepository;
  readonly connectorState: ConnectorStateRepository;
  /** Resolves when the store answers a trivial query; rejects with StorageError otherwise (used by /readyz). */
  ping(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------- runs

/** A run as stored: one attempt of one job. `outcome` is null while the run is in progress. */
export interface Run {
  readonly id: string;
  readonly jobId: string;
  readonly flow: string;
  /** The record the job was about. */
  readonly ref: RecordRef;
  /** 1 for the first attempt of the job. */
  readonly attempt: number;
  readonly outcome: RunOutcome | null;
  /** Why a run was SKIPPED (e.g. `echo`, `irrelevant`) or a short note for the other outcomes. */
  readonly reason: string | null;
  /** The error of a FAILED run. */
  readonly error: { readonly code: string; readonly message: string } | null;
  /** Every field the run wrote (of a run that finished; see `intendedChanges` for one that died). */
  readonly changes: readonly FieldChange[];
  /**
   * The changes the run recorded as about to write, before writing them ({@link RunRepository.recordIntent}).
   * On a run that did not complete (its worker died, its lease ran out) they are what may have reached the
   * vendor: the next attempt may find those values there and skip as "up to date".
   */
  readonly intendedChanges: readonly FieldChange[];
  /** Vendor API calls the run made. */
  readonly apiCalls: number;
  /** Human-readable name of the record (company name), once known: operators never see "Entity C123". */
  readonly displayName: string | null;
  /** Human-readable owner (associate short name), once known. */
  readonly ownerName: string | null;
  readonly startedAt: number;
  /** Null while in progress. */
  readonly finishedAt: number | null;
  /** finishedAt - startedAt, null while in progress. */
  readonly durationMs: number | null;
}

/** Arguments of {@link RunRepository.start}. */
export interface RunStart {
  readonly jobId: string;
  readonly flow: string;
  readonly ref: RecordRef;
  readonly attempt: number;
  readonly startedAt: number;
}

/** Arguments of {@link RunRepository.finish}. */
export interface RunFinish {
  readonly outcome: RunOutcome;
  readonly reason?: string | null;
  readonly error?: { readonly code: string; readonly message: string } | null;
  readonly changes?: readonly FieldChange[];
  readonly apiCalls?: number;
  readonly finishedAt: number;
}

/** Filters of {@link RunRepository.list}. */
export interface RunQuery {
  readonly flow?: string;
  readonly ref?: RecordRef;
  readonly jobId?: string;
  readonly outcomes?: readonly RunOutcome[];
  /** Only runs started at or after this time (epoch ms). */
  readonly since?: number;
  /** Maximum number of runs (default 50). */
  readonly limit?: number;
  /**
   * Only runs that come after this run in list order (keyset paging: pass the id of the last run of the
   * previous page). Nothing matches once that run has been pruned.
   */
  readonly beforeId?: string;
}

/** History of runs. */
export interface RunRepository {
  /** Records the start of a run and returns its id. */
  start(run: RunStart): Promise<string>;
  /** Records display names as soon as the run learns them, before it finishes (late name resolution). */
  setNames(runId: string, names: { displayName?: string | null; ownerName?: string | null }): Promise<void>;
  /**
   * Records, durably, the field changes a run in progress is about to write (replacing an earlier intent of
   * the run). Throws NotFound for an unknown run.
   */
  recordIntent(runId: string, changes: readonly FieldChange[]): Promise<void>;
  /**
   * Records the outcome of a run in progress. Returns false, changing nothing, when the run has ended already
   * (lease recovery ends the run of an attempt whose worker stopped heartbeating). Throws NotFound for an
   * unknown run.
   */
  finish(runId: string, result: RunFinish): Promise<boolean>;
  get(runId: string): Promise<Run | null>;
  /** Runs, newest first: latest start first, then highest id. */
  list(query?: RunQuery): Promise<Run[]>;
  /**
   * Deletes runs that finished before `olderThan` (epoch ms), and runs that started before it and never
   * finished (their worker died), in bounded batches (the serving process keeps serving meanwhile).
   * Returns how many.
   */
  prune(olderThan: number): Promise<number>;
}

// --------------------------------------------------------------------------------------------- links

/** Sync status of a link, as shown to operators. */
export type LinkStatus = 'clean' | 'pending' | 'failed' | 'conflict' | 'deleted';

/** One side of a link. */
export interface LinkSide {
  readonly ref: RecordRef;
  /** Mapped canonical values at the last successful sync, or null before the first one. */
  readonly base: JsonObject | null;
  /** The vendor's version token at the last successful sync. */
  readonly version: string | null;
}

/** A pair of record refs in a sync flow. */
export interface Link {
  readonly id: string;
  readonly flow: string;
  readonly a: LinkSide;
  readonly b: LinkSide;
  readonly status: LinkStatus;
  readonly retryCount: number;
  readonly lastError: string | null;
  readonly lastSyncedAt: number | null;
  /** Increases with every save; used for optimistic concurrency. */
  readonly revision: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** A link to create or update. Omit `id` to create. */
export interface LinkWrite {
  readonly id?: string;
  readonly flow: string;
  readonly a: LinkSide;
  readonly b: LinkSide;
  readonly status: LinkStatus;
  readonly retryCount?: number;
  readonly lastError?: string | null;
  readonly lastSyncedAt?: number | null;
  /**
   * For updates: the revision read. The save fails with StaleWriteError if the stored revision differs,
   * so two writers never silently overwrite each other.
   */
  readonly expectedRevision?: number;
}

/** Links of sync flows. A record ref belongs to at most one link per flow. */
export interface LinkRepository {
  get(id: string): Promise<Link | null>;
  /** The link of `flow` that has `ref` on either side, or null. */
  findByRef(flow: string, ref: RecordRef): Promise<Link | null>;
  /** Creates or updates a link; returns it as stored (with its new revision). */
  save(link: LinkWrite): Promise<Link>;
  /** Links of a flow, optionally by status, oldest id first after `afterId` (for scans). */
  list(query: { flow: string; status?: LinkStatus; afterId?: string; limit?: number }): Promise<Link[]>;
}

// ---------------------------------------------------------------------------------------- write ledger

/** One field the engine wrote to one record. */
export interface LedgerEntry {
  readonly ref: RecordRef;
  readonly field: string;
  /** Stable hash of the written value (see core hashing), so echoes compare without storing values. */
  readonly valueHash: string;
  /** The record's version token after the write, when known. */
  readonly version: string | null;
  readonly runId: string | null;
  readonly writtenAt: number;
}

/** What the engine itself wrote, so the webhook echo of its own write is recognised without an API call. */
export interface WriteLedger {
  /** Records entries (one per field written). */
  record(entries: readonly LedgerEntry[]): Promise<void>;
  /** Entries for `ref` written at or after `since` (epoch ms), newest first. */
  find(ref: RecordRef, since: number): Promise<LedgerEntry[]>;
  /** Deletes entries written before `olderThan`, in bounded batches. Returns how many. */
  prune(olderThan: number): Promise<number>;
}

// ----------------------------------------------------------------------------------------- checkpoints

/** A named position of a long scan (backfill page, reconciler cursor, last cron tick). */
export interface Checkpoint {
  readonly name: string;
  readonly value: JsonValue;
  readonly updatedAt: number;
}

/** Checkpoints, so that a backfill or reconciler resumes after a crash. */
export interface CheckpointRepository {
  get(name: string): Promise<Checkpoint | null>;
  set(name: string, value: JsonValue): Promise<void>;
  /**
   * Sets the checkpoint only if its current value equals `expected` (null matches both absent and a stored
   * JSON null; values compare by canonical JSON). Returns whether it was
   * set. Lets two instances race for the same step with exactly one winner.
   */
  compareAndSet(name: string, expected: JsonValue | null, value: JsonValue): Promise<boolean>;
  delete(name: string): Promise<void>;
}

// ------------------------------------------------------------------------------------ connector state

/** Small per-connection values: cached access tokens, discovered base URLs, the API user's id. */
export interface ConnectorStateRepository {
  /** The value, or null when absent or expired. */
  get(connection: string, key: string): Promise<JsonValue | null>;
  /** Stores a value, optionally until `expiresAt` (epoch ms). */
  set(connection: string, key: string, value: JsonValue, expiresAt?: number | null): Promise<void>;
  delete(connection: string, key: string): Promise<void>;
  /**
   * Deletes expired values (retention), in bounded batches; they already read as absent. Returns how many
   * were deleted.
   */
  prune(): Promise<number>;
}
