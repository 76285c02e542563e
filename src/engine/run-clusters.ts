/**
 * Sync-run clustering (seed 002): continuous webhooks leave many runs per account (the enrichment, then the
 * echo of its own write, then an irrelevant edit...). Runs of the same flow and record that follow each other
 * within a window form one cluster, shown as one row whose status is the outcome of its latest run that was not
 * SKIPPED: a success outshines the echoes skipped after it, while a later failure still shows. A successful
 * cluster tells what was written when any of its runs wrote something. Names come from whichever run of the
 * record learnt them (skips before a read know none), so a row is never "Entity C123" when any run knew better.
 */
import type { RecordRef, RunOutcome } from '../core/types.ts';
import type { Run } from '../ports/store.ts';

/** The seed's window: runs of one account within 15 minutes belong together. */
const DEFAULT_CLUSTER_WINDOW_MS = 15 * 60_000;

/** One cluster of runs. */
export interface RunCluster {
  readonly flow: string;
  readonly ref: RecordRef;
  readonly displayName: string | null;
  readonly ownerName: string | null;
  /** The cluster's status: see the module comment; null while its only runs are still running. */
  readonly status: RunOutcome | null;
  /** The reason (or error) of the run that decided the status. */
  readonly reason: string | null;
  readonly firstStartedAt: number;
  readonly lastStartedAt: number;
  /** Runs per outcome (`RUNNING` for unfinished ones). */
  readonly counts: Readonly<Partial<Record<RunOutcome | 'RUNNING', number>>>;
  /** The runs, oldest first. */
  readonly runs: readonly Run[];
}

function describe(run: Run): string | null {
  return run.error === null ? run.reason : `${run.error.code}: ${run.error.message}`;
}

/** The names of a record: the latest each of its runs learnt. */
interface RecordNames {
  readonly displayName: string | null;
  readonly ownerName: string | null;
}

function namesOf(runs: readonly Run[]): RecordNames {
  const newestFirst = [...runs].reverse();
  return {
    displayName: newestFirst.find((run) => run.displayName !== null)?.displayName ?? null,
    ownerName: newestFirst.find((run) => run.ownerName !== null)?.ownerName ?? null,
  };
}

function toCluster(runs: readonly Run[], names: RecordNames): RunCluster {
  const newestFirst = [...runs].reverse();
  const deciding =
    newestFirst.find((run) => run.outcome !== null && run.outcome !== 'SKIPPED') ??
    newestFirst.find((run) => run.outcome !== null);
  const telling =
    deciding?.outcome === 'COMPLETED'
      ? (newestFirst.find((run) => run.outcome === 'COMPLETED' && run.changes.length > 0) ?? deciding)
      : deciding;
  const counts: Partial<Record<RunOutcome | 'RUNNING', number>> = {};
  for (const run of runs) {
    const key = run.outcome ?? 'RUNNING';
    counts[key] = (counts[key] ?? 0) + 1;
  }
  const first = runs[0]!;
  return {
    flow: first.flow,
    ref: first.ref,
    ...names,
    status: deciding?.outcome ?? null,
    reason: telling === undefined ? null : describe(telling),
    firstStartedAt: first.startedAt,
    lastStartedAt: runs.at(-1)!.startedAt,
    counts,
    runs,
  };
}

/** Groups runs (any order) into clusters, newest cluster first. */
export function clusterRuns(runs: readonly Run[], windowMs = DEFAULT_CLUSTER_WINDOW_MS): RunCluster[] {
  const byRecord = new Map<string, Run[]>();
  for (const run of runs) {
    const key = `${run.flow}|${run.ref.connection}/${run.ref.entityType}/${run.ref.id}`;
    const same = byRecord.get(key) ?? [];
    same.push(run);
    byRecord.set(key, same);
  }
  const clusters: RunCluster[] = [];
  for (const recordRuns of byRecord.values()) {
    recordRuns.sort((a, b) => a.startedAt - b.startedAt || Number(a.id) - Number(b.id));
    const names = namesOf(recordRuns);
    let current: Run[] = [];
    for (const run of recordRuns) {
      const previous = current.at(-1);
      if (previous !== undefined && run.startedAt - previous.startedAt > windowMs) {
        clusters.push(toCluster(current, names));
        current = [];
      }
      current.push(run);
    }
    if (current.length > 0) clusters.push(toCluster(current, names));
  }
  return clusters.sort((a, b) => b.lastStartedAt - a.lastStartedAt);
}
