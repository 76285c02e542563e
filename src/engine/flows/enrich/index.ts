/**
 * The `enrich` flow (seeds 000-002): a change event for a company or person → cheap filters (no API call;
 * an echo is what the write ledger says this flow wrote, see echo.ts) →
 * read the record → names recorded → owner filter → duplicate shield → ask the enricher → map to the
 * vendor's values → write only what differs, in one request → write ledger and run.
 *
 * Skips say why: `echo`, `irrelevant`, `duplicate`, `foreign owner`, `deleted`. Failures throw: retryable
 * ones (API, enricher, a concurrent edit) are retried with backoff by the queue and end DEAD after the
 * configured attempts, where `crmsync jobs replay` picks them up (the seeds' poison pill).
 */
import { abortable } from '../../../core/abortable.ts';
import { canonicalJson, valueHash } from '../../../core/canonical.ts';
import type { ChangeEvent, FieldChange, JsonValue } from '../../../core/types.ts';
import type { Clock } from '../../../ports/clock.ts';
import type { EnrichRole, EnrichSubject, EnrichTarget } from '../../../ports/enrich-target.ts';
import type { Enricher, EnrichmentResult } from '../../../ports/enricher.ts';
import type { Locks } from '../../../ports/locks.ts';
import type { Logger } from '../../../ports/logger.ts';
import type { Store } from '../../../ports/store.ts';
import type { FlowHandler, HandlerResult, RunContext } from '../../handlers.ts';
import { DuplicateShield } from './duplicate-shield.ts';
import { EchoDetector } from './echo.ts';
import { EventFilter, eventsOf } from './filters.ts';
import type { EnrichOptions } from './options.ts';

export { enrichOptionsSchema } from './options.ts';
export type { EnrichOptions } from './options.ts';

/** What an enrich flow's handler needs. */
export interface EnrichFlowDependencies {
  /** The flow's name (scopes duplicate claims). */
  readonly flow: string;
  readonly options: EnrichOptions;
  /** The vendor side of the flow's connection. */
  readonly target: EnrichTarget;
  readonly enricher: Enricher;
  readonly store: Store;
  readonly locks: Locks;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** How long after a write of ours an event that changed only what it wrote is taken for its echo. */
const ECHO_WINDOW_MS = 60_000;

/** Creates the handler of one enrich flow. Starts discovering the API user at once (startup). */
export function createEnrichHandler(deps: EnrichFlowDependencies): FlowHandler {
  const filter = new EventFilter(deps.options);
  const shield = new DuplicateShield({
    flow: deps.flow,
    windowMs: deps.options.duplicateWindowMinutes * 60_000,
    locks: deps.locks,
    state: deps.store.connectorState,
    clock: deps.clock,
  });
  const echoes = new EchoDetector({
    flow: deps.flow,
    store: deps.store,
    clock: deps.clock,
    windowMs: ECHO_WINDOW_MS,
  });
  const apiActor = new ApiActor(deps.target, deps.logger);
  apiActor.warmUp();

  return async (job, context) => {
    const actorId = await apiActor.get(context.signal);
    const triage = await filter.triage(eventsOf(job.payloads), (event) => echoes.isEcho(event, actorId));
    if (triage.skipReason !== null) return { outcome: 'SKIPPED', reason: triage.skipReason };
    const ref = triage.relevant[0]!.ref;
    const subject = await deps.target.load(ref, {
      includeSaleHeadings: deps.options.includeSaleHeadings,
      signal: context.signal,
    });
    if (subject === null) return { outcome: 'SKIPPED', reason: 'deleted: the record no longer exists' };
    await context.setNames({ displayName: subject.displayName, ownerName: subject.owner.shortName });

    // The owner filter comes first: a foreign owner's company must not claim a name that ours then loses.
    const foreign = foreignOwner(deps.options, subject);
    if (foreign !== null) return { outcome: 'SKIPPED', reason: foreign };
    if (onlyCompanyCreations(triage.relevant) && !(await shield.claim(job.id, subject.company.name))) {
      return {
        outcome: 'SKIPPED',
        reason: `duplicate: "${subject.company.name}" was created and processed within the last ${deps.options.duplicateWindowMinutes} minutes`,
      };
    }
    return enrich(deps, subject, context);
  };
}

/**
 * The API user, discovered once (at startup when possible) and kept; a failed discovery is retried. The
 * discovery is shared by every job, so a job's signal stops only its own wait for it.
 */
class ApiActor {
  readonly #target: EnrichTarget;
  readonly #logger: Logger;
  #pending: Promise<string | null> | null = null;

  constructor(target: EnrichTarget, logger: Logger) {
    this.#target = target;
    this.#logger = logger;
  }

