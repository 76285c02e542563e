/**
 * Two-way sync benchmark: the Beteiligte flow (EspoCRM `CBeteiligte` = side a, Advoware `Beteiligte` = side b)
 * as the sync run handler of a real WorkerPool on a real SQLite backend, against both simulators through their
 * real connectors. Prints, in one table:
 *
 * 1. API calls per synced change, counted at both simulators (`/_sim/requests`): an EspoCRM edit synced to
 *    Advoware (target <= 3 Advoware calls, the rowId re-read included) and an Advoware edit synced to EspoCRM
 *    (target <= 2 EspoCRM calls).
 * 2. API calls per echo: the EspoCRM webhook of the run's own write, as the simulator delivered it, processed by
 *    a run (target 0).
 * 3. p50/p99 latency from the change event accepted (job created) to the other side written (the run finished,
 *    which is after the vendor acknowledged the write), one change at a time (target p99 < 100 ms).
 * 4. One reconcile pass (`createSyncReconciler`, both scans) over N linked, unchanged records, plus the runs it
 *    queues (target < 2 s, 0 writes).
 * 5. RSS with M links in the store while the worker pool runs (target < 200 MB). The simulators run in this
 *    process too, holding the reconcile pass's records, so the figure is an upper bound for crmsync alone.
 *
 *   npm run bench:sync -- [--changes 200] [--reconcile 10000] [--links 100000] [--concurrency 4] [--espo-occ]
 *     [--advo-rowid-check]
 *
 * `--espo-occ` switches EspoCRM's optimistic concurrency on for CBeteiligte. Off (the vendor's default for a
 * custom entity), the version token is `modifiedAt` and the connector reads the record once more before each
 * PATCH to compare it (`conditionalWrite: 'pre-check'`): 3 EspoCRM calls per change instead of 2.
 *
 * `--advo-rowid-check` assumes the two [UNCONFIRMED] advoware behaviours the connector can use (options
 * `putChecksRowId`, `writeAnswersRowId`; simulator quirks `putChecksRowId`, `writeResponseIncludesRowId`):
 * a PUT carrying a stale rowId is refused, and a write answer carries the new rowId. Then an update is one
 * PUT from the run's read. Off (the default, what the seeds know), the connector reads before the PUT and
 * after it: 4 advoware calls per change instead of 2.
 *
 * Change events are queued directly (the shape of the seed's webhooks: a hint without data, so each run reads
 * both sides); the HTTP ingest path has its own bench (bench:ingest).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { silenceSqliteExperimentalWarning } from '../src/cli/main.ts';
import { jobRecordKey } from '../src/core/types.ts';
import type { ChangeEvent, JsonObject, RecordRef } from '../src/core/types.ts';
import { advowareConnector } from '../src/connectors/advoware/index.ts';
import { espocrmConnector } from '../src/connectors/espocrm/index.ts';
import { parseEspoCrmWebhook } from '../src/connectors/espocrm/webhook.ts';
import { systemClock } from '../src/ports/clock.ts';
import type { Connector } from '../src/ports/connector.ts';
import type { Logger } from '../src/ports/logger.ts';
import type { Job } from '../src/ports/queue.ts';
import type { Run } from '../src/ports/store.ts';
import {
  CONFIGURATOR_PATH,
  DEFAULT_SIM_CREDENTIALS,
  startAdvowareSimulator,
} from '../src/simulators/advoware/index.ts';
import {
  DEFAULT_API_KEY,
  DEFAULT_SECRET_KEY,
  startEspoCrmSimulator,
} from '../src/simulators/espocrm/index.ts';
import { api } from '../test/connectors/espocrm/simulator-support.ts';
import { percentile } from '../test/support/load.ts';
import { makeTempDir } from '../test/support/temp-dir.ts';

silenceSqliteExperimentalWarning();
// Loaded after the warning filter: node:sqlite warns when it is first imported.
const { openSqliteBackend } = await import('../src/adapters/sqlite/index.ts');
const { HandlerRegistry } = await import('../src/engine/handlers.ts');
const { WorkerPool } = await import('../src/engine/worker-pool.ts');
const {
  beteiligteFlowDefaults,
  compileSyncFlow,
  createSyncReconciler,
  mappedFingerprint,
  syncOptionsSchema,
} = await import('../src/engine/flows/sync/index.ts');
const { createSyncRunHandler } = await import('../src/engine/flows/sync/run.ts');

const { values } = parseArgs({
  options: {
    changes: { type: 'string', default: '200' },
    reconcile: { type: 'string', default: '10000' },
    links: { type: 'string', default: '100000' },
    concurrency: { type: 'string', default: '4' },
    // Optimistic concurrency on CBeteiligte (off by default for custom entities, as in EspoCRM): the
    // versionNumber guards the PATCH, so the connector needs no modifiedAt pre-check read.
    'espo-occ': { type: 'boolean', default: false },
    'advo-rowid-check': { type: 'boolean', default: false },
    // Internal: run as the footprint child process against these simulator URLs (JSON).
    'footprint-of': { type: 'string' },
  },
});
const CHANGES = Number(values.changes);
const RECONCILE = Number(values.reconcile);
const LINKS = Number(values.links);
const CONCURRENCY = Number(values.concurrency);
const FLOW = 'beteiligte';
const ESPO = 'CBeteiligte';
const ADVO = 'Beteiligte';
const logger: Logger = pino({ level: 'silent' });

/** Where the engine finds the simulators (also handed to the footprint child process). */
interface SimulatorUrls {
  readonly espo: string;
  readonly advo: string;
}

