/**
 * The retention task on the real SQLite store: every table that would only grow is pruned (finished jobs,
 * old runs, closed conflicts and ledger entries after their days; expired locks and connector state), and
 * nothing younger, nor a conflict still open however old.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { TestContext } from 'node:test';
import { openSqliteBackend } from '../../src/adapters/sqlite/index.ts';
import { jobRecordKey } from '../../src/core/types.ts';
import { pruneExpired } from '../../src/engine/retention.ts';
import type { ConflictInput } from '../../src/ports/store.ts';
import { ManualClock } from '../support/manual-clock.ts';

const DAY_MS = 86_400_000;
const POLICY = { jobsDays: 7, runsDays: 30, ledgerDays: 7 };
const REF = { connection: 'crm', entityType: 'Contact', id: '1' };

function setup(t: TestContext) {
  const clock = new ManualClock();
  const backend = openSqliteBackend({ path: ':memory:', durability: 'process', clock });
  t.after(() => backend.close());
  return { backend, clock };
}

/**
 * One of everything retention looks at, stored now: a finished job, a run, a ledger entry, a lock, a token,
 * and, through the outcome commit of a job, a link with a conflict settled by policy (closed) and a parked one
 * (open).
 */
async function storeOneOfEach(backend: ReturnType<typeof setup>['backend'], clock: ManualClock, tag: string) {
  await storeConflicts(backend, clock, tag);
  await backend.queue.enqueue({ flow: 'f', recordKey: `r/${tag}`, payload: tag });
  const job = await backend.queue.dequeue({ workerId: 'w', leaseMs: 60_000 });
  await backend.queue.complete(job!.id, job!.leaseToken, 'COMPLETED');
  const run = await backend.store.runs.start({
    jobId: job!.id,
    flow: 'f',
    ref: REF,
    attempt: 1,
    startedAt: clock.now(),
  });
  await backend.store.runs.finish(run, { outcome: 'COMPLETED', finishedAt: clock.now() });
  await backend.store.ledger.record([
    { ref: REF, field: tag, valueHash: 'h', version: null, runId: run, writtenAt: clock.now() },
  ]);
  await backend.locks.acquire(`lock/${tag}`, DAY_MS);
  await backend.store.connectorState.set('crm', `token/${tag}`, tag, clock.now() + DAY_MS);
}

async function storeConflicts(backend: ReturnType<typeof setup>['backend'], clock: ManualClock, tag: string) {
  const side = (connection: string) => ({ ref: { ...REF, connection, id: tag }, base: null, version: null });
  const link = { flow: 'f', a: side('a'), b: side('b'), status: 'conflict' as const };
  const conflict = (field: string, outcome: ConflictInput['outcome']): ConflictInput => ({
    flow: 'f',
    linkId: '',
    field: `${tag}-${field}`,
    item: null,
    attribute: null,
    a: 1,
    b: 2,
    base: { a: 0, b: 0 },
    policy: outcome === 'parked' ? 'manual' : 'a-wins',
    outcome,
    runId: null,
  });
  const ref = { ...REF, id: `conflicts-${tag}` };
  await backend.queue.enqueue({ flow: 'f', recordKey: jobRecordKey('f', ref), payload: tag });
  const attempt = await backend.attempts.begin({ workerId: 'w', leaseMs: 60_000 });
  const ended = await backend.attempts.end({
    jobId: attempt!.job.id,
    leaseToken: attempt!.job.leaseToken,
    runId: attempt!.run!.id,
    run: { outcome: 'CONFLICT', finishedAt: clock.now() },
    job: { kind: 'complete', state: 'COMPLETED' },
    commit: { link, conflicts: { add: [conflict('settled', 'a'), conflict('parked', 'parked')] } },
  });
  assert.equal(ended, 'settled');
}

it('prunes what is past its retention, and expired locks and connector state', async (t) => {
  const { backend, clock } = setup(t);
  await storeOneOfEach(backend, clock, 'old');
  clock.advance(31 * DAY_MS);
  await storeOneOfEach(backend, clock, 'new');
  await backend.store.connectorState.set('crm', 'userId', 528, null);

  assert.deepEqual(await pruneExpired(backend, POLICY, clock.now()), {
    jobs: 2,
    runs: 2,
    conflicts: 1,
    ledger: 1,
    locks: 1,
    connectorState: 1,
  });
  assert.deepEqual(
    (await backend.queue.list()).map((job) => job.payloads),
    [['new'], ['new']],
  );
  assert.equal((await backend.store.runs.list()).length, 2);
  assert.deepEqual(
    (await backend.store.conflicts.list()).map((conflict) => conflict.field),
    ['old-parked', 'new-settled', 'new-parked'],
    'the open conflict is kept however old',
  );
  assert.deepEqual(
    (await backend.store.ledger.find(REF, 0)).map((entry) => entry.field),
    ['new'],
  );
  assert.equal(await backend.locks.acquire('lock/new', DAY_MS), null, 'the live lock is kept');
  assert.equal(await backend.store.connectorState.get('crm', 'token/new'), 'new');
  assert.equal(await backend.store.connectorState.get('crm', 'userId'), 528);
  assert.deepEqual(await pruneExpired(backend, POLICY, clock.now()), {
    jobs: 0,
    runs: 0,
    conflicts: 0,
    ledger: 0,
    locks: 0,
    connectorState: 0,
  });
});

it('stops before the next table once its schedule lock was lost', async (t) => {
  const { backend, clock } = setup(t);
  await storeOneOfEach(backend, clock, 'old');
  clock.advance(31 * DAY_MS);
  const lost = new Error('lock lost');
  await assert.rejects(pruneExpired(backend, POLICY, clock.now(), AbortSignal.abort(lost)), lost);
  assert.equal((await backend.queue.counts()).COMPLETED, 2, 'nothing was pruned');
});
