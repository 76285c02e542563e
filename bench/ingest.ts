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
 * process only sleeps, samples /proc and, around the draining window, counts the queue. The generator is lean enough to outrun the server, and the run
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
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { JobState } from '../src/ports/queue.ts';
import { machineCpu } from './cpu.ts';
import { reportLines } from './ingest-report.ts';
import type { Drain } from './ingest-report.ts';
import { measureLoad } from './load-run.ts';
import type { LoadOptions, Measurement, Target, WindowHooks } from './load-run.ts';
import { fillBacklog, queueCounts, withServe } from './serve-target.ts';
import type { Durability } from './serve-target.ts';
import { webhookBodyBytes } from './superoffice-webhooks.ts';

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

function measureServe(durability: Durability): Promise<Measurement> {
  return withServe({ durability, workers: 0 }, async (target) => {
    const measurement = await measure(`crmsync serve (durability ${durability})`, target);
    return { measurement, backlog: 0 };
  });
}

/**
 * The backlog is added while serve runs, right before the load starts: added before serve starts, today's
 * worker pool (which does not yield to the event loop) would drain all of it before serve even listens.
 */
async function measureDraining(durability: Durability): Promise<{ measurement: Measurement; drain: Drain }> {
  let drain: Drain = { waitingAtOpen: 0, waitingAtClose: 0, finishedInWindow: 0 };
  const waiting = (counts: Record<JobState, number>) => counts.PENDING + counts.PROCESSING + counts.FAILED;
  const finished = (counts: Record<JobState, number>) => counts.COMPLETED + counts.SKIPPED + counts.DEAD;
  const measurement = await withServe({ durability, workers: WORKERS }, async (target, dbPath) => {
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
    return { measurement: measured, backlog: BACKLOG };
  });
  return { measurement, drain };
}

/** CPU busy on this machine before the run, in cores: other load makes every figure below noisy. */
async function busyCores(): Promise<number> {
  const before = machineCpu();
  await sleep(1_000);
  const after = machineCpu();
  return ((after.busyMs - before.busyMs) / (after.totalMs - before.totalMs)) * availableParallelism();
}

const busy = await busyCores();
process.stdout.write(
  [
    `ingest benchmark: SuperOffice contact.changed webhooks, ${webhookBodyBytes()}-byte signed bodies, each a new EventId and record`,
    `  ${DURATION_MS / 1000} s per target after ${WARMUP_MS / 1000} s of warm-up; ${CONNECTIONS} connections x pipelining ${PIPELINING} = ${CONNECTIONS * PIPELINING} in flight, from ${CLIENTS} load-generator process(es)`,
    `  Node ${process.versions.node}; ${availableParallelism()} cores, ${busy.toFixed(2)} of them busy before the run` +
      (busy > 0.2 ? ' (NOT QUIET: expect noisy figures)' : ' (quiet)'),
    '',
  ].join('\n'),
);

const ceiling = await measureBare();
const serve: Measurement[] = [];
for (const durability of DURABILITIES) serve.push(await measureServe(durability));
const draining = await measureDraining(DURABILITIES[0]!);
const lines = reportLines({
  ceiling,
  serve,
  // The goals are judged on the default durability when it was measured.
  judged: serve[Math.max(0, DURABILITIES.indexOf('process'))]!,
  draining: draining.measurement,
  drain: draining.drain,
  backlog: BACKLOG,
});
process.stdout.write(`\n${lines.join('\n')}\n`);
