/**
 * Ingest benchmark: how many signed webhooks per second `crmsync serve` stores, next to a bare fastify route
 * with the same server settings that does nothing (the ceiling of this machine), in one run:
 *
 * 1. the bare route (bench/bare-server.ts);
 * 2. `crmsync serve --no-workers`, once per durability mode;
 * 3. `crmsync serve` with its worker pool draining a backlog of no-op jobs (an `inspect` flow, no vendor I/O)
 *    while the webhooks come in.
 *
 * Every webhook is a SuperOffice `contact.changed` delivery of about 1 KB, signed as the vendor signs it, with a
 * new EventId and record (bench/superoffice-webhooks.ts), so dedup and coalescing never short-cut the work.
 * For each target it prints accepted webhooks/s, p50/p99 latency (closed loop: at the given concurrency, under
 * saturation), the ratio to the bare route, and the CPU use of the server process, of the load generator and
 * of the rest of the machine, with the server's CPU time per webhook. Afterwards it checks that every webhook
 * answered 2xx is in the queue.
 *
 * Where the CPU comes from: the server is one process with one event loop, so it can use about one core. The
 * load generator (bench/load-generator.ts) runs in child processes of its own and takes the other core; this
 * process only sleeps and samples /proc. The generator is lean enough to outrun the server, and the run
 * checks it: the bare route must keep the server process at ~90 % of a core or more, or the figures measure
 * the client (or a busy machine), and the output says so loudly.
 *
 *   npm run bench:ingest -- [--quick] [--duration 10] [--warmup 3] [--connections 64] [--pipelining 1]
 *     [--clients 1] [--durability process,power] [--workers 4] [--backlog 100000]
 *
 * `--quick`: 3 s per target after 1 s of warm-up, durability `process` only, a backlog of 30,000 jobs.
 * Linux only (it reads /proc).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { silenceSqliteExperimentalWarning } from '../src/cli/main.ts';
import { jobRecordKey } from '../src/core/types.ts';
import type { JobInput, JobState } from '../src/ports/queue.ts';
import { JOB_STATES } from '../src/ports/queue.ts';
import { percentile } from '../test/support/load.ts';
import { startServe } from '../test/support/serve-process.ts';
import type { ServeProcess } from '../test/support/serve-process.ts';
import { measureLoad } from './load-run.ts';
import type { LoadOptions, Measurement, Target, WindowHooks } from './load-run.ts';
import { BENCH_CONNECTION, BENCH_WEBHOOK_SECRET, webhookBodyBytes } from './superoffice-webhooks.ts';

silenceSqliteExperimentalWarning();
// Loaded after the warning filter is installed: node:sqlite warns when it is first imported.
const { openSqliteBackend } = await import('../src/adapters/sqlite/index.ts');

type Durability = 'process' | 'power';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string', default: '64' },
    pipelining: { type: 'string', default: '1' },
    clients: { type: 'string', default: '1' },
    durability: { type: 'string' },
    workers: { type: 'string', default: '4' },
    backlog: { type: 'string' },
  },
});
const QUICK = values.quick;
const DURATION_MS = Number(values.duration ?? (QUICK ? 3 : 10)) * 1000;
const WARMUP_MS = Number(values.warmup ?? (QUICK ? 1 : 3)) * 1000;
const CONNECTIONS = Number(values.connections);
const PIPELINING = Number(values.pipelining);
const CLIENTS = Number(values.clients);
const DURABILITIES = (values.durability ?? (QUICK ? 'process' : 'process,power')).split(',') as Durability[];
const WORKERS = Number(values.workers);
const BACKLOG = Number(values.backlog ?? (QUICK ? 30_000 : 100_000));
/** Below this share of one core, the bare route did not saturate the server: the client or the machine did. */
const SATURATED_CORE_SHARE = 0.9;
/** The name of the no-op flow the webhooks (and the backlog) feed. */
const FLOW = 'watch';
/** How long `crmsync serve` may take to stop on SIGTERM before it is killed (and the output says so). */
const STOP_TIMEOUT_MS = 15_000;
const GOALS = { ratio: 0.3, rate: 5_000, drainingRatio: 0.25 };

