/**
 * The randomised convergence scenario of issue 10, parameterised by seed, edit count and fault rates; used by
 * sync-convergence.test.ts (short, inside `npm test`) and sync-chaos.ts (`npm run test:chaos`).
 *
 * The world (convergence-world.ts): the EspoCRM and Advoware simulators in this process, `crmsync serve` as a child process (so it
 * can be killed with SIGKILL and started again on the same SQLite file) with the Beteiligte flow, its
 * re-check, discovery and reconciler every second, and EspoCRM's signed webhooks going through a
 * WebhookRelay (webhook-relay.ts) that duplicates and reorders them. Advoware answers with 5xx, 429 with Retry-After
 * and hanging requests, drawn from the simulator's seeded fault PRNG.
 *
 * The run: pairs are created on both sides and synced (the first convergence point); then the driver makes
 * the edits one at a time, as humans through the simulators' admin APIs (never crmsync's connectors):
 * first/last names of persons, company names of companies, on either side, a few creates on each side, and
 * now and then the same field on both sides back to back (within one sync interval). With `kill`, the
 * crmsync process is killed mid-run while a job is in flight and started again. Then the faults stop and the
 * scenario waits for quiescence, reads both vendors and the store, and judges (convergence-judge.ts, with the rule of convergence-oracle.ts).
 */
import { seededRandom } from '../../src/core/random.ts';
import { eventually } from '../support/eventually.ts';
import { simRequestCounts } from '../support/sim-admin.ts';
import type { RouteCounts } from '../support/sim-admin.ts';
import { judgeWorld } from './convergence-judge.ts';
import type { TrackedRecord } from './convergence-judge.ts';
import type { CanonicalField, CanonicalValues, Edit } from './convergence-oracle.ts';
import { FLOW, startConvergenceWorld } from './convergence-world.ts';
import type { ConvergenceWorld } from './convergence-world.ts';
import type { RelayStats } from './webhook-relay.ts';

/** What a convergence run does. */
export interface ConvergenceParams {
  /** Seed of every random choice (edits, simulator faults, relay faults). */
  readonly seed: number;
  /** Edits after the setup (creates during the run count as edits). */
  readonly edits: number;
  /** Record pairs created and synced before the edits (half on each side). */
  readonly pairs: number;
  /** Share of edits that are creates (split between the sides). */
  readonly createShare: number;
  /** Share of edits that edit the same field on both sides back to back (counted as two edits). */
  readonly sameFieldShare: number;
  /** Mean pause between edits in ms (humans do not edit all at once; the driver's pacing, not a wait). */
  readonly paceMs: number;
  /** Probabilities per Advoware API request, and per webhook delivery. */
  readonly faults: {
    readonly advo5xx: number;
    readonly advo429: number;
    readonly advoTimeout: number;
    readonly duplicateWebhook: number;
    readonly reorderWebhook: number;
  };
  /**
   * EspoCRM's optimistic concurrency for CBeteiligte (an admin setting; the vendor's default is off): with it
   * every save has its own versionNumber and crmsync's writes there are conditional.
   */
  readonly optimisticConcurrency: boolean;
  /** Kill the crmsync process with SIGKILL once, halfway through the edits, and start it again. */
  readonly kill: boolean;
  /** Longest wait for quiescence after the edits (ms). */
  readonly quiescenceTimeoutMs: number;
  /** Where progress lines go. */
  readonly log: (line: string) => void;
}

/** What a run found: the summary and every violation of the acceptance rule. */
export interface ConvergenceReport {
  readonly seed: number;
  readonly edits: number;
  readonly sameFieldEdits: number;
  readonly creates: { readonly a: number; readonly b: number };
  readonly pairs: number;
  readonly conflicts: number;
  readonly fieldsExplainedByConflict: number;
  readonly runs: number;
  readonly jobs: Record<string, number>;
  readonly apiCalls: { readonly espo: number; readonly advo: number; readonly advoFaults: number };
  readonly relay: RelayStats;
  readonly killed: boolean;
  readonly durationMs: number;
  /** Empty when the run converged as the oracle demands. */
  readonly violations: readonly string[];
  /** For each violation's records: their edits and runs in time order, to see what happened. */
  readonly traces: readonly string[];
}

/** Reads `CRMSYNC_TEST_SEED` (decimal) or returns `fallback`. */
export function seedFromEnv(fallback: number): number {
  const raw = process.env['CRMSYNC_TEST_SEED'];
  if (raw === undefined || raw.trim() === '') return fallback;
  const seed = Number(raw);
  if (!Number.isInteger(seed)) throw new Error(`CRMSYNC_TEST_SEED must be an integer, got "${raw}"`);
  return seed;
}

