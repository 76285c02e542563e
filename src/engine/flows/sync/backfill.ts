/**
 * Backfill of a sync flow (`crmsync sync backfill`, docs/sync-flow.md "Backfill"): every existing record of
 * both sides, page by page, becomes one sync job, so that a flow put in front of two systems that already
 * hold data links (and where needed creates) every record once, instead of waiting for each record's next
 * change. Side a is listed first, then side b, where only records without a link matter: a linked record of
 * b was synced through its partner on side a.
 *
 * The orchestration ({@link runBackfill}) sees ports only: the sides' `list`, `links.findByRef`, the
 * checkpoints, and a {@link BackfillExecutor} that does the work of one page. Two executors exist: the queue
 * executor (real backfill: enqueue the page's jobs, wait until the worker pool has settled them, read their
 * outcomes) and the plan executor (`--dry-run`: `planSync` per record, writing nothing).
 *
 * The position is checkpointed after every page under `backfill|<flow>|<side>` (DESIGN lesson 9), only once
 * the page's jobs have settled: a crash resumes at the page it was working on and loses nothing, and the
 * jobs of that page queued before the crash are found again by their dedup key (per pass), not run twice.
 * A finished side marks its checkpoint `done`; a backfill started after both sides are done is a new pass.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { otherSide } from '../../../core/sync/record.ts';
import type { Side } from '../../../core/sync/record.ts';
import type { MergeConflict } from '../../../core/sync/slot.ts';
import { describeError } from '../../../core/errors.ts';
import { recordKey } from '../../../core/types.ts';
import type { JsonObject, JsonValue, RecordRef } from '../../../core/types.ts';
import type { Clock } from '../../../ports/clock.ts';
import type { Connector, VendorRecord } from '../../../ports/connector.ts';
import type { Job, JobState, Queue } from '../../../ports/queue.ts';
import type {
  CheckpointRepository,
  ConflictRepository,
  Link,
  LinkRepository,
  RunRepository,
} from '../../../ports/store.ts';
import { syncJobFor } from './change-detection.ts';
import { resolutionsOf } from './conflicts.ts';
import { planSync } from './plan.ts';
import type { SyncPlan, SyncPlanSettings } from './plan.ts';

/** What became of one record, as the summary counts it. */
export const BACKFILL_OUTCOMES = [
  'created',
  'updated',
  'linked',
  'unchanged',
  'conflicts',
  'failed',
] as const;

/**
 * `created`: its partner was created and linked; `linked`: linked to an existing partner (the foreign key);
 * `updated`: an existing link's records were written; `unchanged`: nothing to write; `conflicts`: a conflict
 * stays parked; `failed`: the run failed (the queue retries it, or it is DEAD).
 */
export type BackfillOutcome = (typeof BACKFILL_OUTCOMES)[number];

/** Records per outcome. */
export type BackfillCounts = Record<BackfillOutcome, number>;

/** Counts of zero. */
export function emptyCounts(): BackfillCounts {
  return { created: 0, updated: 0, linked: 0, unchanged: 0, conflicts: 0, failed: 0 };
}

/** One listed record to sync, with its link in the flow (null: not linked yet). */
export interface BackfillRecord {
  readonly side: Side;
  readonly ref: RecordRef;
  readonly record: VendorRecord;
  readonly link: Link | null;
}

/** Does the work of one page: answers per record, in order, what became of it. */
export interface BackfillExecutor {
  /** `pass` names the backfill pass (its jobs' dedup keys carry it, so a resumed pass finds its jobs). */
  execute(
    records: readonly BackfillRecord[],
    context: { readonly pass: string; readonly signal?: AbortSignal },
  ): Promise<BackfillOutcome[]>;
  /**
   * Whether a side-b record without a link is dealt with already by side a's pass although no link says so
   * yet (the dry run: the partner side a's plan found by foreign key is not linked, since nothing is written).
   */
  covers?(ref: RecordRef): boolean;
}

/** One side to list. */
export interface BackfillSource {
  readonly connector: Pick<Connector, 'connection' | 'list'>;
  readonly entityType: string;
}

