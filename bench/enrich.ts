/**
 * Enrichment benchmark: N company creations by human users of the simulated SuperOffice tenant, through
 * webhooks, the queue and the `enrich` flow with the built-in `rules` enricher, back into user-defined fields.
 * Prints API calls per enriched company (target <= 2: read, write), API calls per echo (target 0), throughput,
 * and p50/p99 latency from webhook accepted (job created) to fields written (run finished).
 *
 *   npm run bench:enrich -- [--companies 1000] [--budget 50] [--concurrency 4] [--rate 0]
 *
 * `--rate` paces the creations (companies per second; 0: as fast as the simulator takes them). A burst above
 * what the budget allows queues up, and the latency then measures the queue; a rate below it measures one
 * company's way through.
 *
 * `--budget` is the connection's request budget per second (requestsPerSecond); the vendor budget, not
 * crmsync, bounds throughput: each company costs two calls, so 10/s allows about 5 companies/s.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { silenceSqliteExperimentalWarning } from '../src/cli/main.ts';
import { seededRandom } from '../src/core/random.ts';
import {
  simulatorConnectionOptions,
  startSuperOfficeSimulator,
} from '../src/simulators/superoffice/index.ts';
import { systemClock } from '../src/ports/clock.ts';
import type { Run } from '../src/ports/store.ts';
import { ensureSimulatorWebhook } from '../src/sandbox/webhook-registration.ts';
import { percentile } from '../test/support/load.ts';
import { makeTempDir } from '../test/support/temp-dir.ts';

silenceSqliteExperimentalWarning();
// Loaded after the warning filter: node:sqlite warns when it is first imported.
const { startApp } = await import('../src/cli/app.ts');
const { validateConfig } = await import('../src/config/index.ts');
const { connectorFactories, flowTypes } = await import('../src/cli/registry.ts');

const { values } = parseArgs({
  options: {
    companies: { type: 'string', default: '1000' },
    budget: { type: 'string', default: '50' },
    concurrency: { type: 'string', default: '4' },
    seed: { type: 'string', default: '7' },
    rate: { type: 'string', default: '0' },
  },
});
const COMPANIES = Number(values.companies);
const BUDGET = Number(values.budget);
const SEED = Number(values.seed);
const RATE = Number(values.rate);
const SECRET = 'bench-webhook-secret-0123456789';
const STEMS = ['Hanse', 'Elbtal', 'Ruhr', 'Isar', 'Weser', 'Rhein', 'Spree', 'Main', 'Oder', 'Saale'];
const TRADES = [
  'Logistik',
  'Kliniken',
  'Stahlbau',
  'Hotels',
  'Immobilien',
  'Reisen',
  'Handel',
  'Bildungswerk',
];

const temp = makeTempDir('crmsync-bench-enrich-');
const sim = await startSuperOfficeSimulator({ seed: false });
const config = validateConfig(
  {
    server: { host: '127.0.0.1', port: 0 },
    store: { kind: 'sqlite', path: join(temp.path, 'crmsync.db') },
    worker: { concurrency: Number(values.concurrency), pollMs: 50 },
    log: { level: 'silent' },
    connections: {
      so: {
        connector: 'superoffice',
        options: {
          ...simulatorConnectionOptions(sim),
          webhookSecret: SECRET,
          requestsPerSecond: BUDGET,
        },
      },
    },
    flows: {
      enrich: {
        type: 'enrich',
        connections: ['so'],
        duplicateWindowMinutes: 0,
        // Webhooks only: a reconciler scan during the run would add reads to the figures.
        reconcile: { enabled: false },
      },
    },
  },
  { connectors: connectorFactories, flowTypes, environment: {}, cwd: temp.path },
  'bench',
);
const app = await startApp(config, { clock: systemClock, logger: pino({ level: 'silent' }) });
await ensureSimulatorWebhook(sim, {
  name: 'crmsync bench',
  targetUrl: `${app.url}/webhooks/so`,
  events: ['contact.created', 'contact.changed'],
  secret: SECRET,
});

console.log(
  `enrich bench: ${COMPANIES} companies created by RKAB, rules enricher, budget ${BUDGET} req/s, ` +
    `${values.concurrency} workers, ${RATE > 0 ? `${RATE} creations/s` : 'creations as fast as possible'}, seed ${SEED}`,
);
const random = seededRandom(SEED);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const started = performance.now();
for (let index = 0; index < COMPANIES; index += 1) {
  if (RATE > 0) {
    const due = started + (index * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  const name = `${pick(STEMS)} ${pick(TRADES)} ${index}`;
  const response = await fetch(`${sim.url}/_sim/act/RKAB/Contact`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ Name: name, Urls: [{ Value: `https://www.example-${index}.de` }] }),
  });
  if (!response.ok) throw new Error(`creating company ${index}: ${response.status}`);
}

/** Every finished run of the flow (newest first from the store, paged). */
async function allRuns(): Promise<Run[]> {
  const runs: Run[] = [];
  let beforeId: string | undefined;
  for (;;) {
    const page = await app.backend.store.runs.list({
      flow: 'enrich',
      limit: 500,
      ...(beforeId !== undefined && { beforeId }),
    });
    runs.push(...page);
    if (page.length < 500) return runs;
    beforeId = page.at(-1)!.id;
  }
}

const isEcho = (run: Run) => run.outcome === 'SKIPPED' && (run.reason ?? '').startsWith('echo');
let runs: Run[] = [];
for (;;) {
  runs = await allRuns();
  const enriched = runs.filter((run) => run.outcome === 'COMPLETED').length;
  const echoes = runs.filter(isEcho).length;
  const counts = await app.backend.queue.counts();
  if (enriched + counts.DEAD >= COMPANIES && echoes >= enriched && counts.PENDING + counts.PROCESSING === 0)
    break;
  await new Promise((resolve) => setTimeout(resolve, 200));
}
const elapsedS = (performance.now() - started) / 1000;

const enriched = runs.filter((run) => run.outcome === 'COMPLETED');
const echoes = runs.filter(isEcho);
const latencies: number[] = [];
for (const run of enriched) {
  const job = await app.backend.queue.get(run.jobId);
  if (job !== null && run.finishedAt !== null) latencies.push(run.finishedAt - job.createdAt);
}
latencies.sort((a, b) => a - b);
const sum = (list: readonly Run[]) => list.reduce((total, run) => total + run.apiCalls, 0);

console.log(`enriched companies       ${enriched.length} (DEAD: ${(await app.backend.queue.counts()).DEAD})`);
console.log(
  `API calls per company    ${(sum(enriched) / enriched.length).toFixed(3)} ` +
    `(first run incl. token + vertical list: ${Math.max(...enriched.map((run) => run.apiCalls))})`,
);
console.log(
  `API calls per echo       ${(sum(echoes) / Math.max(1, echoes.length)).toFixed(3)} (${echoes.length} echoes)`,
);
console.log(
  `throughput               ${(enriched.length / elapsedS).toFixed(1)} companies/s over ${elapsedS.toFixed(1)} s ` +
    `(the budget allows ${(BUDGET / 2).toFixed(1)}/s at two calls each)`,
);
console.log(
  `latency accepted->written p50 ${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms`,
);

await app.stop();
await sim.close();
temp.remove();
