/**
 * The cheap filters of the enrich flow, which decide without an API call whether a job has work: the event
 * whitelist, the echo breaker (the flow's own writes coming back, see echo.ts) and the relevance filter
 * (changed columns). The seeds learnt each of these the hard way (ping-pong loops, wasted AI calls).
 */
import type { ChangeEvent, JsonValue } from '../../../core/types.ts';
import type { EnrichOptions } from './options.ts';

/** Whether an event is the flow's own write coming back; asked only about watched events. */
export type EchoCheck = (event: ChangeEvent) => Promise<boolean>;

/** Why one event needs no work, or null when it does. */
export type EventVerdict = 'unwatched' | 'echo' | 'irrelevant' | null;

/** The events of a job that need work, and a reason when there are none. */
export interface Triage {
  readonly relevant: readonly ChangeEvent[];
  /** The SKIPPED reason when `relevant` is empty. */
  readonly skipReason: string | null;
}

/** Columns every change reports (the primary key, bookkeeping): they say nothing about what changed. */
const BOOKKEEPING_COLUMNS = new Set([
  'contact_id',
  'person_id',
  'updated',
  'updated_associate_id',
  'updatedcount',
  'registered',
]);

/** Reads the job payloads back as change events; payloads of another shape are ignored. */
export function eventsOf(payloads: readonly JsonValue[]): ChangeEvent[] {
  return payloads.filter(
    (payload): payload is JsonValue & ChangeEvent =>
      typeof payload === 'object' &&
      payload !== null &&
      !Array.isArray(payload) &&
      typeof payload['ref'] === 'object' &&
      typeof payload['kind'] === 'string',
  );
}

function lowerSet(names: readonly string[]): Set<string> {
  return new Set(names.map((name) => name.toLowerCase()));
}

/** Classifies change events with the flow's options; `apiActorId` is the connection's own user. */
export class EventFilter {
  readonly #events: Set<string>;
  readonly #columns: { readonly Contact: Set<string>; readonly Person: Set<string> };

  constructor(options: Pick<EnrichOptions, 'events' | 'relevantColumns'>) {
    this.#events = lowerSet(options.events);
    this.#columns = {
      Contact: lowerSet(options.relevantColumns.contact),
      Person: lowerSet(options.relevantColumns.person),
    };
  }

  /** The verdict on one event. */
  async verdict(event: ChangeEvent, isEcho: EchoCheck): Promise<EventVerdict> {
    const name = (event.vendorEvent ?? `${event.ref.entityType}.${event.kind}`).toLowerCase();
    if (!this.#events.has(name) || event.kind === 'deleted') return 'unwatched';
    if (await isEcho(event)) return 'echo';
    if (event.kind === 'created' || event.changedFields === undefined) return null;
    const watched = event.ref.entityType === 'Person' ? this.#columns.Person : this.#columns.Contact;
    return event.changedFields.some((column) => watched.has(column.toLowerCase())) ? null : 'irrelevant';
  }

  /** Sorts a job's events; when none needs work, says why in one line. */
  async triage(events: readonly ChangeEvent[], isEcho: EchoCheck): Promise<Triage> {
    const relevant: ChangeEvent[] = [];
    const skipped = new Map<Exclude<EventVerdict, null>, ChangeEvent[]>();
    for (const event of events) {
      const verdict = await this.verdict(event, isEcho);
      if (verdict === null) relevant.push(event);
      else {
        const same = skipped.get(verdict) ?? [];
        same.push(event);
        skipped.set(verdict, same);
      }
    }
    if (relevant.length > 0) return { relevant, skipReason: null };
    return { relevant, skipReason: describeSkip(skipped) };
  }
}

function describeSkip(skipped: ReadonlyMap<Exclude<EventVerdict, null>, readonly ChangeEvent[]>): string {
  // Echo first: it is the answer operators look for when a record "did nothing" after our own write.
  if (skipped.has('echo') && skipped.size === 1) {
    return "echo: this flow's own write coming back (write ledger)";
  }
  const irrelevant = skipped.get('irrelevant');
  if (irrelevant !== undefined) {
    const columns = new Set(
      irrelevant
        .flatMap((event) => event.changedFields ?? [])
        .filter((column) => !BOOKKEEPING_COLUMNS.has(column.toLowerCase())),
    );
    const list = columns.size === 0 ? 'no watched column' : [...columns].sort().join(', ');
    return `irrelevant: changed ${list}; none of the watched columns`;
  }
  if (skipped.has('echo')) return "echo: this flow's own write coming back (write ledger)";
  const names = new Set((skipped.get('unwatched') ?? []).map((event) => event.vendorEvent ?? event.kind));
  return `irrelevant: event ${[...names].sort().join(', ')} is not watched by this flow`;
}