/**
 * The engine as `serve` wires it for this flow: a SQLite backend in `dbPath`, both connectors, the sync run
 * handler and a running worker pool; `sync` queues a change event and waits until its job settled.
 */
function startEngine(urls: SimulatorUrls, dbPath: string) {
  const backend = openSqliteBackend({ path: dbPath, durability: 'process', clock: systemClock });
  const shared = {
    clock: systemClock,
    logger,
    // The simulators count the requests; the connector's own record of them is not needed here.
    apiCalls: { record: () => undefined },
    state: backend.store.connectorState,
  };
  // The highest budget the options allow: the figures are calls and latency, not the vendor's rate limit.
  const espo = espocrmConnector.create({
    connection: 'espo',
    options: espocrmConnector.optionsSchema.parse({
      baseUrl: urls.espo,
      auth: { mode: 'hmac', apiKey: DEFAULT_API_KEY, secretKey: DEFAULT_SECRET_KEY },
      requestsPerSecond: 1_000,
    }),
    ...shared,
  });
  const advo = advowareConnector.create({
    connection: 'advo',
    options: advowareConnector.optionsSchema.parse({
      configuratorUrl: `${urls.advo}${CONFIGURATOR_PATH}`,
      ...DEFAULT_SIM_CREDENTIALS,
      requestsPerSecond: 1_000,
      ...(values['advo-rowid-check'] && { putChecksRowId: true, writeAnswersRowId: true }),
    }),
    ...shared,
  });
  const options = syncOptionsSchema.parse(beteiligteFlowDefaults({ espocrm: 'espo', advoware: 'advo' }));
  const handlers = new HandlerRegistry();
  handlers.register(
    FLOW,
    createSyncRunHandler({
      flow: FLOW,
      options,
      compiled: compileSyncFlow(options),
      connectors: { a: espo, b: advo },
      store: backend.store,
      locks: backend.locks,
    }),
  );
  const pool = new WorkerPool({
    queue: backend.queue,
    attempts: backend.attempts,
    store: backend.store,
    handlers,
    clock: systemClock,
    logger,
    concurrency: CONCURRENCY,
    leaseMs: 30_000,
    pollMs: 20,
  });
  pool.start();

  async function waitSettled(jobId: string): Promise<Job> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const job = await backend.queue.get(jobId);
      if (job !== null && ['COMPLETED', 'SKIPPED', 'DEAD'].includes(job.state)) return job;
      if (Date.now() > deadline) throw new Error(`job ${jobId} did not settle: ${JSON.stringify(job)}`);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }
  /** Queues `event` (default: a bare `updated` hint) and returns the job's run once it settled. */
  async function sync(ref: RecordRef, event?: ChangeEvent): Promise<{ job: Job; run: Run }> {
    const { jobId } = await backend.queue.enqueue({
      flow: FLOW,
      recordKey: jobRecordKey(FLOW, ref),
      payload: (event ?? { ref: { ...ref }, kind: 'updated' }) as unknown as JsonObject,
    });
    pool.wake();
    const job = await waitSettled(jobId);
    const [run] = await backend.store.runs.list({ jobId });
    if (run === undefined) throw new Error(`job ${jobId} has no run`);
    return { job, run };
  }
  async function stop(): Promise<void> {
    await pool.stop({ deadlineMs: 1_000 });
    await espo.close();
    await advo.close();
    await backend.close();
  }
  return { backend, espo, advo, options, pool, sync, stop };
}

