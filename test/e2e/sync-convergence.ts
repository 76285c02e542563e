/**
 * The randomised convergence scenario of issue 10, parameterised by seed, edit count and fault rates; used by
 * sync-convergence.test.ts (short, inside `npm test`) and sync-chaos.ts (`npm run test:chaos`).
 *
 * The world: the EspoCRM and Advoware simulators in this process, `crmsync serve` as a child process (so it
 * can be killed with SIGKILL and started again on the same SQLite file) with the Beteiligte flow, its
 * re-check, discovery and reconciler every second, and EspoCRM's signed webhooks going through a
 * {@link WebhookRelay} that duplicates and reorders them. Advoware answers with 5xx, 429 with Retry-After
 * and hanging requests, drawn from the simulator's seeded fault PRNG.
 *
 * The run: pairs are created on both sides and synced (the first convergence point); then the driver makes
 * the edits one at a time, as humans through the simulators' admin APIs (never crmsync's connectors):
 * first/last names of persons, company names of companies, on either side, a few creates on each side, and
 * now and then the same field on both sides back to back (within one sync interval). With `kill`, the
 * crmsync process is killed mid-run while a job is in flight and started again. Then the faults stop and the
 * scenario waits for quiescence, reads both vendors and the store, and judges with convergence-oracle.ts.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSqliteBackend } from '../../src/adapters/sqlite/index.ts';
import { seededRandom } from '../../src/core/random.ts';
import type { JsonObject, JsonValue } from '../../src/core/types.ts';
import {
  beteiligteFlowDefaults,
  compileSyncFlow,
  syncOptionsSchema,
} from '../../src/engine/flows/sync/index.ts';
import type { Backend } from '../../src/ports/backend.ts';
import type { ConflictRecord } from '../../src/ports/store.ts';
import { startAdvowareSimulator } from '../../src/simulators/advoware/index.ts';
import type { AdvowareSimulator } from '../../src/simulators/advoware/index.ts';
import { startEspoCrmSimulator } from '../../src/simulators/espocrm/index.ts';
import type { EspoCrmSimulator } from '../../src/simulators/espocrm/index.ts';
import { eventually } from '../support/eventually.ts';
import { startServe } from '../support/serve-process.ts';
import type { ServeProcess } from '../support/serve-process.ts';
import { simAdmin, simRequestCounts } from '../support/sim-admin.ts';
import type { RouteCounts } from '../support/sim-admin.ts';
import { makeTempDir } from '../support/temp-dir.ts';
import { CANONICAL_FIELDS, isViolation, judgeField } from './convergence-oracle.ts';
import type { CanonicalField, CanonicalValues, Edit } from './convergence-oracle.ts';
import { WebhookRelay } from './webhook-relay.ts';
import type { RelayStats } from './webhook-relay.ts';

const FLOW = 'beteiligte';
const ESPO = 'CBeteiligte';
const ADVO = 'Beteiligte';
const EVENTS = [`${ESPO}.create`, `${ESPO}.update`, `${ESPO}.delete`];

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

/** The flow's options as crmsync's config gets them, and the test's own mapping of both sides. */
function flowOptions(): Record<string, unknown> {
  return {
    type: 'sync',
    connections: ['espo', 'advo'],
    ...beteiligteFlowDefaults({ espocrm: 'espo', advoware: 'advo' }),
    detection: {
      reconcile: { enabled: true, cron: '* * * * * *' },
      recheck: { enabled: true, everySeconds: 1 },
      discovery: { enabled: true, everySeconds: 1 },
    },
  };
}

/** The same mapping the flow uses, to read both vendors' records as canonical values. */
const mapping = compileSyncFlow(
  syncOptionsSchema.parse(beteiligteFlowDefaults({ espocrm: 'espo', advoware: 'advo' })),
);

function canonical(side: 'a' | 'b', fields: JsonObject): CanonicalValues {
  const record = (side === 'a' ? mapping.a : mapping.b).toCanonical(fields);
  const text = (field: CanonicalField) => {
    const value = record[field];
    return typeof value === 'string' ? value : null;
  };
  return { firstName: text('firstName'), lastName: text('lastName'), companyName: text('companyName') };
}

