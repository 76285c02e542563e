/**
 * Echo detection of the enrich flow: an event is this flow's own write coming back only when the write
 * ledger says this flow wrote the record shortly before, and the event changed nothing but what such a
 * write changes. Who made the change is not proof: `crmsync superoffice create-test-company`, a script or a
 * person may work under the API user, and their changes are real work for the flow (seeds 000-002).
 *
 * Cheap first filters decide which events are worth asking the ledger, so most events cost no query at
 * all, and none costs an API call: a creation is never an echo (the flow only changes records); a change is a
 * candidate when it was made by the API user (the seeds' associate-id circuit breaker) or touches only the
 * columns the flow's writes touch (for setups where the associate id is not reliable).
 */
import type { ChangeEvent } from '../../../core/types.ts';
import type { Clock } from '../../../ports/clock.ts';
import type { Store } from '../../../ports/store.ts';

/**
 * The columns a write of the flow changes, as SuperOffice names them in `Changes`: the user-defined field
 * columns and the bookkeeping every change reports (primary key, updated, updated by, update count).
 */
const WRITTEN_COLUMNS = new Set([
  'userdef_id',
  'userdef2_id',
  'contact_id',
  'person_id',
  'updated',
  'updated_associate_id',
  'updatedcount',
]);

/** The longest a queue backlog may delay an echo's job and still have it recognised without an API call. */
const MAX_ECHO_DELAY_MS = 60 * 60_000;

/** What the detector needs. */
export interface EchoDetectorOptions {
  /** The flow's name: only its own ledger entries count. */
  readonly flow: string;
  readonly store: Pick<Store, 'ledger' | 'runs'>;
  readonly clock: Clock;
  /** How long after a write of ours an event can still be its echo. */
  readonly windowMs: number;
}

/** Recognises the webhooks of the flow's own writes. */
export class EchoDetector {
  readonly #options: EchoDetectorOptions;

  constructor(options: EchoDetectorOptions) {
    this.#options = options;
  }

  /** True when `event` is the echo of a write of this flow; `apiActorId` is the connection's own user. */
  async isEcho(event: ChangeEvent, apiActorId: string | null): Promise<boolean> {
    if (event.kind !== 'updated') return false;
    const columns = event.changedFields;
    const onlyWrittenColumns =
      columns !== undefined && columns.every((column) => WRITTEN_COLUMNS.has(column.toLowerCase()));
    // Without a column list, only the API user's id makes an event a candidate.
    const byApiUser = apiActorId !== null && event.actorId === apiActorId;
    if (!(onlyWrittenColumns || (columns === undefined && byApiUser))) return false;
    return this.#wroteRecently(event);
  }

  async #wroteRecently(event: ChangeEvent): Promise<boolean> {
    const { flow, store, clock, windowMs } = this.#options;
    // A backlog delays the echo's job, not the echo: measure from when the vendor says it happened (within
    // the last hour, so that a timestamp read in the wrong time zone cannot widen the window further).
    const now = clock.now();
    const occurredAt = event.occurredAt === undefined ? Number.NaN : Date.parse(event.occurredAt);
    const reference = Number.isFinite(occurredAt)
      ? Math.max(Math.min(occurredAt, now), now - MAX_ECHO_DELAY_MS)
      : now;
    const entries = await store.ledger.find(event.ref, reference - windowMs);
    const runIds = new Set(entries.flatMap((entry) => (entry.runId === null ? [] : [entry.runId])));
    for (const runId of runIds) if ((await store.runs.get(runId))?.flow === flow) return true;
    return false;
  }
}
