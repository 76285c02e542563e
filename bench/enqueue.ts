/**
 * Enqueue benchmark: the SQLite queue's cost per webhook input by group-commit size, without HTTP, so the
 * share of ingest that is storage shows on its own. Each input is a new record and event id with a ~1 KB
 * payload, as a webhook makes; each commit is one `enqueueMany` (one transaction). Prints inputs/s and this
 * process's CPU per input for each batch size, side by side; the difference between sizes is the fixed cost of
 * a commit.
 *
 *   npm run bench:enqueue -- [--inputs 40000] [--batches 1,4,16,64] [--durability process]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { silenceSqliteExperimentalWarning } from '../src/cli/main.ts';
import type { JobInput } from '../src/ports/queue.ts';

silenceSqliteExperimentalWarning();
// Loaded after the warning filter is in place: node:sqlite warns when it is first loaded.
const { openSqliteBackend } = await import('../src/adapters/sqlite/index.ts');

const { values } = parseArgs({
  options: {
    inputs: { type: 'string', default: '40000' },
    batches: { type: 'string', default: '1,4,16,64' },
    durability: { type: 'string', default: 'process' },
  },
});
const INPUTS = Number(values.inputs);
const BATCHES = values.batches.split(',').map(Number);
const DURABILITY = values.durability === 'power' ? 'power' : 'process';
if (!Number.isInteger(INPUTS) || INPUTS < 1 || BATCHES.some((size) => !Number.isInteger(size) || size < 1)) {
  console.error('--inputs and every --batches size must be positive integers');
  process.exit(2);
}

const PAYLOAD_TEXT = 'x'.repeat(900);

function input(n: number): JobInput {
  const ref = { connection: 'bench', entityType: 'Contact', id: String(n) };
  return {
    flow: 'bench',
    recordKey: `bench|bench/Contact/${n}`,
    dedupKey: `bench|${n}`,
    payload: { ref, kind: 'updated', text: PAYLOAD_TEXT },
  };
}

/** Enqueues INPUTS inputs in commits of `size` into a fresh database; returns inputs/s and CPU µs per input. */
async function measure(size: number): Promise<{ rate: number; cpuPerInput: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'crmsync-enqueue-'));
  const backend = openSqliteBackend({ path: join(dir, 'crmsync.db'), durability: DURABILITY });
  try {
    const started = performance.now();
    const cpu = process.cpuUsage();
    for (let n = 0; n < INPUTS; n += size) {
      const batch: JobInput[] = [];
      for (let k = n; k < Math.min(n + size, INPUTS); k++) batch.push(input(k));
      await backend.queue.enqueueMany(batch);
    }
    const used = process.cpuUsage(cpu);
    const seconds = (performance.now() - started) / 1000;
    return { rate: INPUTS / seconds, cpuPerInput: (used.user + used.system) / INPUTS };
  } finally {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`enqueue benchmark: ${INPUTS} inputs of ~1 KB, durability ${DURABILITY}`);
console.log('commit size   inputs/s   CPU per input');
for (const size of BATCHES) {
  const { rate, cpuPerInput } = await measure(size);
  console.log(
    `${String(size).padStart(11)} ${Math.round(rate).toString().padStart(10)} ${cpuPerInput.toFixed(1).padStart(12)} µs`,
  );
}