/** Writes the child's config: SQLite at `database`, short leases and backoff so a killed worker heals fast. */
function writeConfig(dir: string, espo: EspoCrmSimulator, advo: AdvowareSimulator, secrets: object): string {
  const config = {
    server: { host: '127.0.0.1', port: 0 },
    store: { kind: 'sqlite', path: join(dir, 'crmsync.db') },
    // More attempts than the default 5: a job of the link a killed run held waits out the link lock's TTL.
    queue: { maxAttempts: 10, leaseMs: 2_000, backoff: { baseMs: 50, maxMs: 1_000, jitter: 0.2 } },
    worker: { concurrency: 4, pollMs: 50 },
    log: { level: 'info' },
    connections: {
      espo: {
        connector: 'espocrm',
        options: {
          baseUrl: espo.url,
          auth: { mode: 'hmac', apiKey: espo.credentials.apiKey, secretKey: espo.credentials.secretKey },
          webhookSecrets: secrets,
          requestsPerSecond: 1_000,
        },
      },
      advo: {
        connector: 'advoware',
        options: {
          configuratorUrl: advo.configuratorUrl,
          ...advo.credentials,
          requestsPerSecond: 1_000,
          requestTimeoutMs: 1_000,
        },
      },
    },
    flows: { [FLOW]: flowOptions() },
  };
  const file = join(dir, 'crmsync.config.ts');
  const entry = new URL('../../src/index.ts', import.meta.url).href;
  writeFileSync(
    file,
    `import { defineConfig } from '${entry}';\nexport default defineConfig(${JSON.stringify(config, null, 2)});\n`,
  );
  return file;
}

/** An id as text (EspoCRM's `advowareId` is an int), or null. */
const idText = (value: JsonValue | undefined): string | null =>
  typeof value === 'string' || typeof value === 'number' ? String(value) : null;

/** One record the test knows: its key, kind, and id per side as far as known. */
interface Tracked {
  readonly key: string;
  readonly kind: 'person' | 'company';
  espoId: string | null;
  betNr: string | null;
  /** The side that created it during the run (edited there only, since the partner is not known yet). */
  readonly createdOn: 'a' | 'b' | null;
  initial: CanonicalValues;
}

const FIRST = ['Anna', 'Jan', 'Ute', 'Lars', 'Özlem', 'René', 'Katrin', 'Birgit'];
const LAST = ['Berg', 'Weber', 'Krüger', 'Hoffmann', 'Yılmaz', 'Schäfer', 'Becker', 'Lang'];
const FIRMS = ['Kanzlei Nord', 'Müller & Partner', 'Hansen Recht', 'Ostsee Treuhand'];

