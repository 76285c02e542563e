/**
 * A sync run that failed: the queue retries it with backoff (or sends it to DEAD), and the run records the
 * failure where operators look (DESIGN lesson 10):
 *
 * - on the link: status `failed`, the retry count (the job's attempts) and the last error, committed with the
 *   run's outcome;
 * - in the status fields of the status side's record (seed 004): `syncStatus` `failed`, or
 *   `permanently_failed` once the job has used its last attempt (default 5) or the error cannot be retried,
 *   the error text cut to the configured length, and the retry count: one request, best effort (a record
 *   that cannot be written now keeps its old status; the link has the truth);
 * - a run that failed for good sends a notice (an EspoCRM Notification) saying which record, why, and how to
 *   retry it.
 */
import { describeError } from '../../../core/errors.ts';
import type { Side } from '../../../core/sync/record.ts';
import { recordKey } from '../../../core/types.ts';
import type { RecordRef } from '../../../core/types.ts';
import type { LeasedJob } from '../../../ports/queue.ts';
import type { Link, LinkWrite, OutcomeCommit } from '../../../ports/store.ts';
import type { HandlerResult, RunContext } from '../../handlers.ts';
import { readSide, refOf } from './plan.ts';
import type { SyncRunSettings } from './settings.ts';
import { writeTracked } from './write.ts';
import type { Progress } from './write.ts';
import { statusFields } from './status-fields.ts';

/** What failed: the job, its error, and what the run had learnt and confirmed before it failed. */
export interface FailedRunInput {
  readonly job: LeasedJob;
  readonly error: unknown;
  readonly link: Link | null;
  /** The job's record. */
  readonly ref: RecordRef;
  readonly fence: NonNullable<OutcomeCommit['fence']>;
  /** What the run did before it failed: confirmed intents, a created partner, the merge's conflicts. */
  readonly progress: Progress;
}

/** The FAILED result of a run, after recording the failure in the status fields and notifying if final. */
export async function failedRun(
  settings: SyncRunSettings,
  input: FailedRunInput,
  context: RunContext,
): Promise<HandlerResult> {
  const { job, error } = input;
  const described = describeError(error);
  const final = !described.retryable || job.attempts >= job.maxAttempts;
  const message = `${described.code}: ${described.message}`;
  await recordStatus(settings, input, final, message, context);
  if (final) notifyFailure(settings, input.ref, job, message, context);
  const { progress } = input;
  const failed = failureLink(input, job, message);
  // The conflicts of a merge whose result was partly written: their losers must be on record.
  const conflicts = progress.confirm.length > 0 ? progress.conflicts : undefined;
  const commit: OutcomeCommit = {
    fence: input.fence,
    confirm: progress.confirm,
    // The base snapshots stay: the echoes of earlier runs' writes (this record's earlier failures) stay known.
    keepLedgerOpen: true,
    ...(failed !== undefined && { link: failed }),
    ...(conflicts !== undefined && { conflicts }),
  };
  return { outcome: 'FAILED', error, commit };
}

/**
 * The link as the failure leaves it: the existing one marked failed, or, when the run created the partner
 * before it failed, a new link to it (no base snapshots: the next run merges the pair as a first link), so the
 * retry never creates a second partner.
 */
function failureLink(input: FailedRunInput, job: LeasedJob, message: string): LinkWrite | undefined {
  const { link, progress } = input;
  const failure = { status: 'failed', retryCount: job.attempts, lastError: message } as const;
  if (link !== null)
    return {
      id: link.id,
      expectedRevision: link.revision,
      flow: link.flow,
      a: link.a,
      b: link.b,
      lastSyncedAt: link.lastSyncedAt,
      deletion: link.deletion,
      ...failure,
    };
  const created = progress.created;
  if (created === undefined) return undefined;
  const own = { ref: input.ref, base: null, version: null };
  const partner = { ref: created.ref, base: null, version: created.version };
  return {
    flow: job.flow,
    a: created.side === 'a' ? partner : own,
    b: created.side === 'b' ? partner : own,
    ...failure,
  };
}

/** The status side's record of the failed run: the link's, else the job's record if it is on that side. */
function statusRef(settings: SyncRunSettings, input: FailedRunInput): { side: Side; ref: RecordRef } | null {
  const side = settings.options.status?.side;
  if (side === undefined) return null;
  if (input.link !== null) return { side, ref: input.link[side].ref };
  const own = refOf(settings, side, input.ref.id);
  return own.connection === input.ref.connection && own.entityType === input.ref.entityType
    ? { side, ref: input.ref }
    : null;
}

async function recordStatus(
  settings: SyncRunSettings,
  input: FailedRunInput,
  final: boolean,
  message: string,
  context: RunContext,
): Promise<void> {
  const target = statusRef(settings, input);
  if (target === null) return;
  const fields = statusFields(settings.options.status, {
    syncStatus: final ? 'permanently_failed' : 'failed',
    at: context.clock.now(),
    error: message,
    retryCount: input.job.attempts,
  });
  try {
    const state = await readSide(settings, target.side, target.ref, { signal: context.signal });
    if (state.record === null) return;
    await writeTracked(settings, target.side, state, fields, input.progress, context, { guarded: false });
  } catch (statusError) {
    context.logger.warn(
      { ref: recordKey(target.ref), error: describeError(statusError).message },
      'sync: could not write the failure into the status fields; the link records it',
    );
  }
}

function notifyFailure(
  settings: SyncRunSettings,
  ref: RecordRef,
  job: LeasedJob,
  message: string,
  context: RunContext,
): void {
  noticeOnCommit(
    settings,
    `crmsync: flow **${settings.flow}** could not sync ${recordKey(ref)} after ${job.attempts} attempt(s) and ` +
      `stopped trying. Last error: ${message}. Fix the cause, then retry it: \`crmsync jobs replay ${job.id}\`.`,
    context,
  );
}

/**
 * Sends an operator notice once the run's outcome is committed: a refused commit means the run's effects were
 * not recorded and the job runs again, which would notify a second time.
 */
export function noticeOnCommit(settings: SyncRunSettings, message: string, context: RunContext): void {
  context.afterOutcome(async ({ committed }) => {
    if (committed) await sendNotice(settings, message, context);
  });
}

/** Sends an operator notice through the flow's notifier; a notice that cannot be delivered is logged. */
async function sendNotice(settings: SyncRunSettings, message: string, context: RunContext): Promise<void> {
  const notifier = settings.notifier;
  context.logger.warn({ notice: message }, 'sync: operator notice');
  if (notifier?.connector.notify === undefined) return;
  try {
    await notifier.connector.notify(
      { message, ...(notifier.recipient !== undefined && { recipient: notifier.recipient }) },
      { signal: context.signal },
    );
  } catch (error) {
    context.logger.warn(
      { error: describeError(error).message },
      'sync: the operator notice was not delivered',
    );
  }
}