const POSITIVE = {
  duration: DURATION_MS,
  warmup: WARMUP_MS,
  connections: CONNECTIONS,
  pipelining: PIPELINING,
  clients: CLIENTS,
  workers: WORKERS,
  backlog: BACKLOG,
};
for (const [flag, value] of Object.entries(POSITIVE)) {
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${flag} must be a positive whole number`);
}
if (CLIENTS > CONNECTIONS) throw new Error('--clients must not exceed --connections');
for (const durability of DURABILITIES) {
  if (durability !== 'process' && durability !== 'power')
    throw new Error(`--durability takes process and/or power, not "${String(durability)}"`);
}

const LOAD: LoadOptions = {
  connections: CONNECTIONS,
  pipelining: PIPELINING,
  clients: CLIENTS,
  warmupMs: WARMUP_MS,
  durationMs: DURATION_MS,
};

function measure(label: string, target: Target, hooks?: WindowHooks): Promise<Measurement> {
  process.stdout.write(`  measuring: ${label}\n`);
  return measureLoad(label, target, LOAD, hooks);
}

async function measureBare(): Promise<Measurement> {
  const child = spawn(process.execPath, [new URL('./bare-server.ts', import.meta.url).pathname], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        const match = /listening (\d+)/.exec(chunk.toString());
        if (match?.[1] !== undefined) resolve(Number(match[1]));
      });
      child.once('exit', (code) => reject(new Error(`bare server exited with ${code}`)));
    });
    return await measure('bare fastify route (ceiling)', { host: '127.0.0.1', port, pid: child.pid! });
  } finally {
    child.kill('SIGTERM');
  }
}

/** A config for `crmsync serve`: one SuperOffice connection (no vendor reachable) feeding a no-op flow. */
function writeConfig(dir: string, durability: Durability): { configFile: string; dbPath: string } {
  const entry = new URL('../src/index.ts', import.meta.url).href;
  const configFile = join(dir, 'crmsync.config.ts');
  const dbPath = join(dir, 'crmsync.db');
  writeFileSync(
    configFile,
    `import { defineConfig } from '${entry}';
export default defineConfig({
  server: { host: '127.0.0.1', port: 0 },
  store: { kind: 'sqlite', path: ${JSON.stringify(dbPath)}, durability: '${durability}' },
  worker: { concurrency: ${WORKERS} },
  log: { level: 'info' },
  connections: {
    ${BENCH_CONNECTION}: {
      connector: 'superoffice',
      // Never called: ingest does not reach the vendor, and the inspect flow reads nothing. Port 9 refuses.
      options: {
        clientId: 'bench', clientSecret: 'bench', refreshToken: 'bench', contextIdentifier: 'Cust26720',
        authBaseUrl: 'http://127.0.0.1:9', apiAssociateId: 528, webhookSecret: '${BENCH_WEBHOOK_SECRET}',
      },
    },
  },
  flows: { ${FLOW}: { type: 'inspect', connections: ['${BENCH_CONNECTION}'] } },
});\n`,
  );
  return { configFile, dbPath };
}

async function queueCounts(dbPath: string, durability: Durability): Promise<Record<JobState, number>> {
  const backend = openSqliteBackend({ path: dbPath, durability });
  try {
    return await backend.queue.counts();
  } finally {
    await backend.close();
  }
}

function totalJobs(counts: Record<JobState, number>): number {
  return JOB_STATES.reduce((sum, state) => sum + counts[state], 0);
}

/** Stops serve with SIGTERM, or with SIGKILL after STOP_TIMEOUT_MS (and says so: SIGTERM should suffice). */
async function stopServe(serve: ServeProcess): Promise<void> {
  const stopped = serve.stop('SIGTERM');
  const timedOut = await Promise.race([stopped.then(() => false), sleep(STOP_TIMEOUT_MS).then(() => true)]);
  if (!timedOut) return;
  process.stdout.write(`  WARNING: serve ignored SIGTERM for ${STOP_TIMEOUT_MS / 1000} s; killed it\n`);
  await serve.stop('SIGKILL');
}

/** Every webhook answered 2xx must be a job: one job per webhook (new EventId and record each time). */
async function checkQueue(dbPath: string, durability: Durability, expected: number): Promise<void> {
  const queued = totalJobs(await queueCounts(dbPath, durability));
  if (queued < expected) throw new Error(`LOST WEBHOOKS: ${expected} jobs expected, ${queued} in the queue`);
  process.stdout.write(
    queued === expected
      ? `  check: all ${expected} jobs are in the queue (every accepted webhook, warm-up included)\n`
      : `  check: ${queued} jobs for ${expected} expected: webhooks stored without an answer (none lost)\n`,
  );
}

/** What a phase against `crmsync serve` measured, and how many jobs the queue must hold afterwards. */
interface ServePhase {
  readonly measurement: Measurement;
  readonly expectedJobs: number;
}

/** Runs `phase` against a fresh `crmsync serve`, then stops it and checks the queue. */
async function withServe(
  durability: Durability,
  workers: boolean,
  phase: (target: Target, dbPath: string) => Promise<ServePhase>,
): Promise<Measurement> {
  const dir = mkdtempSync(join(tmpdir(), 'crmsync-bench-'));
  try {
    const { configFile, dbPath } = writeConfig(dir, durability);
    const serve = await startServe({ configFile, args: workers ? [] : ['--no-workers'] });
    let result: ServePhase;
    try {
      const url = new URL(serve.url);
      result = await phase({ host: url.hostname, port: Number(url.port), pid: serve.child.pid! }, dbPath);
    } finally {
      await stopServe(serve);
    }
    // Checked once the server has stopped, so that every commit it made is visible.
    await checkQueue(dbPath, durability, result.expectedJobs);
    return result.measurement;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function measureServe(durability: Durability): Promise<Measurement> {
  return withServe(durability, false, async (target) => {
    const measurement = await measure(`crmsync serve (durability ${durability})`, target);
    return { measurement, expectedJobs: measurement.acceptedTotal };
  });
}

/** Adds `count` no-op jobs for the flow, in group commits as ingest makes them. */
async function fillBacklog(dbPath: string, durability: Durability, count: number): Promise<void> {
  const backend = openSqliteBackend({ path: dbPath, durability });
  try {
    for (let start = 0; start < count; start += 1_000) {
      const inputs: JobInput[] = [];
      for (let index = start; index < Math.min(count, start + 1_000); index += 1) {
        const ref = { connection: BENCH_CONNECTION, entityType: 'Contact', id: `backlog-${index}` };
        inputs.push({ flow: FLOW, recordKey: jobRecordKey(FLOW, ref), payload: { ref, kind: 'updated' } });
      }
      await backend.queue.enqueueMany(inputs);
    }
  } finally {
    await backend.close();
  }
}

/** What the workers did around the draining window. */
interface Drain {
  /** Jobs still to do (pending, processing, awaiting a retry) when the window opened and when it closed. */
  readonly waitingAtOpen: number;
  readonly waitingAtClose: number;
  /** Jobs finished during the window: backlog and webhook jobs alike. */
  readonly finishedInWindow: number;
}

/**
 * The backlog is added while serve runs, right before the load starts: added before serve starts, today's
 * worker pool (which does not yield to the event loop) would drain all of it before serve even listens.
 */
async function measureDraining(durability: Durability): Promise<{ measurement: Measurement; drain: Drain }> {
  let drain: Drain = { waitingAtOpen: 0, waitingAtClose: 0, finishedInWindow: 0 };
  const waiting = (counts: Record<JobState, number>) => counts.PENDING + counts.PROCESSING + counts.FAILED;
  const finished = (counts: Record<JobState, number>) => counts.COMPLETED + counts.SKIPPED + counts.DEAD;
  const measurement = await withServe(durability, true, async (target, dbPath) => {
    process.stdout.write(`  adding a backlog of ${BACKLOG} no-op jobs\n`);
    await fillBacklog(dbPath, durability, BACKLOG);
    let atOpen: Record<JobState, number> | undefined;
    const measured = await measure(`crmsync serve + ${WORKERS} workers draining (${durability})`, target, {
      atOpen: async () => {
        atOpen = await queueCounts(dbPath, durability);
      },
      atClose: async () => {
        const atClose = await queueCounts(dbPath, durability);
        drain = {
          waitingAtOpen: waiting(atOpen!),
          waitingAtClose: waiting(atClose),
          finishedInWindow: finished(atClose) - finished(atOpen!),
        };
      },
    });
    return { measurement: measured, expectedJobs: BACKLOG + measured.acceptedTotal };
  });
  return { measurement, drain };
}

function rateOf(measurement: Measurement): number {
  return (measurement.acceptedInWindow / measurement.windowMs) * 1000;
}

function coreShare(cpuMs: number, measurement: Measurement): number {
  return cpuMs / measurement.windowMs;
}

function percent(share: number): string {
  return `${Math.round(share * 100)} %`;
}

const COLUMNS = [
  ['target', 46],
  ['webhooks/s', 10],
  ['p50 ms', 8],
  ['p99 ms', 8],
  ['ratio', 6],
  ['server CPU', 11],
  ['CPU/webhook', 12],
  ['CPU ratio', 10],
  ['generator CPU', 14],
  ['rest of machine', 16],
] as const;

function row(cells: readonly string[]): string {
  return cells
    .map((cell, index) => (index === 0 ? cell.padEnd(COLUMNS[0][1]) : cell.padStart(COLUMNS[index]![1])))
    .join(' ');
}

/** Server CPU time per accepted webhook in microseconds (undefined when none was accepted). */
function cpuPerWebhookUs(measurement: Measurement): number | undefined {
  return measurement.acceptedInWindow === 0
    ? undefined
    : (measurement.serverCpuMs * 1000) / measurement.acceptedInWindow;
}

function format(measurement: Measurement, ceiling: Measurement): string {
  const answered = measurement.latenciesMs.length > 0;
  const cpu = cpuPerWebhookUs(measurement);
  const ceilingCpu = cpuPerWebhookUs(ceiling);
  return row([
    measurement.label,
    Math.round(rateOf(measurement)).toString(),
    answered ? percentile(measurement.latenciesMs, 50).toFixed(2) : '-',
    answered ? percentile(measurement.latenciesMs, 99).toFixed(2) : '-',
    (rateOf(measurement) / rateOf(ceiling)).toFixed(2),
    percent(coreShare(measurement.serverCpuMs, measurement)),
    cpu === undefined ? '-' : `${Math.round(cpu)} µs`,
    cpu === undefined || ceilingCpu === undefined ? '-' : (ceilingCpu / cpu).toFixed(2),
    percent(coreShare(measurement.generatorsCpuMs, measurement)),
    percent(coreShare(measurement.restCpuMs, measurement)),
  ]);
}

/** Lines about what went wrong in a measurement: refusals, lost answers, socket errors. */
function problems(measurement: Measurement): string[] {
  const lines: string[] = [];
  const refused = Object.entries(measurement.refused);
  if (refused.length > 0) {
    const list = refused.map(([status, count]) => `${count} x ${status}`).join(', ');
    lines.push(`WARNING: ${measurement.label}: answers other than 2xx: ${list}`);
  }
  if (measurement.unanswered > 0 || measurement.socketErrors > 0) {
    lines.push(
      `WARNING: ${measurement.label}: ${measurement.unanswered} requests unanswered, ${measurement.socketErrors} socket errors`,
    );
  }
  return lines;
}

process.stdout.write(
  [
    `ingest benchmark: SuperOffice contact.changed webhooks, ${webhookBodyBytes()}-byte signed bodies, each a new EventId and record`,
    `  ${DURATION_MS / 1000} s per target after ${WARMUP_MS / 1000} s of warm-up; ${CONNECTIONS} connections x pipelining ${PIPELINING} = ${CONNECTIONS * PIPELINING} in flight, from ${CLIENTS} load-generator process(es)`,
    `  Node ${process.versions.node}; ${availableParallelism()} cores; load average ${loadavg()
      .map((load) => load.toFixed(2))
      .join(' ')}`,
    '',
  ].join('\n'),
);

const ceiling = await measureBare();
const rows: Measurement[] = [];
for (const durability of DURABILITIES) rows.push(await measureServe(durability));
const draining = await measureDraining(DURABILITIES[0] ?? 'process');
const all = [ceiling, ...rows, draining.measurement];

const { drain } = draining;
const lines = [
  '',
  row(COLUMNS.map(([title]) => title)),
  ...all.map((measurement) => format(measurement, ceiling)),
  '',
  '  CPU columns are shares of one core: the server (all its threads), the load generator(s), and everything',
  '  else on the machine (other processes, the kernel). CPU/webhook: server CPU time per accepted webhook;',
  "  CPU ratio: the bare route's CPU/webhook over this one, the ratio to expect at full load, and less",
  '  disturbed by a busy machine than the rate ratio.',
  `  draining: ${drain.waitingAtOpen} jobs waiting when the window opened, ${drain.waitingAtClose} when it closed; ` +
    `${drain.finishedInWindow} finished in it (${Math.round((drain.finishedInWindow / draining.measurement.windowMs) * 1000)}/s, backlog and webhook jobs)`,
];

const warnings = all.flatMap(problems);
const ceilingShare = coreShare(ceiling.serverCpuMs, ceiling);
const saturated = ceilingShare >= SATURATED_CORE_SHARE;
if (!saturated) {
  warnings.push(
    `WARNING: THE BARE ROUTE DID NOT SATURATE THE SERVER: it used ${percent(ceilingShare)} of a core (< ${percent(SATURATED_CORE_SHARE)}).`,
    '  Its rate, and so every ratio, measures the load generator or a busy machine, not the server.',
    '  See "generator CPU" and "rest of machine"; try more --connections, --pipelining or a quieter machine.',
  );
}
if (drain.waitingAtClose === 0) {
  warnings.push(
    `WARNING: the backlog ran out before the draining window closed: the workers were not draining all along; raise --backlog above ${BACKLOG}`,
  );
}

// The goals are judged on the default durability when it was measured.
const judged = rows[Math.max(0, DURABILITIES.indexOf('process'))]!;
const ratio = rateOf(judged) / rateOf(ceiling);
const drainingRatio = rateOf(draining.measurement) / rateOf(ceiling);
const verdict = (met: boolean) => (met ? 'met' : 'NOT met') + (saturated ? '' : ' (ceiling not saturated)');
lines.push(
  '',
  `goals (issue 9, for a quiet machine), ${judged.label}:`,
  `  ratio >= ${GOALS.ratio}: ${verdict(ratio >= GOALS.ratio)} (${ratio.toFixed(2)})`,
  `  >= ${GOALS.rate} webhooks/s: ${verdict(rateOf(judged) >= GOALS.rate)} (${Math.round(rateOf(judged))}/s)`,
  `  with workers draining, ratio >= ${GOALS.drainingRatio}: ${verdict(drainingRatio >= GOALS.drainingRatio)} (${drainingRatio.toFixed(2)})`,
);
if (warnings.length > 0) lines.push('', ...warnings);
process.stdout.write(`${lines.join('\n')}\n`);