  warmUp(): void {
    this.get().catch((error: unknown) => {
      this.#logger.warn({ err: error }, 'enrich: API user not discovered yet; retrying with the first job');
    });
  }

  get(signal?: AbortSignal): Promise<string | null> {
    this.#pending ??= this.#target.apiActorId().catch((error: unknown) => {
      this.#pending = null;
      throw error;
    });
    return abortable(this.#pending, signal);
  }
}

function onlyCompanyCreations(events: readonly ChangeEvent[]): boolean {
  return events.every((event) => event.kind === 'created' && event.ref.entityType === 'Contact');
}

function foreignOwner(options: EnrichOptions, subject: EnrichSubject): string | null {
  const owners = options.owners;
  if (owners === undefined) return null;
  const { id, shortName } = subject.owner;
  const byId = id !== null && owners.associateIds.some((allowed) => String(allowed) === id);
  const byName =
    shortName !== null &&
    owners.shortNames.some((allowed) => allowed.toLowerCase() === shortName.toLowerCase());
  if (byId || byName) return null;
  return `foreign owner: owned by ${shortName ?? 'nobody'}${id === null ? '' : ` (associate ${id})`}, not one of the configured owners`;
}

async function enrich(
  deps: EnrichFlowDependencies,
  subject: EnrichSubject,
  context: RunContext,
): Promise<HandlerResult> {
  const verticals = await deps.target.verticals({ signal: context.signal });
  const result = await deps.enricher.enrich(
    {
      company: subject.company,
      ...(subject.person !== undefined && { person: subject.person }),
      verticals: [...verticals.keys()],
      language: deps.options.language,
    },
    { signal: context.signal },
  );
  const wanted = desiredValues(subject, result, verticals, context);
  const differing = Object.fromEntries(
    Object.entries(wanted).filter(
      ([role, value]) => canonicalJson(value) !== canonicalJson(subject.current[role as EnrichRole] ?? null),
    ),
  ) as Partial<Record<EnrichRole, JsonValue>>;
  if (Object.keys(differing).length === 0) {
    return {
      outcome: 'COMPLETED',
      reason: `up to date: the ${deps.enricher.provider} enrichment equals the current values`,
    };
  }
  context.signal.throwIfAborted();
  await context.recordIntent(intendedChanges(subject, differing));
  const written = await deps.target.write(subject, differing, { signal: context.signal });
  const writtenAt = deps.clock.now();
  await deps.store.ledger.record(
    written.changes.map((change) => ({
      ref: change.ref,
      field: change.field,
      valueHash: valueHash(change.after),
      version: written.version,
      runId: context.runId,
      writtenAt,
    })),
  );
  const roles = Object.keys(differing).join(', ');
  return {
    outcome: 'COMPLETED',
    reason: `enriched: wrote ${roles} (${deps.enricher.provider})`,
    changes: written.changes,
  };
}

/**
 * The write about to be made, for the run's intent (see RunContext.recordIntent): per role its vendor field,
 * the current value and the canonical value asked for.
 */
function intendedChanges(
  subject: EnrichSubject,
  values: Partial<Record<EnrichRole, JsonValue>>,
): FieldChange[] {
  return (Object.entries(values) as [EnrichRole, JsonValue][]).map(([role, after]) => ({
    ref: subject.ref,
    field: subject.fieldNames[role] ?? role,
    before: subject.current[role] ?? null,
    after,
  }));
}

/** The canonical values the enrichment asks for, per role the record has; no proposal leaves a role alone. */
function desiredValues(
  subject: EnrichSubject,
  result: EnrichmentResult,
  verticals: ReadonlyMap<string, number>,
  context: RunContext,
): Partial<Record<EnrichRole, JsonValue>> {
  const wanted: Partial<Record<EnrichRole, JsonValue>> = {};
  for (const role of Object.keys(subject.fieldNames) as EnrichRole[]) {
    if (role === 'vertical') {
      if (result.vertical === null) continue;
      const id = listId(verticals, result.vertical);
      if (id === undefined) {
        context.logger.warn(
          { vertical: result.vertical },
          'enrich: the proposed vertical is not in the vertical list; leaving the field as it is',
        );
        continue;
      }
      wanted.vertical = id;
      continue;
    }
    const value = result[role];
    if (value !== null && value.trim() !== '') wanted[role] = value.trim();
  }
  return wanted;
}

function listId(verticals: ReadonlyMap<string, number>, name: string): number | undefined {
  const exact = verticals.get(name);
  if (exact !== undefined) return exact;
  const wanted = name.toLowerCase();
  for (const [candidate, id] of verticals) if (candidate.toLowerCase() === wanted) return id;
  return undefined;
}
