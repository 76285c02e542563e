import type { FieldChange, JsonObject, JsonValue, RecordRef, RunOutcome } from '../core/types.ts';
import type { LockFence } from './locks.ts';

/**
 * Durable state of the engine other than the queue: run history, links of sync flows, the conflict inbox,
 * the write ledger, checkpoints of scans, and small per-connection state such as cached tokens. Every adapter
 * (SQLite, PostgreSQL) passes the same contract suite.
 */
export interface Store {
  readonly runs: RunRepository;
  readonly links: LinkRepository;
  readonly conflicts: ConflictRepository;
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

/**
 * A side's record is gone (soft delete, DESIGN lesson 4: an inferred delete is suspect, so the engine marks
 * the link and waits a grace period before it acts on the other side): when it was seen gone, and what was
 * done about it.
 */
export interface LinkDeletion {
  /** The side whose record is gone. */
  readonly side: 'a' | 'b';
  /** When the engine first saw it gone (epoch ms); the grace period runs from here. */
  readonly detectedAt: number;
  /**
   * What the engine did on the other side after the grace period (deleted that record, or only flagged it
   * there): null while it waits.
   */
  readonly applied: 'deleted' | 'flagged' | null;
  /** When it did so; null while it waits. */
  readonly appliedAt: number | null;
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
  /** The soft-delete mark: a side's record is gone; null while both records exist. */
  readonly deletion: LinkDeletion | null;
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
   * The soft-delete mark as the writer leaves it. Absent means null: a save that does not carry the mark it
   * read clears it (spread the link read to keep it).
   */
  readonly deletion?: LinkDeletion | null;
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
  /** Links of a flow, optionally filtered, oldest id first after `afterId` (for scans; default limit 100). */
  list(query: LinkQuery): Promise<Link[]>;
  /** Number of links of a flow per status (every LinkStatus key present, 0 when none). */
  countByStatus(flow: string): Promise<Record<LinkStatus, number>>;
}

/** Filters of {@link LinkRepository.list}; they combine (AND). */
export interface LinkQuery {
  readonly flow: string;
  readonly status?: LinkStatus;
  /**
   * Only links whose deletion waits for its grace period: a `deletion` with `applied` null and `detectedAt`
   * before this time (epoch ms). For the sweep that acts on deletions whose grace period is over.
   */
  readonly deletionPendingBefore?: number;
  /** Keyset paging: only links with a greater id (the id of the last link of the previous page). */
  readonly afterId?: string;
  /** Maximum number of links (default 100). */
  readonly limit?: number;
}

// ----------------------------------------------------------------------------------------- conflicts

/**
 * Where a conflict is in its life. `open`: parked for a person (manual policy); `resolved`: a person chose,
 * the next run of its link writes it; `closed`: done (settled by policy, written, or found moot).
 */
export type ConflictStatus = 'open' | 'resolved' | 'closed';

/** How a conflict was settled. */
export interface ConflictResolution {
  /** Side a's value, side b's value, or a value given by the operator. */
  readonly take: 'a' | 'b' | 'value';
  /** The value both sides get. */
  readonly value: JsonValue;
  /** Who settled it: 'policy' for a policy, else the operator (e.g. 'cli'). */
  readonly by: string;
  /** When (epoch ms). */
  readonly at: number;
}

/** A true same-field conflict of a sync link (settled by policy or parked), for the conflict inbox. */
export interface ConflictRecord {
  readonly id: string;
  readonly flow: string;
  readonly linkId: string;
  /** Canonical field, and for a collection field the item key / attribute (null when not applicable). */
  readonly field: string;
  readonly item: string | null;
  readonly attribute: string | null;
  /** Side a's value, side b's value (as the run that found it, or last reported it, saw them). */
  readonly a: JsonValue;
  readonly b: JsonValue;
  /** The base snapshot values per side. */
  readonly base: { readonly a: JsonValue; readonly b: JsonValue };
  /** The policy's kind: 'a-wins' | 'b-wins' | 'newest-wins' | 'manual'. */
  readonly policy: string;
  /** The side that won, or 'parked'. */
  readonly outcome: 'a' | 'b' | 'parked';
  readonly status: ConflictStatus;
  /** How it was settled; null while `open`. */
  readonly resolution: ConflictResolution | null;
  /** The run that found it (last updated it: reported it again, or closed it). */
  readonly runId: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/**
 * A conflict a run found ({@link OutcomeCommit.conflicts}). outcome 'parked' -> stored `open` (or, when its
 * slot has an `open` or `resolved` conflict already, that one is updated); 'a'/'b' -> stored `closed` with
 * `resolution` (by default: the winner's value, by 'policy', at the commit's time).
 *
 * `linkId: ''` means "the link of this commit": a link created by the same commit ({@link OutcomeCommit.link}
 * without id) gets its id only inside the commit.
 */
export type ConflictInput = Omit<
  ConflictRecord,
  'id' | 'status' | 'createdAt' | 'updatedAt' | 'resolution'
> & {
  readonly resolution?: ConflictResolution | null;
};

/** Filters of {@link ConflictRepository.list}; they combine (AND). */
export interface ConflictQuery {
  readonly flow?: string;
  readonly linkId?: string;
  readonly status?: ConflictStatus;
  /** Keyset paging: only conflicts with a greater id (the id of the last one of the previous page). */
  readonly afterId?: string;
  /** Maximum number of conflicts (default 100). */
  readonly limit?: number;
}

/**
 * The conflict inbox of sync flows. Runs add and close conflicts only in their outcome commit
 * ({@link OutcomeCommit.conflicts}), so the inbox always agrees with the link it is about; operators read it
 * and resolve open conflicts here.
 */
export interface ConflictRepository {
  get(id: string): Promise<ConflictRecord | null>;
  /** Oldest id first after `afterId` (default limit 100). */
  list(query?: ConflictQuery): Promise<ConflictRecord[]>;
  /** Number of conflicts of a flow per status (every status key present, 0 when none). */
  count(flow: string): Promise<Record<ConflictStatus, number>>;
  /**
   * An operator's choice for an `open` conflict: it becomes `resolved`, and the next run of its link writes
   * the value. Throws NotFoundError `CONFLICT_NOT_FOUND` for an unknown id, InputError `CONFLICT_NOT_OPEN`
   * (naming its status) for one that is resolved or closed already; neither is retryable.
   */
  resolve(id: string, resolution: ConflictResolution): Promise<ConflictRecord>;
  /**
   * Deletes `closed` conflicts updated before `olderThan` (epoch ms), in bounded batches (the serving process
   * keeps serving meanwhile); open and resolved ones are kept however old. Returns how many.
   */
  prune(olderThan: number): Promise<number>;
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

/** A field the engine is about to write ({@link WriteLedger.recordIntents}): an entry without its version yet. */
export type LedgerIntent = Omit<LedgerEntry, 'version'>;

/** An intent whose vendor write succeeded, with the version token that write returned (null if none). */
export interface LedgerConfirmation {
  /** Id returned by {@link WriteLedger.recordIntents}. */
  readonly id: string;
  readonly version: string | null;
}

/** What a change event says about a record, asked of {@link WriteLedger.matchEcho}. */
export interface EchoQuery {
  /** The record's version token after the change, when the event carries one. */
  readonly version?: string | null;
  /** Every field the event changed (in the ledger's field names) -> hash of its new value. */
  readonly fields: Readonly<Record<string, string>>;
}

/** Open ledger entries that explain a change event as the echo of the engine's own write. */
export interface EchoMatch {
  /** `version`: a confirmed entry carries the event's version token; `fields`: every field and hash matched. */
  readonly by: 'version' | 'fields';
  /** The entries that matched; consume them in the run's outcome commit ({@link OutcomeCommit.consume}). */
  readonly entryIds: readonly string[];
  /** The runs that wrote them. */
  readonly runIds: readonly string[];
}

/**
 * What the engine itself wrote, so the webhook echo of its own write is recognised without an API call.
 *
 * An entry goes through these states. **intent**: recorded by {@link recordIntents} in its own durable
 * step right before the vendor write, so a crash after the write still knows what was written.
 * **confirmed**: the outcome commit of the run that wrote it ({@link OutcomeCommit.confirm}) adds the
 * version token the write returned. **consumed**: a later run matched an echo with it ({@link matchEcho})
 * and its outcome commit consumed it ({@link OutcomeCommit.consume}); it never matches again.
 * **superseded**: an outcome commit saved the link of its record ({@link OutcomeCommit.link}) without
 * confirming it: the new base snapshots account for it. Intents and confirmed entries are *open* and match
 * echoes; a crashed run's intent stays open until the next link save, so the echo of its write is still
 * recognised (by field and value hash: the version was never learnt).
 *
 * Why superseding: an open entry older than the base snapshot is a trap. We wrote "Acme"; a user sets "Foo"
 * (synced), then "Acme" again: that webhook matches the old entry by field and hash and would be skipped
 * as our echo, losing the edit. Closed entries cost nothing of the kind: a late echo of a superseded write
 * is read and merged, equals the base snapshot, and writes nothing.
 *
 * Duplicates: a redelivery of the same vendor event never reaches the ledger (the queue drops it by its
 * event id). A second, distinct event with the same values after the echo was consumed is treated as a real
 * change: the run reads and merges it, finds the values equal to its base snapshot and writes nothing. So
 * consumption costs at most one read, never a wrong write, while an entry that matched forever would hide a
 * real edit back to the value we wrote.
 */
export interface WriteLedger {
  /** Records confirmed entries (one per field written) in one step; for writes recorded after the fact. */
  record(entries: readonly LedgerEntry[]): Promise<void>;
  /**
   * Records intents, durably, in one step before the vendor write; returns their ids in input order, to
   * confirm in the run's outcome commit.
   */
  recordIntents(intents: readonly LedgerIntent[]): Promise<string[]>;
  /**
   * The open entries of `ref` that explain the change as our own echo, or null (a pure read: consumption is
   * part of the outcome commit). By version first: the confirmed entries whose version token equals
   * `query.version` (the vendor says the record is exactly the version our write produced). Otherwise by
   * fields: every field of `query.fields` has an open entry with that field and value hash (the newest one
   * per field); one field we did not write, or wrote differently, means someone else changed the record,
   * and there is no match. An empty `fields` without a version match is no match.
   */
  matchEcho(ref: RecordRef, query: EchoQuery): Promise<EchoMatch | null>;
  /** Entries for `ref` written at or after `since` (epoch ms), newest first, in every state. */
  find(ref: RecordRef, since: number): Promise<LedgerEntry[]>;
  /** Deletes entries written before `olderThan`, in bounded batches. Returns how many. */
  prune(olderThan: number): Promise<number>;
}

// ------------------------------------------------------------------------------------- outcome commit

/**
 * What a run commits together with its outcome and its job's settlement, in one store operation
 * (`JobAttempts.end`): all of it lands, or none of it does.
 *
 * The commit is refused, and nothing of it (nor the run's outcome as the handler reported it, nor the job's
 * settlement) is stored, when `fence` is stale (`LOCK_FENCE_STALE`), `link` is stale (`STALE_WRITE`: the
 * stored revision differs from `expectedRevision`, or a create finds the record linked already), or a
 * ledger entry to confirm or consume is no longer open (`STALE_WRITE`: another run consumed it). The run
 * then ends FAILED with that error and the job fails with retry, as a thrown error would. A conflict the
 * inbox cannot hold refuses it too, not retryable (a bug of the caller): `CONFLICT_INVALID`,
 * `CONFLICT_RESOLUTION_INVALID`, `CONFLICT_LINK_MISSING` (linkId '' without a link), `LINK_NOT_FOUND`.
 */
export interface OutcomeCommit {
  /**
   * The per-link lock's fence the run holds (`Locks.acquireFenced`); checked first. Omit it only for work
   * that holds no lock.
   */
  readonly fence?: LockFence;
  /**
   * The link as the run leaves it: base snapshots, version tokens, status, retry count, last error. An
   * update must carry the `expectedRevision` the run read, so a concurrent save is detected. Saving it
   * supersedes every open ledger entry of its two records but those of `confirm` (see {@link WriteLedger}).
   */
  readonly link?: LinkWrite;
  /** Intents of this run whose vendor write succeeded, now confirmed with the version the write returned. */
  readonly confirm?: readonly LedgerConfirmation[];
  /** Entries of {@link EchoMatch.entryIds} this run matched; consumed, so they never match again. */
  readonly consume?: readonly string[];
  /**
   * True when `link` moves no base snapshot (a failure or a deletion mark recorded): the save then supersedes
   * no open ledger entry, so the echo of a write that an earlier run made (the status fields of a failure) is
   * still recognised. Superseding exists because a new base accounts for older writes; an unchanged base
   * accounts for nothing.
   */
  readonly keepLedgerOpen?: boolean;
  /**
   * Conflicts the run found (`add`, see {@link ConflictInput}: a parked conflict already in the inbox for
   * its slot updates that row, so the inbox shows it once however often merges report it) and conflicts it
   * wrote or found moot (`close`: ids, stored `closed` with the resolution, the run as their `runId`; closing
   * one that is closed already, or pruned, changes nothing).
   */
  readonly conflicts?: {
    readonly add?: readonly ConflictInput[];
    readonly close?: readonly { readonly id: string; readonly resolution: ConflictResolution }[];
  };
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