const FIRST = ['Anna', 'Jan', 'Ute', 'Lars', 'Özlem', 'René', 'Katrin', 'Birgit'];
const LAST = ['Berg', 'Weber', 'Krüger', 'Hoffmann', 'Yılmaz', 'Schäfer', 'Becker', 'Lang'];
const FIRMS = ['Kanzlei Nord', 'Müller & Partner', 'Hansen Recht', 'Ostsee Treuhand'];

/** A record's values as a human types them into EspoCRM's form. */
function espoBody(values: CanonicalValues): object {
  return values.companyName !== null
    ? { firmenname: values.companyName, name: values.companyName }
    : {
        firstName: values.firstName,
        lastName: values.lastName,
        name: `${values.firstName} ${values.lastName}`,
      };
}

/** A record's values as a human types them into Advoware's form. */
function advoBody(values: CanonicalValues): object {
  return values.companyName !== null
    ? { name: values.companyName }
    : { vorname: values.firstName, name: values.lastName };
}

/** One edit of `field` on `side` as a human makes it in that UI: the one field (and EspoCRM's name with a firm). */
async function editAsHuman(
  world: ConvergenceWorld,
  record: TrackedRecord,
  side: 'a' | 'b',
  field: CanonicalField,
  value: string,
): Promise<void> {
  if (side === 'a') {
    const body = field === 'companyName' ? { firmenname: value, name: value } : { [field]: value };
    await world.espoAct(body, record.espoId ?? undefined);
  } else {
    await world.advoAct({ [field === 'firstName' ? 'vorname' : 'name']: value }, record.betNr ?? undefined);
  }
}

const fieldsOf = (kind: TrackedRecord['kind']): CanonicalField[] =>
  kind === 'person' ? ['firstName', 'lastName'] : ['companyName'];

/** Requests to the vendor APIs (not the admin API), of the statuses `filter` keeps. */
function apiCalls(counts: RouteCounts, filter: (status: string) => boolean = () => true): number {
  let sum = 0;
  for (const [route, byStatus] of Object.entries(counts))
    if (!route.includes('/_sim/'))
      for (const [status, count] of Object.entries(byStatus)) if (filter(status)) sum += count;
  return sum;
}

