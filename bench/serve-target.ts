/**
 * `crmsync serve` as a target of bench/ingest.ts: a fresh temp folder and config per phase (one SuperOffice
 * connection feeding a no-op `inspect` flow; no vendor is ever called), the server as a real child process,
 * and afterwards the check that the queue holds a job for every webhook answered 2xx.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { silenceSqliteExperimentalWarning } from '../src/cli/main.ts';
import { jobRecordKey } from '../src/core/types.ts';
import type { JobInput, JobState } from '../src/ports/queue.ts';
import { JOB_STATES } from '../src/ports/queue.ts';
import { startServe } from '../test/support/serve-process.ts';
import type { ServeProcess } from '../test/support/serve-process.ts';
import type { Measurement, Target } from './load-run.ts';
import { BENCH_CONNECTION, BENCH_WEBHOOK_SECRET } from './superoffice-webhooks.ts';

silenceSqliteExperimentalWarning();
// Loaded after the warning filter is installed: node:sqlite warns when it is first imported.
const { openSqliteBackend } = await import('../src/adapters/sqlite/index.ts');

/** The store's durability modes. */
export type Durability = 'process' | 'power';

/** How to run serve: its durability, and its worker pool's size (0: `--no-workers`, ingest only). */
export interface ServeSettings {
  readonly durability: Durability;
  readonly workers: number;
}

/** What a phase measured, and the jobs it added besides its webhooks (a backlog). */
export interface ServePhase {
  readonly measurement: Measurement;
  readonly backlog: number;
}

/** The no-op flow the webhooks (and a backlog) feed. */
const FLOW = 'watch';
/** How long serve may take to stop on SIGTERM before it is killed (and the output says so). */
const STOP_TIMEOUT_MS = 15_000;

function writeConfig(dir: string, settings: ServeSettings): { configFile: string; dbPath: string } {
  const entry = new URL('../src/index.ts', import.meta.url).href;
  const configFile = join(dir, 'crmsync.config.ts');
  const dbPath = join(dir, 'crmsync.db');
  writeFileSync(
    configFile,
    `import { defineConfig } from '${entry}';
export default defineConfig({
  server: { host: '127.0.0.1', port: 0 },
  store: { kind: 'sqlite', path: ${JSON.stringify(dbPath)}, durability: '${settings.durability}' },
  worker: { concurrency: ${Math.max(1, settings.workers)} },
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

/** Jobs per state, read through a connection of this process (WAL: it never blocks the server). */
export async function queueCounts(dbPath: string, durability: Durability): Promise<Record<JobState, number>> {
  const backend = openSqliteBackend({ path: dbPath, durability });
  try {
    return await backend.queue.counts();
  } finally {
    await backend.close();
  }
}

/** Adds `count` no-op jobs for the flow, in group commits of 1,000 as ingest makes them. */
export async function fillBacklog(dbPath: string, durability: Durability, count: number): Promise<void> {
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

/** Stops serve with SIGTERM, or with SIGKILL after STOP_TIMEOUT_MS (and says so: SIGTERM should suffice). */
async function stopServe(serve: ServeProcess): Promise<void> {
  const stopped = serve.stop('SIGTERM');
  const timedOut = await Promise.race([stopped.then(() => false), sleep(STOP_TIMEOUT_MS).then(() => true)]);
  if (!timedOut) return;
  process.stdout.write(`  WARNING: serve ignored SIGTERM for ${STOP_TIMEOUT_MS / 1000} s; killed it\n`);
  await serve.stop('SIGKILL');
}

/**
 * Every webhook answered 2xx must be a job (each has a new EventId and record, so none is a duplicate and
 * none coalesces); more jobs than that are webhooks stored whose answer never arrived, which loses nothing.
 */
async function checkQueue(dbPath: string, durability: Durability, phase: ServePhase): Promise<void> {
  const counts = await queueCounts(dbPath, durability);
  const queued = JOB_STATES.reduce((sum, state) => sum + counts[state], 0);
  const accepted = phase.measurement.acceptedTotal;
  const expected = accepted + phase.backlog;
  const what = `${accepted} webhooks answered 2xx (warm-up included)${phase.backlog > 0 ? ` + ${phase.backlog} backlog jobs` : ''}`;
  if (queued < expected) throw new Error(`LOST WEBHOOKS: ${what}, but only ${queued} jobs in the queue`);
  process.stdout.write(
    queued === expected
      ? `  check: ${what}, and all ${queued} jobs are in the queue\n`
      : `  check: ${what}, and ${queued} jobs in the queue: ${queued - expected} stored without an answer, none lost\n`,
  );
}

/** Runs `phase` against a fresh `crmsync serve`, then stops it and checks the queue. */
export async function withServe(
  settings: ServeSettings,
  phase: (target: Target, dbPath: string) => Promise<ServePhase>,
): Promise<Measurement> {
  const dir = mkdtempSync(join(tmpdir(), 'crmsync-bench-'));
  try {
    const { configFile, dbPath } = writeConfig(dir, settings);
    const serve = await startServe({ configFile, args: settings.workers > 0 ? [] : ['--no-workers'] });
    let result: ServePhase;
    try {
      const url = new URL(serve.url);
      result = await phase({ host: url.hostname, port: Number(url.port), pid: serve.child.pid! }, dbPath);
    } finally {
      await stopServe(serve);
    }
    // Checked once the server has stopped, so that every commit it made is visible.
    await checkQueue(dbPath, settings.durability, result);
    return result.measurement;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