const espoRef = (id: string): RecordRef => ({ connection: 'espo', entityType: ESPO, id });
const advoRef = (id: string): RecordRef => ({ connection: 'advo', entityType: ADVO, id });

/**
 * The footprint child: an engine of its own (no simulators in its heap), `count` links saved into its store,
 * one first sync run through the pool, then its RSS, printed as one JSON line.
 */
async function footprint(urls: SimulatorUrls, count: number): Promise<void> {
  const temp = makeTempDir('crmsync-bench-sync-rss-');
  const engine = startEngine(urls, `${temp.path}/crmsync.db`);
  const rssEmpty = process.memoryUsage().rss;
  const started = performance.now();
  for (let index = 0; index < count; index += 1) {
    const base = { firstName: 'Lena', lastName: `Link${index}`, companyName: null };
    await engine.backend.store.links.save({
      flow: FLOW,
      a: { ref: espoRef(`rss-${index}`), base, version: '2026-12-01 10:00:00' },
      b: { ref: advoRef(String(1_000_000 + index)), base, version: 'AAAAAAAAB9E=' },
      status: 'clean',
    });
  }
  const savedPerS = count / ((performance.now() - started) / 1000);
  const links = Object.values(await engine.backend.store.links.countByStatus(FLOW)).reduce((a, b) => a + b);
  // The pool works while RSS is taken: a first sync of a new person runs through it.
  const created = await engine.espo.write({
    entityType: ESPO,
    fields: { firstName: 'Paula', lastName: 'Pool', name: 'Paula Pool' },
  });
  const { run } = await engine.sync(espoRef(created.id));
  const { rss, heapUsed } = process.memoryUsage();
  console.log(JSON.stringify({ links, rss, heapUsed, rssEmpty, savedPerS, outcome: run.outcome }));
  await engine.stop();
  temp.remove();
}

const footprintOf = values['footprint-of'];
if (footprintOf !== undefined) {
  await footprint(JSON.parse(footprintOf) as SimulatorUrls, LINKS);
  process.exit(0);
}

const temp = makeTempDir('crmsync-bench-sync-');
const espoSim = await startEspoCrmSimulator({ port: 0, seed: false, logger });
const advoSim = await startAdvowareSimulator({ port: 0, seed: false });
const urls: SimulatorUrls = { espo: espoSim.url, advo: advoSim.url };
if (values['espo-occ'])
  await simAdmin(espoSim.url, 'POST', 'quirks', { optimisticConcurrency: { [ESPO]: true } });
if (values['advo-rowid-check'])
  await simAdmin(advoSim.url, 'POST', 'quirks', { putChecksRowId: true, writeResponseIncludesRowId: true });
const engine = startEngine(urls, `${temp.path}/crmsync.db`);
const { backend, espo, advo, options, sync } = engine;

// ---- simulator request counts (the small part of test/support/sim-admin.ts the bench needs) ----
type RouteCounts = Record<string, Record<string, number>>;
async function simAdmin(url: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${url}/_sim/${path}`, {
    method,
    ...(body !== undefined && {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} /_sim/${path}: ${response.status} ${text}`);
  return text === '' ? null : JSON.parse(text);
}
const requestCounts = async (url: string) =>
  ((await simAdmin(url, 'GET', 'requests')) as { routes: RouteCounts }).routes;
const clearCounts = () =>
  Promise.all([simAdmin(espoSim.url, 'DELETE', 'requests'), simAdmin(advoSim.url, 'DELETE', 'requests')]);