/** What a page reported: where the backfill is, and its counts so far in this invocation. */
export interface BackfillProgress {
  readonly side: Side;
  /** Pages done in this invocation. */
  readonly pages: number;
  /** Records listed (examined) in this invocation, skipped ones included. */
  readonly listed: number;
  /** Records synced (or planned) in this invocation. */
  readonly records: number;
  readonly counts: BackfillCounts;
  /** Milliseconds since this invocation started. */
  readonly elapsedMs: number;
}

/** What a backfill works with. */
export interface BackfillDependencies {
  readonly flow: string;
  readonly sides: { readonly a: BackfillSource; readonly b: BackfillSource };
  readonly links: Pick<LinkRepository, 'findByRef'>;
  readonly checkpoints: Pick<CheckpointRepository, 'get' | 'set'>;
  readonly executor: BackfillExecutor;
  readonly clock: Clock;
  readonly settings: BackfillSettings;
  /** Called after every page (the CLI's progress bar). */
  readonly onPage?: (progress: BackfillProgress) => void;
  readonly signal?: AbortSignal;
}

/** How far and how a backfill goes. */
export interface BackfillSettings {
  /** Records per page; default the connector's. */
  readonly pageSize?: number;
  /** Stop after this many records synced (the checkpoint keeps the position); default all. */
  readonly limit?: number;
  /** False (the dry run) reads the checkpoints to start where a backfill would, and writes none. */
  readonly persist: boolean;
}

/** What a backfill did. */
export interface BackfillResult {
  /** The pass: its id, and whether this invocation resumed it. */
  readonly pass: string;
  readonly resumed: boolean;
  /** True when both sides were listed to their end; false when `limit` or the signal stopped it. */
  readonly finished: boolean;
  readonly records: number;
  /** This invocation's counts. */
  readonly counts: BackfillCounts;
  /** The whole pass's counts, resumed invocations included. */
  readonly passCounts: BackfillCounts;
}

/** The checkpoint name of a side's backfill. */
export function backfillCheckpointName(flow: string, side: Side): string {
  return `backfill|${flow}|${side}`;
}

/** A side's position as checkpointed. */
interface BackfillPosition {
  /** The pass, shared by both sides' checkpoints: side b resumes only within the pass side a finished. */
  readonly pass: string;
  /** The page to list next (null: the first). */
  readonly cursor: string | null;
  readonly counts: BackfillCounts;
  readonly done: boolean;
}

function parsePosition(value: JsonValue | undefined): BackfillPosition | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  if (typeof value['pass'] !== 'string') return null;
  const stored = value['counts'];
  const counts = emptyCounts();
  if (typeof stored === 'object' && stored !== null && !Array.isArray(stored))
    for (const outcome of BACKFILL_OUTCOMES)
      if (typeof stored[outcome] === 'number') counts[outcome] = stored[outcome];
  return {
    pass: value['pass'],
    cursor: typeof value['cursor'] === 'string' ? value['cursor'] : null,
    counts,
    done: value['done'] === true,
  };
}

const freshPosition = (pass: string): BackfillPosition => ({
  pass,
  cursor: null,
  counts: emptyCounts(),
  done: false,
});

function addCounts(into: BackfillCounts, outcomes: readonly BackfillOutcome[]): BackfillCounts {
  const sum = { ...into };
  for (const outcome of outcomes) sum[outcome] += 1;
  return sum;
}

function plusCounts(x: BackfillCounts, y: BackfillCounts): BackfillCounts {
  const sum = emptyCounts();
  for (const outcome of BACKFILL_OUTCOMES) sum[outcome] = x[outcome] + y[outcome];
  return sum;
}

