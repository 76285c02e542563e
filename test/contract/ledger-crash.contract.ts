/**
 * Crash test of the ledger intents: a worker in a child process begins an attempt, records its ledger
 * intents (the step before the vendor write) and is killed with SIGKILL before its outcome commit. The
 * intents survive: the echo of the write the dead attempt may have made is still recognised by field and
 * value hash, and the retry's outcome commit consumes them. Real clock, short lease, polling with a deadline.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { valueHash } from '../../src/core/canonical.ts';
import type { RecordRef } from '../../src/core/types.ts';
import { jobRecordKey } from '../../src/core/types.ts';
import { systemClock } from '../../src/ports/clock.ts';
import { eventually } from '../support/eventually.ts';
import { CRASH_DEADLINE_MS, holdThenKill } from './crash-child.ts';
import { openWithClock } from './harness.ts';
import type { ContractBackendFactory } from './harness.ts';

const FLOW = 'beteiligte';
const ESPO: RecordRef = { connection: 'espocrm', entityType: 'CBeteiligte', id: 'e1' };
const ADVO: RecordRef = { connection: 'advoware', entityType: 'Beteiligte', id: '1001' };
const CHILD_LEASE_MS = 300;

/** Defines the crash test of the ledger intents for one adapter. */
export function defineLedgerCrashContract(factory: ContractBackendFactory): void {
  describe('crash between ledger intent and outcome commit', () => {
    it('keeps the intents of a worker killed with SIGKILL, and the retry consumes their echo', async (t) => {
      const backoff = { baseMs: 20, maxMs: 100, jitter: 0 };
      const { backend, opener } = await openWithClock(t, factory, systemClock, { queue: { backoff } });
      const { jobId } = await backend.queue.enqueue({
        flow: FLOW,
        recordKey: jobRecordKey(FLOW, ESPO),
        payload: { kind: 'updated' },
      });
      const name = { ref: ADVO, field: 'name', valueHash: valueHash('Acme GmbH'), writtenAt: Date.now() };
      const city = { ref: ADVO, field: 'city', valueHash: valueHash('Köln'), writtenAt: Date.now() };

      const heldId = await holdThenKill(t, {
        ...opener,
        leaseMs: CHILD_LEASE_MS,
        workerId: 'crash-child',
        intents: [name, city],
      });
      assert.equal(heldId, jobId);
      const [deadRun] = await backend.store.runs.list({ jobId });
      assert.ok(deadRun, 'the child began a run');

      // The webhook of the write the dead attempt made: recognised with no version and no API call.
      const echo = { fields: { name: name.valueHash, city: city.valueHash } };
      const match = await backend.store.ledger.matchEcho(ADVO, echo);
      assert.deepEqual([match?.by, match?.entryIds.length, match?.runIds], ['fields', 2, [deadRun.id]]);
      assert.deepEqual(
        (await backend.store.ledger.find(ADVO, 0)).map((entry) => entry.version),
        [null, null],
        'intents, never confirmed',
      );

      const retry = await eventually(() => backend.attempts.begin({ workerId: 'parent', leaseMs: 30_000 }), {
        timeoutMs: CRASH_DEADLINE_MS,
      });
      assert.deepEqual([retry.job.id, retry.job.attempts], [jobId, 2]);
      const ended = await backend.attempts.end({
        jobId,
        leaseToken: retry.job.leaseToken,
        runId: retry.run!.id,
        run: { outcome: 'SKIPPED', reason: 'echo', finishedAt: Date.now() },
        job: { kind: 'complete', state: 'SKIPPED' },
        commit: { consume: match!.entryIds },
      });
      assert.equal(ended, 'settled');
      assert.equal(await backend.store.ledger.matchEcho(ADVO, echo), null, 'consumed by the retry');
      assert.equal((await backend.store.runs.get(deadRun.id))?.error?.code, 'QUEUE_LEASE_EXPIRED');
      assert.equal((await backend.queue.get(jobId))?.state, 'SKIPPED');
    });
  });
}