/** Requests of both simulators since the last clear: all, and the writes among them. */
async function tally(): Promise<{ espo: number; advo: number; writes: number }> {
  const [espoCounts, advoCounts] = await Promise.all([
    requestCounts(espoSim.url),
    requestCounts(advoSim.url),
  ]);
  const count = (counts: RouteCounts, only: (route: string) => boolean) =>
    Object.entries(counts)
      .filter(([route]) => only(route))
      .flatMap(([, byStatus]) => Object.values(byStatus))
      .reduce((sum, n) => sum + n, 0);
  const isWrite = (route: string) => /^(POST|PUT|PATCH|DELETE) /.test(route) && !/\/Token\b/i.test(route);
  return {
    espo: count(espoCounts, () => true),
    advo: count(advoCounts, () => true),
    writes: count(espoCounts, isWrite) + count(advoCounts, isWrite),
  };
}

const latencyOf = ({ job, run }: { job: Job; run: Run }) => (run.finishedAt ?? Number.NaN) - job.createdAt;

// ---- the EspoCRM webhook deliveries, caught by a local receiver (answers 200, so nothing is redelivered) ----
const delivered: Buffer[] = [];
const receiver = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    delivered.push(Buffer.concat(chunks));
    response.end('ok');
  });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

console.log(
  `sync bench: Beteiligte flow, ${CHANGES} changes per direction, reconcile over ${RECONCILE} links, ` +
    `RSS with ${LINKS} links, ${values.concurrency} workers, EspoCRM optimistic concurrency ` +
    `${values['espo-occ'] ? 'on' : 'off'}, advoware rowId check ${values['advo-rowid-check'] ? 'on' : 'off'}; ` +
    'change events queued directly (no HTTP ingest)',
);

// ---- 1-3: changes one at a time, both directions, and the echoes ----
const people: { espo: string; advo: string }[] = [];
for (let index = 0; index < CHANGES; index += 1) {
  const created = await espo.write({
    entityType: ESPO,
    fields: { firstName: 'Max', lastName: `Muster${index}`, name: `Max Muster${index}` },
  });
  const { run } = await sync(espoRef(created.id));
  if (run.outcome !== 'COMPLETED') throw new Error(`first sync of ${created.id}: ${JSON.stringify(run)}`);
  const link = await backend.store.links.findByRef(FLOW, espoRef(created.id));
  people.push({ espo: created.id, advo: link!.b.ref.id });
}

interface Series {
  calls: { espo: number; advo: number }[];
  latencies: number[];
  outcomes: Map<string, number>;
}
const series = (): Series => ({ calls: [], latencies: [], outcomes: new Map() });
const toAdvo = series();
const toEspo = series();
const echoes = series();
async function measure(into: Series, ref: RecordRef, event?: ChangeEvent): Promise<void> {
  await clearCounts();
  const settled = await sync(ref, event);
  const counted = await tally();
  into.calls.push({ espo: counted.espo, advo: counted.advo });
  into.latencies.push(latencyOf(settled));
  const key = `${settled.run.outcome}${settled.run.reason === null ? '' : ` ${settled.run.reason}`}`;
  into.outcomes.set(key, (into.outcomes.get(key) ?? 0) + 1);
}

for (const [index, person] of people.entries()) {
  // A person in EspoCRM edits the last name.
  await simAdmin(espoSim.url, 'POST', `act/anna/${ESPO}/${person.espo}`, { lastName: `Meier${index}` });
  await measure(toAdvo, espoRef(person.espo));
}

// The webhook of the API user's own writes (skipOwn false), as the seed system registered it.
const hook = await api(espoSim, 'POST', '/Webhook', {
  body: { event: `${ESPO}.update`, url: receiverUrl, skipOwn: false },
});
if (hook.status !== 200) throw new Error(`registering the EspoCRM webhook: ${hook.status} ${hook.text}`);