/** Where to start: an unfinished side of the last pass, else a new pass from side a. */
async function startingPoint(
  deps: BackfillDependencies,
): Promise<{ side: Side; position: BackfillPosition; resumed: boolean; before: BackfillCounts }> {
  const { checkpoints, flow, clock } = deps;
  const a = parsePosition((await checkpoints.get(backfillCheckpointName(flow, 'a')))?.value);
  const b = parsePosition((await checkpoints.get(backfillCheckpointName(flow, 'b')))?.value);
  if (a !== null && !a.done) return { side: 'a', position: a, resumed: true, before: a.counts };
  if (a !== null && b !== null && !b.done && b.pass === a.pass)
    return { side: 'b', position: b, resumed: true, before: plusCounts(a.counts, b.counts) };
  const pass = new Date(clock.now()).toISOString();
  return { side: 'a', position: freshPosition(pass), resumed: false, before: emptyCounts() };
}

/**
 * Backfills the flow: lists side a, then side b, from the last checkpoint; per page, the records to sync go
 * to the executor, and the position is checkpointed once the executor has answered for all of them.
 */
export async function runBackfill(deps: BackfillDependencies): Promise<BackfillResult> {
  const { flow, settings, clock, signal } = deps;
  const started = clock.now();
  const start = await startingPoint(deps);
  const save = async (side: Side, position: BackfillPosition) => {
    if (settings.persist) await deps.checkpoints.set(backfillCheckpointName(flow, side), { ...position });
  };
  const limit = settings.limit ?? Number.POSITIVE_INFINITY;
  let counts = emptyCounts();
  let passCounts = start.before;
  let records = 0;
  let listed = 0;
  let pages = 0;
  const sides: readonly Side[] = start.side === 'a' ? ['a', 'b'] : ['b'];
  for (const side of sides) {
    let position = side === start.side ? start.position : freshPosition(start.position.pass);
    const { connector, entityType } = deps.sides[side];
    const passStart = Date.parse(position.pass);
    /** Ids synced by this invocation on this side: a record that failed is relisted too, but not retried. */
    const handled = new Set<string>();
    while (!position.done) {
      if (records >= limit || signal?.aborted === true)
        return { pass: position.pass, resumed: start.resumed, finished: false, records, counts, passCounts };
      const page = await connector.list(
        {
          entityType,
          ...(position.cursor !== null && { cursor: position.cursor }),
          ...(settings.pageSize !== undefined && { limit: settings.pageSize }),
        },
        signal === undefined ? {} : { signal },
      );
      const work: BackfillRecord[] = [];
      let consumed = 0;
      for (const record of page.records) {
        const ref = { connection: connector.connection, entityType: record.entityType, id: record.id };
        const link = await deps.links.findByRef(flow, ref);
        // A linked record of side b was synced through its partner on side a. A record synced since the
        // pass started needs nothing more from it: where the vendor lists by modification time (EspoCRM),
        // the pass's own writes (a failure's status fields too) move its records to the end of the
        // listing, where they come up again.
        const synced =
          handled.has(record.id) ||
          (link?.lastSyncedAt ?? Number.NEGATIVE_INFINITY) >= passStart ||
          (side === 'b' && (link !== null || deps.executor.covers?.(ref) === true));
        if (!synced) {
          if (records + work.length >= limit) break;
          work.push({ side, ref, record, link });
          handled.add(record.id);
        }
        consumed += 1;
      }
      const outcomes = await deps.executor.execute(work, {
        pass: position.pass,
        ...(signal !== undefined && { signal }),
      });
      records += work.length;
      listed += consumed;
      pages += 1;
      counts = addCounts(counts, outcomes);
      passCounts = addCounts(passCounts, outcomes);
      const sideCounts = addCounts(position.counts, outcomes);
      // A `limit` that stopped within the page keeps its cursor: the page is listed again, and its records
      // synced now are passed over then. Not an offset into the page: where the vendor pages by modification
      // time, the records synced have moved out of it, and an offset would skip the ones that took their place.
      if (consumed < page.records.length) position = { ...position, counts: sideCounts };
      else if (page.nextCursor === null)
        position = { ...position, cursor: null, counts: sideCounts, done: true };
      else position = { ...position, cursor: page.nextCursor, counts: sideCounts };
      await save(side, position);
      // Side b starts within the same pass, checkpointed at once: a crash now resumes at side b.
      if (position.done && side === 'a') await save(otherSide(side), freshPosition(position.pass));
      deps.onPage?.({ side, pages, listed, records, counts, elapsedMs: clock.now() - started });
    }
  }
  return { pass: start.position.pass, resumed: start.resumed, finished: true, records, counts, passCounts };
}