/** Runs one convergence scenario; see the module comment. Cleans up everything it started. */
export async function runConvergence(params: ConvergenceParams): Promise<ConvergenceReport> {
  const started = performance.now();
  const startedAt = Date.now();
  const random = seededRandom(params.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const temp = makeTempDir('crmsync-convergence-');
  const cleanups: (() => Promise<void> | void)[] = [() => temp.remove()];
  const log = params.log;
  try {
    const espo = await startEspoCrmSimulator({
      seed: false,
      webhookIntervalMs: 25,
      webhookRetryDelayMs: 25,
      quirks: { optimisticConcurrency: { [ESPO]: params.optimisticConcurrency } },
    });
    cleanups.unshift(() => espo.close());
    const advo = await startAdvowareSimulator({ seed: false });
    cleanups.unshift(() => advo.close());

    let serve: ServeProcess | undefined;
    let serveUrl: string | null = null;
    const relay = await WebhookRelay.start(() => serveUrl, params.seed);
    cleanups.unshift(() => relay.close());

    const espoApi = async <T = JsonObject>(method: string, path: string, body?: unknown): Promise<T> => {
      const response = await fetch(`${espo.url}/api/v1/${path}`, {
        method,
        headers: { 'x-api-key': espo.credentials.apiKey, 'content-type': 'application/json' },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`EspoCRM ${method} ${path}: ${response.status} ${text}`);
      return JSON.parse(text) as T;
    };
    const secrets: Record<string, string> = {};
    for (const event of EVENTS) {
      const hook = await espoApi<{ id: string; secretKey: string }>('POST', 'Webhook', {
        event,
        url: `${relay.url}/webhooks/espo?event=${event}`,
      });
      secrets[hook.id] = hook.secretKey;
    }
    const configFile = writeConfig(temp.path, espo, advo, secrets);
    const startCrmsync = async () => {
      serve = await startServe({ configFile, timeoutMs: 60_000 });
      serveUrl = serve.url;
    };
    await startCrmsync();
    cleanups.unshift(async () => {
      await serve?.stop('SIGKILL');
    });
    // The test's view of the store: the same SQLite file, read while the child writes.
    const backend: Backend = openSqliteBackend({
      path: join(temp.path, 'crmsync.db'),
      durability: 'process',
    });
    cleanups.unshift(() => backend.close());

    // --- the humans' actions -------------------------------------------------------------------------
    const espoAct = async (body: object, id?: string) =>
      (
        await simAdmin<{ id: string }>(
          espo,
          'POST',
          `act/anna/${ESPO}${id === undefined ? '' : `/${id}`}`,
          body,
        )
      ).id;
    const advoAct = async (body: object, betNr?: string) =>
      String(
        (
          await simAdmin<{ betNr: number }>(
            advo,
            'POST',
            `act/anna/${ADVO}${betNr === undefined ? '' : `/${betNr}`}`,
            body,
          )
        ).betNr,
      );
    let counter = 0;
    const fresh = (stem: string) => `${stem}-${++counter}`;
    const newValues = (kind: Tracked['kind']): CanonicalValues =>
      kind === 'person'
        ? { firstName: fresh(pick(FIRST)), lastName: fresh(pick(LAST)), companyName: null }
        : { firstName: null, lastName: null, companyName: fresh(pick(FIRMS)) };
    const espoBody = (values: CanonicalValues): object =>
      values.companyName !== null
        ? { firmenname: values.companyName, name: values.companyName }
        : {
            firstName: values.firstName,
            lastName: values.lastName,
            name: `${values.firstName} ${values.lastName}`,
          };
    const advoBody = (values: CanonicalValues): object =>
      values.companyName !== null
        ? { name: values.companyName }
        : { vorname: values.firstName, name: values.lastName };
    const tracked: Tracked[] = [];
    const create = async (side: 'a' | 'b', during: boolean): Promise<Tracked> => {
      const kind = random() < 0.7 ? 'person' : 'company';
      const values = newValues(kind);
      const record: Tracked = {
        key: `r${tracked.length}`,
        kind,
        espoId: side === 'a' ? await espoAct(espoBody(values)) : null,
        betNr: side === 'b' ? await advoAct(advoBody(values)) : null,
        createdOn: during ? side : null,
        initial: values,
      };
      tracked.push(record);
      return record;
    };
    /** One edit of `field` on `side` as a human makes it in that UI. */
    const edit = async (record: Tracked, side: 'a' | 'b', field: CanonicalField, value: string) => {
      if (side === 'a') {
        const body = field === 'companyName' ? { firmenname: value, name: value } : { [field]: value };
        await espoAct(body, record.espoId ?? undefined);
      } else {
        const vendorField = field === 'firstName' ? 'vorname' : 'name';
        await advoAct({ [vendorField]: value }, record.betNr ?? undefined);
      }
    };

    // --- quiescence ---------------------------------------------------------------------------------
    const jobCounts = async () => backend.queue.counts();
    const recheckRotations = async () => {
      const value = (await backend.store.checkpoints.get(`recheck|${FLOW}|b`))?.value;
      return typeof value === 'object' &&
        value !== null &&
        !Array.isArray(value) &&
        typeof value['rotations'] === 'number'
        ? value['rotations']
        : 0;
    };
    const totalJobs = (counts: Record<string, number>) =>
      Object.values(counts).reduce((sum, n) => sum + n, 0);
    const busy = (counts: Record<string, number>) =>
      (counts['PENDING'] ?? 0) + (counts['PROCESSING'] ?? 0) + (counts['FAILED'] ?? 0);
    const deliveriesPending = async () => {
      await espo.processWebhookQueue();
      const hooks = await simAdmin<{ pendingEvents: number; queue: { status: string }[] }>(
        espo,
        'GET',
        'webhooks',
      );
      return hooks.pendingEvents + hooks.queue.filter((item) => item.status === 'Pending').length;
    };
    /**
     * Quiet: no webhook left in EspoCRM or the relay, no job waiting, running or due for a retry, and then
     * two more re-check rotations (a full one after the mark) and reconciler ticks queued no job.
     */
    const quiesce = async (timeoutMs: number) => {
      await eventually(
        async () => {
          if ((await deliveriesPending()) > 0 || !relay.idle()) return false;
          const before = await jobCounts();
          if (busy(before) > 0) return false;
          const rotations = await recheckRotations();
          await eventually(async () => (await recheckRotations()) >= rotations + 2, {
            timeoutMs: 10_000,
            intervalMs: 50,
          });
          if ((await deliveriesPending()) > 0 || !relay.idle()) return false;
          const after = await jobCounts();
          return busy(after) === 0 && totalJobs(after) === totalJobs(before);
        },
        { timeoutMs, intervalMs: 100 },
      );
    };

    // --- setup: pairs created on both sides, synced --------------------------------------------------
    for (let index = 0; index < params.pairs; index++) await create(index % 2 === 0 ? 'a' : 'b', false);
    await quiesce(60_000);
    const links = async () => backend.store.links.list({ flow: FLOW, limit: 10_000 });
    for (const link of await links()) {
      const record = tracked.find(
        (candidate) => candidate.espoId === link.a.ref.id || candidate.betNr === link.b.ref.id,
      );
      if (record === undefined) continue;
      record.espoId = link.a.ref.id;
      record.betNr = link.b.ref.id;
    }
    const unlinked = tracked.filter((record) => record.espoId === null || record.betNr === null);
    if (unlinked.length > 0)
      throw new Error(`setup: not linked after the first sync: ${JSON.stringify(unlinked)}`);
    log(`setup: ${tracked.length} pairs linked`);

    // --- the edits, with faults ------------------------------------------------------------------------
    await simAdmin(advo, 'POST', 'faults', {
      seed: params.seed,
      status5xx: { probability: params.faults.advo5xx, status: 503 },
      ...(params.faults.advo429 > 0 && {
        status429: { probability: params.faults.advo429, retryAfterSeconds: 1 },
      }),
      ...(params.faults.advoTimeout > 0 && {
        timeout: { probability: params.faults.advoTimeout, hangMs: 1_500 },
      }),
    });
    relay.setFaults({ duplicate: params.faults.duplicateWebhook, reorder: params.faults.reorderWebhook });
    const edits: Edit[] = [];
    const creates = { a: 0, b: 0 };
    let sameFieldEdits = 0;
    let killed = false;
    let restart: Promise<void> | undefined;
    const record = (entry: Omit<Edit, 'seq' | 'atMs'>) =>
      edits.push({ ...entry, seq: edits.length, atMs: Date.now() - startedAt });
    const fieldsOf = (kind: Tracked['kind']): CanonicalField[] =>
      kind === 'person' ? ['firstName', 'lastName'] : ['companyName'];
    let made = 0;
    while (made < params.edits) {
      if (params.kill && !killed && made >= params.edits / 2) {
        // Mid-run: wait (briefly) until a job is in flight, so the kill cuts a run short.
        await eventually(async () => (await jobCounts()).PROCESSING > 0, {
          timeoutMs: 3_000,
          intervalMs: 2,
        }).catch(() => undefined);
        const running = (await jobCounts())['PROCESSING'] ?? 0;
        await serve?.stop('SIGKILL');
        serveUrl = null;
        killed = true;
        log(`edit ${made}: crmsync killed with SIGKILL (${running} job(s) processing); restarting`);
        restart = startCrmsync();
      }
      const roll = random();
      if (roll < params.createShare) {
        const side = random() < 0.5 ? 'a' : 'b';
        await create(side, true);
        creates[side]++;
        made++;
      } else if (roll < params.createShare + params.sameFieldShare) {
        const candidates = tracked.filter((candidate) => candidate.createdOn === null);
        const target = pick(candidates);
        const field = pick(fieldsOf(target.kind));
        const first = random() < 0.5 ? 'a' : 'b';
        for (const side of [first, first === 'a' ? 'b' : 'a'] as const) {
          const value = fresh(
            field === 'companyName' ? pick(FIRMS) : pick(field === 'firstName' ? FIRST : LAST),
          );
          await edit(target, side, field, value);
          record({ key: target.key, side, field, value });
        }
        sameFieldEdits += 2;
        made += 2;
      } else {
        const target = pick(tracked);
        const side = target.createdOn ?? (random() < 0.5 ? 'a' : 'b');
        const field = pick(fieldsOf(target.kind));
        const value = fresh(
          field === 'companyName' ? pick(FIRMS) : pick(field === 'firstName' ? FIRST : LAST),
        );
        await edit(target, side, field, value);
        record({ key: target.key, side, field, value });
        made++;
      }
      if (params.paceMs > 0)
        await new Promise((resolve) => setTimeout(resolve, random() * 2 * params.paceMs));
    }
    await restart;
    log(
      `edits done: ${edits.length} edits, ${creates.a + creates.b} creates; faults off, waiting for quiescence`,
    );

    // --- quiescence -------------------------------------------------------------------------------------
    const advoCounts = await simRequestCounts(advo);
    await simAdmin(advo, 'DELETE', 'faults');
    relay.setFaults({ duplicate: 0, reorder: 0 });
    await quiesce(params.quiescenceTimeoutMs);

    // --- judgement --------------------------------------------------------------------------------------
    const violations: string[] = [];
    const espoRecords: JsonObject[] = [];
    for (let offset = 0; ; offset += 200) {
      const page = await espoApi<{ list: JsonObject[] }>('GET', `${ESPO}?maxSize=200&offset=${offset}`);
      espoRecords.push(...page.list);
      if (page.list.length < 200) break;
    }
    const advoState = await simAdmin<{ data: { beteiligte: { betNr: number; fields: JsonObject }[] } }>(
      advo,
      'GET',
      'state',
    );
    const advoById = new Map(advoState.data.beteiligte.map((row) => [String(row.betNr), row.fields]));
    const allLinks = await links();
    const linkOfEspo = new Map(allLinks.map((link) => [link.a.ref.id, link]));
    // No duplicates: every record on each side is linked exactly once, and the foreign keys agree.
    const partners = new Map<string, string>();
    for (const espoRecord of espoRecords) {
      const id = idText(espoRecord['id']) ?? '?';
      const betNr = idText(espoRecord['advowareId']);
      const link = linkOfEspo.get(id);
      if (betNr === null || link === undefined)
        violations.push(`${ESPO} ${id} is not linked (advowareId ${betNr})`);
      else if (link.b.ref.id !== betNr)
        violations.push(`${ESPO} ${id}: advowareId ${betNr} but its link names Beteiligter ${link.b.ref.id}`);
      else if (partners.has(betNr))
        violations.push(`Beteiligter ${betNr} is linked twice (${partners.get(betNr)}, ${id})`);
      else partners.set(betNr, id);
    }
    for (const betNr of advoById.keys())
      if (!partners.has(betNr))
        violations.push(`Beteiligter ${betNr} has no CBeteiligter (unlinked or duplicate)`);
    if (allLinks.length !== espoRecords.length || advoById.size !== espoRecords.length)
      violations.push(
        `counts differ: ${espoRecords.length} CBeteiligte, ${advoById.size} Beteiligte, ${allLinks.length} links`,
      );
    const created = tracked.length;
    if (espoRecords.length !== created)
      violations.push(`${espoRecords.length} CBeteiligte for ${created} records made`);

    const traces: string[] = [];
    /** The edits and runs of one pair, in time order (ms since the start). */
    const trace = async (title: string, key: string | null, espoId: string | null, betNr: string | null) => {
      const lines: [number, string][] = edits
        .filter((entry) => entry.key === key)
        .map((entry) => [
          entry.atMs,
          `edit #${entry.seq} ${entry.side} ${entry.field}=${JSON.stringify(entry.value)}`,
        ]);
      const refs = [
        ...(espoId === null ? [] : [{ connection: 'espo', entityType: ESPO, id: espoId }]),
        ...(betNr === null ? [] : [{ connection: 'advo', entityType: ADVO, id: betNr }]),
      ];
      for (const ref of refs)
        for (const run of await backend.store.runs.list({ flow: FLOW, ref, limit: 1_000 })) {
          const changes = run.changes
            .map(
              (change) =>
                `${change.ref.connection}.${change.field}: ${JSON.stringify(change.before)} -> ${JSON.stringify(change.after)}`,
            )
            .join('; ');
          lines.push([
            run.startedAt - startedAt,
            `run ${ref.connection} #${run.attempt} ${run.outcome ?? 'unfinished'}${run.reason === null ? '' : ` (${run.reason})`}${run.error === null ? '' : ` ${run.error.code}`} ${changes}`,
          ]);
        }
      lines.sort((x, y) => x[0] - y[0]);
      traces.push(`${title}:\n${lines.map(([at, line]) => `    ${at} ms ${line}`).join('\n')}`);
    };
    const claimed = new Set<string>();

    // Values: both sides agree, and each field's value is what the oracle accepts.
    const conflicts: ConflictRecord[] = await backend.store.conflicts.list({ flow: FLOW, limit: 10_000 });
    let explained = 0;
    for (const entry of tracked) {
      const espoRecord =
        entry.espoId !== null
          ? espoRecords.find((candidate) => candidate['id'] === entry.espoId)
          : espoRecords.find((candidate) => idText(candidate['advowareId']) === entry.betNr);
      const espoId = espoRecord === undefined ? null : idText(espoRecord['id']);
      if (espoId !== null) claimed.add(espoId);
      const betNr = entry.betNr ?? (espoRecord === undefined ? null : idText(espoRecord['advowareId']));
      const advoFields = betNr === null ? undefined : advoById.get(betNr);
      if (espoRecord === undefined || advoFields === undefined || espoId === null) {
        violations.push(`${entry.key}: missing on a side (CBeteiligter ${espoId}, Beteiligter ${betNr})`);
        continue;
      }
      const a = canonical('a', espoRecord);
      const b = canonical('b', advoFields);
      const link = linkOfEspo.get(espoId);
      for (const field of CANONICAL_FIELDS) {
        if (a[field] !== b[field]) {
          violations.push(
            `${entry.key} ${field}: EspoCRM ${JSON.stringify(a[field])} but Advoware ${JSON.stringify(b[field])}`,
          );
          continue;
        }
        const verdict = judgeField({
          key: entry.key,
          field,
          initial: entry.initial[field],
          final: a[field],
          edits: edits.filter((candidate) => candidate.key === entry.key && candidate.field === field),
          conflicts: conflicts.filter((conflict) => conflict.linkId === link?.id && conflict.field === field),
        });
        if (isViolation(verdict)) await trace(`${entry.key} ${field}`, entry.key, espoId, betNr);
        if (isViolation(verdict))
          violations.push(`${verdict.key} (${espoId}/${betNr}) ${verdict.field}: ${verdict.problem}`);
        else if (verdict.explainedByConflict) explained++;
      }
    }
    for (const espoRecord of espoRecords) {
      const id = idText(espoRecord['id']);
      if (id === null || claimed.has(id)) continue;
      const betNr = idText(espoRecord['advowareId']);
      violations.push(
        `duplicate: CBeteiligter ${id} / Beteiligter ${betNr} ${JSON.stringify(canonical('a', espoRecord))} is no record the test made`,
      );
      await trace(`extra pair ${id}/${betNr}`, null, id, betNr);
      const values = JSON.stringify(canonical('a', espoRecord));
      for (const twin of tracked.filter((entry) => JSON.stringify(entry.initial) === values))
        await trace(
          `the record it duplicates, ${twin.key} (${twin.espoId}/${twin.betNr})`,
          twin.key,
          twin.espoId,
          twin.betNr,
        );
    }
    const dead = await backend.queue.list({ states: ['DEAD'], limit: 100 });
    for (const job of dead)
      violations.push(`job ${job.id} (${job.recordKey}) is DEAD: ${JSON.stringify(job.lastError)}`);

    const sumCounts = (counts: RouteCounts, filter: (status: string) => boolean = () => true) =>
      Object.entries(counts)
        .filter(([route]) => !route.includes('/_sim/'))
        .reduce(
          (sum, [, byStatus]) =>
            sum +
            Object.entries(byStatus).reduce((total, [status, n]) => total + (filter(status) ? n : 0), 0),
          0,
        );
    const runs = await backend.store.runs.list({ flow: FLOW, limit: 100_000 });
    return {
      seed: params.seed,
      edits: edits.length + creates.a + creates.b,
      sameFieldEdits,
      creates,
      pairs: tracked.length,
      conflicts: conflicts.length,
      fieldsExplainedByConflict: explained,
      runs: runs.length,
      jobs: await jobCounts(),
      apiCalls: {
        espo: sumCounts(await simRequestCounts(espo)),
        advo: sumCounts(await simRequestCounts(advo)),
        advoFaults: sumCounts(
          advoCounts,
          (status) => status === '0' || status === '429' || status.startsWith('5'),
        ),
      },
      relay: { ...relay.stats },
      killed,
      durationMs: Math.round(performance.now() - started),
      violations,
      traces,
    };
  } finally {
    for (const cleanup of cleanups) {
      try {
        await cleanup();
      } catch {
        // Cleaning up the rest matters more than the first failure to close.
      }
    }
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
