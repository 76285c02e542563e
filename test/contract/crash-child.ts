/**
 * Starts the crash test's child worker (fixtures/crash-worker.ts), waits until it holds a job, and kills it
 * with SIGKILL: shared by the crash tests of the queue and of the ledger intents.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { HOLDING_MARKER } from './fixtures/crash-protocol.ts';
import type { CrashWorkerSpec } from './fixtures/crash-protocol.ts';

const WORKER = fileURLToPath(new URL('./fixtures/crash-worker.ts', import.meta.url));

/** How long the child may take to hold a job. */
export const CRASH_DEADLINE_MS = 20_000;

/**
 * Spawns the child with `spec`, resolves with the id of the job it holds once it says so, then kills it with
 * SIGKILL and waits for its exit. The child is killed when the test ends in any case.
 */
export async function holdThenKill(t: TestContext, spec: CrashWorkerSpec): Promise<string> {
  const child = spawn(process.execPath, ['--no-warnings', WORKER, JSON.stringify(spec)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit');
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  const heldId = await waitForHolding(child);
  child.kill('SIGKILL');
  const [, signal] = (await exited) as [number | null, NodeJS.Signals | null];
  assert.equal(signal, 'SIGKILL');
  return heldId;
}

/** Resolves with the job id once the child says it holds a job; rejects if it exits or times out first. */
function waitForHolding(child: ChildProcessByStdio<null, Readable, Readable>): Promise<string> {
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`crash worker never held a job:\n${output}`)),
      CRASH_DEADLINE_MS,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = new RegExp(`${HOLDING_MARKER} (\\S+)`).exec(output);
      if (match !== null) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`crash worker exited (${code ?? signal}) before holding a job:\n${output}`));
    });
  });
}