// ------------------------------------------------------------------------------------ queue executor

/** What the queue executor works with. */
export interface QueueExecutorDependencies {
  readonly flow: string;
  readonly queue: Pick<Queue, 'enqueueMany' | 'get'>;
  readonly runs: Pick<RunRepository, 'list'>;
  readonly links: Pick<LinkRepository, 'findByRef'>;
  /** Called after the page's jobs are queued (wakes the worker pool's idle loops). */
  readonly wake?: () => void;
  readonly clock: Clock;
  /** Pause between two looks at the page's jobs; default 25 ms. */
  readonly pollMs?: number;
  /** A failed job whose retry is due within this long is waited for; default 10 s. */
  readonly retryWaitMs?: number;
}

const ENDED: ReadonlySet<JobState> = new Set<JobState>(['COMPLETED', 'SKIPPED', 'DEAD']);

/**
 * A job has settled for the backfill once it ended, or failed with its retry further away than `retryWaitMs`
 * (the queue retries it later, as it would any job; the backfill counts it failed and goes on). A retry due
 * sooner (a link lock held a moment, a 429) is waited for: the backfill's own pool runs it.
 */
function settled(job: Job | null, now: number, retryWaitMs: number): boolean {
  if (job === null || ENDED.has(job.state)) return true;
  return job.state === 'FAILED' && job.runAt > now + retryWaitMs;
}

/**
 * The real backfill's executor: queues one sync job per record (a synthetic `created` event for a record
 * without a link, `updated` for a linked one), waits until the worker pool has settled every job of the
 * page, and reads what each run did.
 */
export function createQueueExecutor(deps: QueueExecutorDependencies): BackfillExecutor {
  const pollMs = deps.pollMs ?? 25;
  const retryWaitMs = deps.retryWaitMs ?? 10_000;
  return {
    async execute(records, { pass, signal }) {
      if (records.length === 0) return [];
      const inputs = records.map(({ ref, record, link }) =>
        syncJobFor(deps.flow, {
          ref,
          kind: link === null ? 'created' : 'updated',
          version: record.version,
          // 'backfill' is not (yet) in ScanFinding's source union, which lives in change-detection.ts; the
          // value only names the synthetic event and the dedup key.
          source: 'backfill',
          // Per pass: a resumed pass finds the jobs it queued before a crash; a new pass syncs again.
          seen: `${pass}:${record.id}@${record.version ?? 'unknown'}`,
        }),
      );
      const queued = await deps.queue.enqueueMany(inputs);
      deps.wake?.();
      const jobIds = queued.map((result) => result.jobId);
      for (;;) {
        const jobs = await Promise.all(jobIds.map((id) => deps.queue.get(id)));
        const now = deps.clock.now();
        if (jobs.every((job) => settled(job, now, retryWaitMs)))
          return Promise.all(
            jobs.map(async (job, index): Promise<BackfillOutcome> =>
              job === null ? 'failed' : outcomeOf(deps, records[index]!.ref, job),
            ),
          );
        await sleep(pollMs, undefined, signal === undefined ? {} : { signal });
      }
    },
  };
}

/** What the settled job of `ref` did, from its newest run and the record's link. */
async function outcomeOf(
  deps: QueueExecutorDependencies,
  ref: RecordRef,
  job: Job,
): Promise<BackfillOutcome> {
  if (job.state === 'FAILED' || job.state === 'DEAD') return 'failed';
  const [run] = await deps.runs.list({ jobId: job.id, limit: 1 });
  if (run?.outcome === 'CONFLICT') return 'conflicts';
  if (run?.outcome === 'FAILED') return 'failed';
  // The run's own account of a first sync that created the partner (run.ts: `created <ref>`).
  if (run?.outcome === 'COMPLETED' && run.reason?.startsWith('created ') === true) return 'created';
  // A link made since the job was queued was made by its run: a first link to an existing partner.
  const link = await deps.links.findByRef(deps.flow, ref);
  if (link !== null && link.createdAt >= job.createdAt) return 'linked';
  return job.state === 'COMPLETED' ? 'updated' : 'unchanged';
}