for (const [index, person] of people.entries()) {
  // A person in Advoware edits the first name; the run writes it to EspoCRM, whose webhook is our echo.
  await simAdmin(advoSim.url, 'POST', `act/admin/${ADVO}/${person.advo}`, { vorname: `Moritz${index}` });
  await measure(toEspo, advoRef(person.advo));
  const before = delivered.length;
  await espoSim.processWebhookQueue();
  const body = delivered.slice(before).at(-1);
  if (body === undefined) throw new Error(`no EspoCRM webhook for the write to ${person.espo}`);
  const [echo] = parseEspoCrmWebhook(body, { connection: 'espo', event: `${ESPO}.update` });
  if (echo === undefined) throw new Error(`the EspoCRM webhook for ${person.espo} holds no event`);
  await measure(echoes, espoRef(person.espo), echo);
}

// ---- 4: one reconcile pass over linked, unchanged records ----
const seededEspo = (await simAdmin(espoSim.url, 'POST', 'seed', {
  records: {
    [ESPO]: Array.from({ length: RECONCILE }, (_, index) => ({
      firstName: 'Rita',
      lastName: `Ruhig${index}`,
      name: `Rita Ruhig${index}`,
      syncStatus: 'clean',
    })),
  },
})) as { created: Record<string, string[]> };
const seededAdvo = (await simAdmin(advoSim.url, 'POST', 'seed', {
  beteiligte: Array.from({ length: RECONCILE }, (_, index) => ({ vorname: 'Rita', name: `Ruhig${index}` })),
})) as { created: number[] };
const espoIds = seededEspo.created[ESPO] ?? [];
const versions = async (connector: Connector, entityType: string, ids: ReadonlySet<string>) => {
  const found = new Map<string, string | null>();
  let cursor: string | undefined;
  do {
    const page = await connector.list({ entityType, ...(cursor !== undefined && { cursor }) });
    for (const record of page.records) if (ids.has(record.id)) found.set(record.id, record.version);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return found;
};
const espoVersions = await versions(espo, ESPO, new Set(espoIds));
const advoVersions = await versions(advo, ADVO, new Set(seededAdvo.created.map(String)));
for (const [index, id] of espoIds.entries()) {
  const advoId = String(seededAdvo.created[index]);
  const base = { firstName: 'Rita', lastName: `Ruhig${index}`, companyName: null };
  await backend.store.links.save({
    flow: FLOW,
    a: { ref: espoRef(id), base, version: espoVersions.get(id) ?? null },
    b: { ref: advoRef(advoId), base, version: advoVersions.get(advoId) ?? null },
    status: 'clean',
  });
}
const jobsBefore = await backend.queue.counts();
await clearCounts();
// The vendor's share of the pass: the simulator's list route (filter, sort, page, render the page).
let listMs = 0;
const timedEspo: Pick<Connector, 'connection' | 'capabilities' | 'list'> = {
  connection: espo.connection,
  capabilities: espo.capabilities,
  list: async (query, callOptions) => {
    const listStarted = performance.now();
    try {
      return await espo.list(query, callOptions);
    } finally {
      listMs += performance.now() - listStarted;
    }
  },
};
const reconcileTask = createSyncReconciler({
  flow: FLOW,
  connector: timedEspo,
  // As the composition gives it (src/cli/sync-flow.ts): unchanged records are told apart by their values too.
  fingerprint: mappedFingerprint(compileSyncFlow(options).a),
  links: backend.store.links,
  queue: backend.queue,
  checkpoints: backend.store.checkpoints,
  clock: systemClock,
  settings: {
    entityType: ESPO,
    lookbackMinutes: options.detection.reconcile.lookbackMinutes,
    maxPerRun: options.detection.reconcile.maxPerRun,
    statusField: { name: 'syncStatus', pending: options.detection.reconcile.pendingStatuses },
  },
});
let reconcileSummary: Record<string, unknown> = {};
const reconcileStarted = performance.now();
await reconcileTask({
  name: 'bench',
  tickAt: Date.now(),
  signal: new AbortController().signal,
  logger: {
    ...logger,
    info: (fields: unknown) => void (reconcileSummary = fields as Record<string, unknown>),
  },
});
const scanMs = performance.now() - reconcileStarted;
engine.pool.wake();
for (;;) {
  const counts = await backend.queue.counts();
  if (counts.PENDING + counts.PROCESSING === 0) break;
  await new Promise((resolve) => setTimeout(resolve, 5));
}
const reconcileMs = performance.now() - reconcileStarted;
const jobsAfter = await backend.queue.counts();
const reconcileCalls = await tally();
const reconcileRuns = jobsAfter.COMPLETED + jobsAfter.SKIPPED - jobsBefore.COMPLETED - jobsBefore.SKIPPED;

// ---- 5: RSS with many links in the store, the worker pool running (a child process: no simulators) ----
const child = spawn(
  process.execPath,
  [process.argv[1]!, '--links', String(LINKS), '--footprint-of', JSON.stringify(urls)],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
let childOut = '';
child.stdout.on('data', (chunk: Buffer) => (childOut += chunk.toString()));
const [exitCode] = (await once(child, 'exit')) as [number | null];
if (exitCode !== 0) throw new Error(`the footprint child exited with ${exitCode}: ${childOut}`);
const memory = JSON.parse(childOut.trim().split('\n').at(-1)!) as {
  links: number;
  rss: number;
  heapUsed: number;
  rssEmpty: number;
  savedPerS: number;
  outcome: string;
};

// ---- the table ----
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const mean = (list: readonly number[]) => list.reduce((a, b) => a + b, 0) / Math.max(1, list.length);
const calls = (s: Series) =>
  `espo ${mean(s.calls.map((c) => c.espo)).toFixed(2)} + advo ${mean(s.calls.map((c) => c.advo)).toFixed(2)} ` +
  `(max advo ${Math.max(...s.calls.map((c) => c.advo))}, max espo ${Math.max(...s.calls.map((c) => c.espo))})`;
const latency = (s: Series) => {
  const sorted = [...s.latencies].sort((a, b) => a - b);
  return `p50 ${percentile(sorted, 50).toFixed(0)} ms, p99 ${percentile(sorted, 99).toFixed(0)} ms`;
};
const outcomes = (s: Series) => [...s.outcomes].map(([key, n]) => `${n}x ${key}`).join(', ');
const rows: [string, string, string][] = [
  ['EspoCRM edit -> Advoware: calls/change', calls(toAdvo), '<= 3 advo'],
  ['  outcomes', outcomes(toAdvo), ''],
  ['Advoware edit -> EspoCRM: calls/change', calls(toEspo), '<= 2 espo'],
  ['  outcomes', outcomes(toEspo), ''],
  ['echo (EspoCRM webhook of our write)', `${calls(echoes)}; ${outcomes(echoes)}`, '0'],
  ['latency accepted -> written, to Advoware', latency(toAdvo), 'p99 < 100 ms'],
  ['latency accepted -> written, to EspoCRM', latency(toEspo), 'p99 < 100 ms'],
  [
    `reconcile pass, ${espoIds.length} linked unchanged`,
    `${reconcileMs.toFixed(0)} ms (scan ${scanMs.toFixed(0)} ms, of it vendor lists ${listMs.toFixed(0)} ms), ${reconcileCalls.espo + reconcileCalls.advo} ` +
      `reads, ${reconcileCalls.writes} writes, queued ${String(reconcileSummary['queued'])}, ` +
      `unchanged ${String(reconcileSummary['unchanged'])}, runs ${reconcileRuns}`,
    '< 2 s, 0 writes',
  ],
  [
    `RSS with ${memory.links} links, pool running`,
    `${mb(memory.rss)} (heap ${mb(memory.heapUsed)}; ${mb(memory.rssEmpty)} with an empty store; ` +
      `links saved one by one at ${memory.savedPerS.toFixed(0)}/s; run ${memory.outcome}; child process)`,
    '< 200 MB',
  ],
];
const width = Math.max(...rows.map(([name]) => name.length));
const valueWidth = Math.max(...rows.map(([, value]) => value.length));
console.log(`${'measure'.padEnd(width)}  ${'figure'.padEnd(valueWidth)}  target`);
for (const [name, value, target] of rows)
  console.log(`${name.padEnd(width)}  ${value.padEnd(valueWidth)}  ${target}`);

await engine.stop();
await espoSim.close();
await advoSim.close();
receiver.close();
temp.remove();
