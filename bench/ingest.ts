/**
 * Ingest benchmark: signed webhooks at a given concurrency against a real `crmsync serve --no-workers`
 * process, side by side with a bare fastify route that does nothing (the ceiling on this machine), in one
 * run. Prints accepted webhooks/s, p50/p99 latency and the ratio to the ceiling for each durability mode,
 * then checks that every accepted webhook is in the queue.
 *
 *   npm run bench:ingest -- [--requests 20000] [--concurrency 64] [--durability process,power]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { silenceSqliteExperimentalWarning } from '../src/cli/main.ts';
import { signGenericWebhook } from '../src/connectors/generic/index.ts';
import { percentile, sendAll } from '../test/support/load.ts';
import type { LoadRequest, LoadResult } from '../test/support/load.ts';
import { startServe } from '../test/support/serve-process.ts';

silenceSqliteExperimentalWarning();
// Loaded after the warning filter is installed: node:sqlite warns when it is first imported.
const { openSqliteBackend } = await import('../src/adapters/sqlite/index.ts');

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '64' },
    durability: { type: 'string', default: 'process,power' },
    warmup: { type: 'string', default: '2000' },
  },
});
const REQUESTS = Number(values.requests);
const CONCURRENCY = Number(values.concurrency);
const WARMUP = Number(values.warmup);
const DURABILITIES = values.durability.split(',') as ('process' | 'power')[];
const SECRET = 'bench-secret-0123456789abcdef';

function webhooks(count: number, prefix: string): LoadRequest[] {
  return Array.from({ length: count }, (_, index) => {
    const body = Buffer.from(
      JSON.stringify({
        events: [
          {
            id: `${prefix}-${index}`,
            entityType: 'Contact',
            recordId: `${prefix}-${index}`,
            kind: 'updated',
            changedFields: ['name'],
          },
        ],
      }),
    );
    return {
      path: '/webhooks/bench',
      body,
      headers: { 'x-crmsync-signature': signGenericWebhook(SECRET, body) },
    };
  });
}

interface Row {
  readonly target: string;
  readonly result: LoadResult;
  readonly accepted: number;
}

function summarise(target: string, result: LoadResult): Row {
  return {
    target,
    result,
    accepted: result.statuses.filter((status) => status >= 200 && status < 300).length,
  };
}

async function measureBare(requests: LoadRequest[], warmup: LoadRequest[]): Promise<Row> {
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
    const origin = `http://127.0.0.1:${port}`;
    await sendAll(origin, warmup, CONCURRENCY);
    return summarise('bare fastify route (ceiling)', await sendAll(origin, requests, CONCURRENCY));
  } finally {
    child.kill('SIGTERM');
  }
}

async function measureServe(
  durability: 'process' | 'power',
  requests: LoadRequest[],
  warmup: LoadRequest[],
): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'crmsync-bench-'));
  const entry = new URL('../src/index.ts', import.meta.url).href;
  const configFile = join(dir, 'crmsync.config.ts');
  const dbPath = join(dir, 'crmsync.db');
  writeFileSync(
    configFile,
    `import { defineConfig } from '${entry}';
export default defineConfig({
  server: { host: '127.0.0.1', port: 0 },
  store: { kind: 'sqlite', path: ${JSON.stringify(dbPath)}, durability: '${durability}' },
  log: { level: 'info' },
  connections: { bench: { connector: 'generic', options: { secret: '${SECRET}' } } },
  flows: { watch: { type: 'inspect', connections: ['bench'] } },
});\n`,
  );
  const serve = await startServe({ configFile, args: ['--no-workers'] });
  try {
    await sendAll(serve.url, warmup, CONCURRENCY);
    const row = summarise(
      `crmsync serve (durability: ${durability})`,
      await sendAll(serve.url, requests, CONCURRENCY),
    );
    await serve.stop('SIGTERM');
    const backend = openSqliteBackend({ path: dbPath, durability });
    try {
      const counts = await backend.queue.counts();
      const queued =
        counts.PENDING + counts.PROCESSING + counts.COMPLETED + counts.SKIPPED + counts.FAILED + counts.DEAD;
      const expected = row.accepted + warmup.length;
      if (queued !== expected) throw new Error(`LOST WEBHOOKS: ${expected} accepted, ${queued} in the queue`);
      process.stdout.write(`  check: all ${expected} accepted webhooks (incl. warm-up) are in the queue\n`);
    } finally {
      await backend.close();
    }
    return row;
  } finally {
    await serve.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

function format(row: Row, ceiling: Row): string {
  const rate = (row.accepted / row.result.elapsedMs) * 1000;
  const ceilingRate = (ceiling.accepted / ceiling.result.elapsedMs) * 1000;
  return [
    row.target.padEnd(36),
    `${Math.round(rate).toString().padStart(7)}/s`,
    `p50 ${percentile(row.result.latenciesMs, 50).toFixed(2).padStart(6)} ms`,
    `p99 ${percentile(row.result.latenciesMs, 99).toFixed(2).padStart(6)} ms`,
    `ratio ${(rate / ceilingRate).toFixed(2)}`,
    row.accepted === row.result.statuses.length
      ? ''
      : `(${row.result.statuses.length - row.accepted} not accepted)`,
  ].join('  ');
}

process.stdout.write(
  `ingest benchmark: ${REQUESTS} webhooks (1 event each), concurrency ${CONCURRENCY}, warm-up ${WARMUP}, Node ${process.versions.node}\n`,
);
const rows: Row[] = [];
const ceiling = await measureBare(webhooks(REQUESTS, 'bare'), webhooks(WARMUP, 'bare-warm'));
for (const durability of DURABILITIES) {
  rows.push(
    await measureServe(durability, webhooks(REQUESTS, durability), webhooks(WARMUP, `${durability}-warm`)),
  );
}
process.stdout.write('\n');
for (const row of [ceiling, ...rows]) process.stdout.write(`${format(row, ceiling)}\n`);