// ------------------------------------------------------------------------------------- plan executor

/** One record as the dry run planned it. */
export interface PlannedRecord {
  /** `connection/EntityType/id`. */
  readonly ref: string;
  readonly outcome: BackfillOutcome;
  /** A create: the side the partner would be created on, with these vendor fields. */
  readonly create?: { readonly side: Side; readonly fields: JsonObject };
  /** A first link: the partner found by the foreign key. */
  readonly partner?: string;
  /** Vendor fields a run would write per side (only sides with writes). */
  readonly writes?: Partial<Record<Side, JsonObject>>;
  /** The merge's conflicts (settled by a policy or parked). */
  readonly conflicts?: readonly MergeConflict[];
  /** Why planning failed. */
  readonly error?: string;
}

/** The dry run's executor, with what it planned. */
export interface PlanExecutor extends BackfillExecutor {
  /** Every record planned so far, in order. */
  readonly planned: readonly PlannedRecord[];
}

/**
 * The dry run's executor: `planSync` per record (both sides read, nothing written, neither to the vendors nor
 * to the store), with the link's resolved conflicts applied as a run would.
 */
export function createPlanExecutor(
  settings: SyncPlanSettings,
  conflicts: Pick<ConflictRepository, 'list'>,
): PlanExecutor {
  const planned: PlannedRecord[] = [];
  /** Side-b ids of partners that side a's plans linked by foreign key. */
  const claimed = new Set<string>();
  return {
    planned,
    covers: (ref) => claimed.has(ref.id),
    async execute(records, { signal }) {
      const outcomes: BackfillOutcome[] = [];
      for (const { side, ref, link } of records) {
        let entry: PlannedRecord;
        try {
          const resolved =
            link === null ? [] : await conflicts.list({ linkId: link.id, status: 'resolved', limit: 10_000 });
          const plan = await planSync(settings, side, ref, link, {
            resolutions: resolutionsOf({ open: [], resolved }),
            ...(signal !== undefined && { signal }),
          });
          entry = plannedRecord(recordKey(ref), side, plan);
          if (plan.kind === 'merge' && plan.link === null && side === 'a') claimed.add(plan.sides.b.ref.id);
        } catch (error) {
          const { code, message } = describeError(error);
          entry = { ref: recordKey(ref), outcome: 'failed', error: `${code}: ${message}` };
        }
        planned.push(entry);
        outcomes.push(entry.outcome);
      }
      return outcomes;
    },
  };
}

function plannedRecord(ref: string, side: Side, plan: SyncPlan): PlannedRecord {
  switch (plan.kind) {
    case 'none':
    case 'gone':
      return { ref, outcome: 'unchanged' };
    case 'create':
      return { ref, outcome: 'created', create: { side: plan.target, fields: plan.fields } };
    case 'merge': {
      const writes = Object.fromEntries(
        (['a', 'b'] as const)
          .filter((which) => Object.keys(plan.writes[which]).length > 0)
          .map((which) => [which, plan.writes[which]]),
      );
      const hasWrites = Object.keys(writes).length > 0;
      const outcome: BackfillOutcome =
        plan.merge.summary.parked > 0
          ? 'conflicts'
          : plan.link === null
            ? 'linked'
            : hasWrites
              ? 'updated'
              : 'unchanged';
      return {
        ref,
        outcome,
        ...(plan.link === null && {
          partner: recordKey(plan.sides[otherSide(side)].ref),
        }),
        ...(hasWrites && { writes }),
        ...(plan.merge.conflicts.length > 0 && { conflicts: plan.merge.conflicts }),
      };
    }
  }
}