/** Runs one convergence scenario; see the module comment. Cleans up everything it started. */
export async function runConvergence(params: ConvergenceParams): Promise<ConvergenceReport> {
  const started = performance.now();
  const startedAt = Date.now();
  const random = seededRandom(params.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  let counter = 0;
  const fresh = (stem: string) => `${stem}-${++counter}`;
  const freshValue = (field: CanonicalField) =>
    fresh(pick(field === 'companyName' ? FIRMS : field === 'firstName' ? FIRST : LAST));
  const world = await startConvergenceWorld(params);
  try {
    const tracked: TrackedRecord[] = [];
    const create = async (side: 'a' | 'b', during: boolean) => {
      const kind = random() < 0.7 ? 'person' : 'company';
      const values: CanonicalValues =
        kind === 'person'
          ? { firstName: freshValue('firstName'), lastName: freshValue('lastName'), companyName: null }
          : { firstName: null, lastName: null, companyName: freshValue('companyName') };
      tracked.push({
        key: `r${tracked.length}`,
        kind,
        espoId: side === 'a' ? await world.espoAct(espoBody(values)) : null,
        betNr: side === 'b' ? await world.advoAct(advoBody(values)) : null,
        createdOn: during ? side : null,
        initial: values,
      });
    };

    // Setup: pairs made on both sides and synced, the convergence point the edits start from.
    for (let index = 0; index < params.pairs; index++) await create(index % 2 === 0 ? 'a' : 'b', false);
    await world.quiesce(60_000);
    for (const link of await world.backend.store.links.list({ flow: FLOW, limit: 10_000 })) {
      const record = tracked.find((entry) => entry.espoId === link.a.ref.id || entry.betNr === link.b.ref.id);
      if (record === undefined) continue;
      record.espoId = link.a.ref.id;
      record.betNr = link.b.ref.id;
    }
    const unlinked = tracked.filter((record) => record.espoId === null || record.betNr === null);
    if (unlinked.length > 0)
      throw new Error(`setup: not linked after the first sync: ${JSON.stringify(unlinked)}`);
    params.log(`setup: ${tracked.length} pairs linked`);

    // The edits, with faults.
    await world.setFaults(params.seed, {
      ...params.faults,
      duplicate: params.faults.duplicateWebhook,
      reorder: params.faults.reorderWebhook,
    });
    const edits: Edit[] = [];
    const creates = { a: 0, b: 0 };
    let sameFieldEdits = 0;
    let killed = false;
    let restart: Promise<void> | undefined;
    const edit = async (record: TrackedRecord, side: 'a' | 'b', field: CanonicalField) => {
      const value = freshValue(field);
      await editAsHuman(world, record, side, field, value);
      edits.push({ key: record.key, side, field, value, seq: edits.length, atMs: Date.now() - startedAt });
    };
    let made = 0;
    while (made < params.edits) {
      if (params.kill && !killed && made >= params.edits / 2) {
        // Mid-run: wait (briefly) until a job is in flight, so the kill cuts a run short.
        const running = await eventually(async () => (await world.jobCounts()).PROCESSING, {
          timeoutMs: 3_000,
          intervalMs: 2,
        }).catch(() => 0);
        await world.kill();
        killed = true;
        params.log(`edit ${made}: crmsync killed with SIGKILL (${running} job(s) processing); restarting`);
        // The humans go on editing while crmsync starts again; a failed start is awaited after the edits.
        restart = world.restart();
        restart.catch(() => undefined);
      }
      const roll = random();
      if (roll < params.createShare) {
        const side = random() < 0.5 ? 'a' : 'b';
        await create(side, true);
        creates[side]++;
        made++;
      } else if (roll < params.createShare + params.sameFieldShare) {
        // The same field on both sides back to back: within one sync interval.
        const target = pick(tracked.filter((entry) => entry.createdOn === null));
        const field = pick(fieldsOf(target.kind));
        const first = random() < 0.5 ? 'a' : 'b';
        await edit(target, first, field);
        await edit(target, first === 'a' ? 'b' : 'a', field);
        sameFieldEdits += 2;
        made += 2;
      } else {
        const target = pick(tracked);
        await edit(target, target.createdOn ?? (random() < 0.5 ? 'a' : 'b'), pick(fieldsOf(target.kind)));
        made++;
      }
      // Humans do not all type at once: the driver's pacing, not a wait for async work.
      if (params.paceMs > 0)
        await new Promise((resolve) => setTimeout(resolve, random() * 2 * params.paceMs));
    }
    await restart;
    params.log(
      `edits done: ${edits.length} edits, ${creates.a + creates.b} creates; faults off, waiting for quiescence`,
    );

    const advoCountsDuringEdits = await simRequestCounts(world.advo);
    await world.setFaults(params.seed, null);
    await world.quiesce(params.quiescenceTimeoutMs);
    const judgement = await judgeWorld(world, tracked, edits, startedAt);
    const runs = await world.backend.store.runs.list({ flow: FLOW, limit: 100_000 });
    return {
      seed: params.seed,
      edits: edits.length + creates.a + creates.b,
      sameFieldEdits,
      creates,
      pairs: tracked.length,
      conflicts: judgement.conflicts,
      fieldsExplainedByConflict: judgement.explainedByConflict,
      runs: runs.length,
      jobs: await world.jobCounts(),
      apiCalls: {
        espo: apiCalls(await simRequestCounts(world.espo)),
        advo: apiCalls(await simRequestCounts(world.advo)),
        advoFaults: apiCalls(
          advoCountsDuringEdits,
          (status) => status === '0' || status === '429' || status.startsWith('5'),
        ),
      },
      relay: { ...world.relay.stats },
      killed,
      durationMs: Math.round(performance.now() - started),
      violations: judgement.violations,
      traces: judgement.traces,
    };
  } finally {
    await world.close();
  }
}

/** The summary as printed lines. */
export function formatReport(report: ConvergenceReport): string {
  return [
    `seed ${report.seed} (CRMSYNC_TEST_SEED=${report.seed} repeats it)`,
    `edits ${report.edits} (same field on both sides: ${report.sameFieldEdits}; creates a ${report.creates.a}, b ${report.creates.b}) on ${report.pairs} records`,
    `conflicts ${report.conflicts} (final values explained by one: ${report.fieldsExplainedByConflict}); runs ${report.runs}; jobs ${JSON.stringify(report.jobs)}`,
    `API calls: EspoCRM ${report.apiCalls.espo}, Advoware ${report.apiCalls.advo} (faults answered during the edits: ${report.apiCalls.advoFaults})`,
    `webhooks: ${JSON.stringify(report.relay)}; SIGKILL: ${report.killed ? 'yes' : 'no'}; ${report.durationMs} ms`,
    `violations: ${report.violations.length}`,
    ...report.violations.slice(0, 40).map((violation) => `  - ${violation}`),
    ...report.traces.slice(0, 10),
  ].join('\n');
}
