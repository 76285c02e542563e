/**
 * Contract of the outcome commit (src/ports/backend.ts, JobAttempts.end with an OutcomeCommit): the link, the
 * conflicts found and closed, the ledger confirmations and consumptions, the run's outcome and the job's
 * settlement land together or not at all; a stale link revision, a stale lock fence or an entry consumed already refuses the commit, and then
 * the run ends FAILED with the retryable error and the job retries.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import type { BackoffPolicy } from '../../src/core/backoff.ts';
import { valueHash } from '../../src/core/canonical.ts';
import type { RecordRef } from '../../src/core/types.ts';
import { jobRecordKey } from '../../src/core/types.ts';
import type { AttemptEnd, Backend } from '../../src/ports/backend.ts';
import type {
  ConflictInput,
  ConflictResolution,
  Link,
  LinkWrite,
  OutcomeCommit,
} from '../../src/ports/store.ts';
import { openFor } from './harness.ts';
import type { ContractBackendFactory } from './harness.ts';

const LEASE = 10_000;
const LOCK_TTL = 5_000;
const FLOW = 'beteiligte';
const EXACT: BackoffPolicy = { baseMs: 1_000, maxMs: 60_000, jitter: 0 };
const ESPO: RecordRef = { connection: 'espocrm', entityType: 'CBeteiligte', id: 'e1' };
const ADVO: RecordRef = { connection: 'advoware', entityType: 'Beteiligte', id: '1001' };
const LOCK_KEY = `link:${FLOW}:1`;
const CITY_WRITTEN: ConflictResolution = { take: 'value', value: 'Köln', by: 'cli', at: 1 };

/** Parks `conflict` through the outcome commit of a run of its own (ADVO's job); returns it as stored. */
async function parkEarlier(backend: Backend, conflict: ConflictInput) {
  const { jobId } = await backend.queue.enqueue({
    flow: FLOW,
    recordKey: jobRecordKey(FLOW, ADVO),
    payload: 0,
  });
  const attempt = await backend.attempts.begin({ workerId: 'w0', leaseMs: LEASE });
  assert.ok(attempt?.run);
  const ended = await backend.attempts.end({
    jobId,
    leaseToken: attempt.job.leaseToken,
    runId: attempt.run.id,
    run: { outcome: 'CONFLICT', finishedAt: 0 },
    job: { kind: 'complete', state: 'COMPLETED' },
    commit: { conflicts: { add: [conflict] } },
  });
  assert.equal(ended, 'settled');
  const [stored] = await backend.store.conflicts.list();
  assert.equal(stored?.status, 'open');
  return stored;
}

/** Defines the outcome-commit contract suite for one backend. */
export function defineOutcomeCommitContract(adapter: string, factory: ContractBackendFactory): void {
  /**
   * A backend with a link of ESPO and ADVO, an open conflict of the link (field `city`, parked by an earlier
   * run), an EspoCRM job for it leased and its run begun, an intent of the run (name -> "Acme GmbH", about to
   * be written to Advoware) and an echo entry of an earlier run. The run's commit closes the `city` conflict
   * and adds two: `phone` parked, `email` settled by policy.
   */
  const setup = async (t: TestContext) => {
    const { backend, clock } = await openFor(t, factory, { queue: { backoff: EXACT } });
    const link = await backend.store.links.save({
      flow: FLOW,
      a: { ref: ESPO, base: { name: 'Acme' }, version: '3' },
      b: { ref: ADVO, base: { name: 'Acme' }, version: 'rowid-1' },
      status: 'clean',
    });
    const conflict = (field: string, outcome: ConflictInput['outcome']): ConflictInput => ({
      flow: FLOW,
      linkId: link.id,
      field,
      item: null,
      attribute: null,
      a: `${field} a`,
      b: `${field} b`,
      base: { a: null, b: null },
      policy: outcome === 'parked' ? 'manual' : 'a-wins',
      outcome,
      runId: null,
    });
    const city = await parkEarlier(backend, conflict('city', 'parked'));
    const [echo] = await backend.store.ledger.recordIntents([
      { ref: ESPO, field: 'name', valueHash: valueHash('Acme'), runId: 'earlier', writtenAt: clock.now() },
    ]);
    const { jobId } = await backend.queue.enqueue({
      flow: FLOW,
      recordKey: jobRecordKey(FLOW, ESPO),
      payload: { kind: 'updated' },
    });
    const attempt = await backend.attempts.begin({ workerId: 'w1', leaseMs: LEASE });
    assert.ok(attempt?.run, 'a job with its run');
    const [written] = await backend.store.ledger.recordIntents([
      {
        ref: ADVO,
        field: 'name',
        valueHash: valueHash('Acme GmbH'),
        runId: attempt.run.id,
        writtenAt: clock.now(),
      },
    ]);
    const lock = await backend.locks.acquireFenced(LOCK_KEY, LOCK_TTL);
    assert.ok(lock);
    const synced: LinkWrite = {
      ...link,
      a: { ...link.a, base: { name: 'Acme GmbH' }, version: '4' },
      b: { ...link.b, base: { name: 'Acme GmbH' }, version: 'rowid-2' },
      status: 'clean',
      lastSyncedAt: clock.now(),
      expectedRevision: link.revision,
    };
    const commit: OutcomeCommit = {
      fence: { key: LOCK_KEY, fence: lock.fence },
      link: synced,
      confirm: [{ id: written!, version: 'rowid-2' }],
      consume: [echo!],
      conflicts: {
        add: [conflict('phone', 'parked'), conflict('email', 'a')],
        close: [{ id: city.id, resolution: CITY_WRITTEN }],
      },
    };
    const end = (overrides: Partial<OutcomeCommit> = {}): AttemptEnd => ({
      jobId,
      leaseToken: attempt.job.leaseToken,
      runId: attempt.run!.id,
      run: { outcome: 'COMPLETED', changes: [], finishedAt: clock.now() },
      job: { kind: 'complete', state: 'COMPLETED' },
      commit: { ...commit, ...overrides },
    });
    return { backend, clock, link, jobId, runId: attempt.run.id, lock, commit, end };
  };

  /** What an outcome commit touches, to compare before and after. */
  const snapshot = async (backend: Backend, linkId: string, jobId: string) => ({
    link: await backend.store.links.get(linkId),
    espoLedger: await backend.store.ledger.find(ESPO, 0),
    advoLedger: await backend.store.ledger.find(ADVO, 0),
    echoOpen: await backend.store.ledger.matchEcho(ESPO, { fields: { name: valueHash('Acme') } }),
    job: await backend.queue.get(jobId),
    conflicts: await backend.store.conflicts.list(),
  });

  /** Asserts the refused run: FAILED with `code`, the job FAILED with retry, the rest as `before`. */
  const assertRefused = async (
    backend: Backend,
    ids: { linkId: string; jobId: string; runId: string },
    before: Awaited<ReturnType<typeof snapshot>>,
    code: string,
  ) => {
    const after = await snapshot(backend, ids.linkId, ids.jobId);
    assert.deepEqual(after.link, before.link, 'the link is unchanged');
    assert.deepEqual(after.espoLedger, before.espoLedger, 'the echo entry is unchanged');
    assert.deepEqual(after.advoLedger, before.advoLedger, 'the intent is not confirmed');
    assert.deepEqual(after.echoOpen, before.echoOpen, 'the echo entry is not consumed');
    assert.deepEqual(after.conflicts, before.conflicts, 'no conflict is added or closed');
    const run = await backend.store.runs.get(ids.runId);
    assert.deepEqual([run?.outcome, run?.error?.code], ['FAILED', code]);
    assert.deepEqual(
      [after.job?.state, after.job?.attempts, after.job?.lastError?.code],
      ['FAILED', 1, code],
      'the job fails with retry',
    );
  };

  describe(`Outcome commit: ${adapter}`, () => {
    it('commits the link, the ledger, the run and the job together', async (t) => {
      const { backend, link, jobId, runId, end } = await setup(t);
      assert.equal(await backend.attempts.end(end()), 'settled');
      const saved = (await backend.store.links.get(link.id)) as Link;
      assert.deepEqual(
        [saved.revision, saved.a.base, saved.a.version, saved.b.base, saved.b.version],
        [link.revision + 1, { name: 'Acme GmbH' }, '4', { name: 'Acme GmbH' }, 'rowid-2'],
      );
      const confirmed = await backend.store.ledger.matchEcho(ADVO, { version: 'rowid-2', fields: {} });
      assert.deepEqual(
        [confirmed?.by, confirmed?.runIds],
        ['version', [runId]],
        'confirmed with its version',
      );
      assert.equal(
        await backend.store.ledger.matchEcho(ESPO, { fields: { name: valueHash('Acme') } }),
        null,
        'the consumed entry matches no echo any more',
      );
      assert.equal((await backend.store.runs.get(runId))?.outcome, 'COMPLETED');
      assert.equal((await backend.queue.get(jobId))?.state, 'COMPLETED');
      const conflicts = await backend.store.conflicts.list();
      assert.deepEqual(
        conflicts.map((conflict) => [conflict.field, conflict.status, conflict.resolution?.take ?? null]),
        [
          ['city', 'closed', 'value'],
          ['phone', 'open', null],
          ['email', 'closed', 'a'],
        ],
      );
      assert.deepEqual([conflicts[0]?.resolution, conflicts[0]?.runId], [CITY_WRITTEN, runId]);
    });

    it('supersedes the older open entries of the link’s records, keeping the ones it confirms', async (t) => {
      const { backend, clock, end } = await setup(t);
      // We wrote "Acme" to Advoware earlier; its echo never came.
      await backend.store.ledger.record([
        {
          ref: ADVO,
          field: 'name',
          valueHash: valueHash('Acme'),
          version: 'rowid-1',
          runId: 'old',
          writtenAt: 0,
        },
      ]);
      clock.advance(1);
      assert.equal(await backend.attempts.end(end()), 'settled');
      // A user edit back to "Acme" is a real change now, not our echo.
      const name = (value: string) => ({ fields: { name: valueHash(value) } });
      assert.equal(await backend.store.ledger.matchEcho(ADVO, name('Acme')), null);
      assert.equal(await backend.store.ledger.matchEcho(ADVO, { version: 'rowid-1', fields: {} }), null);
      assert.equal((await backend.store.ledger.matchEcho(ADVO, name('Acme GmbH')))?.by, 'fields');
    });

    it("with keepLedgerOpen the link save supersedes nothing: an earlier write's echo is still recognised", async (t) => {
      const { backend, clock, end } = await setup(t);
      await backend.store.ledger.record([
        {
          ref: ADVO,
          field: 'name',
          valueHash: valueHash('Acme'),
          version: 'rowid-1',
          runId: 'old',
          writtenAt: 0,
        },
      ]);
      clock.advance(1);
      assert.equal(await backend.attempts.end(end({ keepLedgerOpen: true })), 'settled');
      assert.equal(
        (await backend.store.ledger.matchEcho(ADVO, { version: 'rowid-1', fields: {} }))?.by,
        'version',
      );
    });

    it('creates a link in the commit when it has no id', async (t) => {
      const { backend, end } = await setup(t);
      const other: RecordRef = { ...ESPO, id: 'e2' };
      const created: LinkWrite = {
        flow: FLOW,
        a: { ref: other, base: { name: 'Beta' }, version: '1' },
        b: { ref: { ...ADVO, id: '2002' }, base: { name: 'Beta' }, version: 'rowid-9' },
        status: 'clean',
      };
      assert.equal(await backend.attempts.end(end({ link: created, confirm: [], consume: [] })), 'settled');
      const stored = await backend.store.links.findByRef(FLOW, other);
      assert.deepEqual([stored?.revision, stored?.b.version], [1, 'rowid-9']);
    });

    it('refuses all of it on a stale link revision: the run fails, the job retries', async (t) => {
      const { backend, clock, link, jobId, runId, end } = await setup(t);
      // Another writer saved the link after the run read it.
      await backend.store.links.save({ ...link, status: 'pending', expectedRevision: link.revision });
      const before = await snapshot(backend, link.id, jobId);
      assert.equal(await backend.attempts.end(end()), 'refused');
      await assertRefused(backend, { linkId: link.id, jobId, runId }, before, 'STALE_WRITE');
      const job = await backend.queue.get(jobId);
      assert.equal(job?.runAt, clock.now() + EXACT.baseMs, 'retried after the backoff');
    });

    it('refuses a link create that finds the record linked already', async (t) => {
      const { backend, link, jobId, runId, end } = await setup(t);
      const duplicate: LinkWrite = {
        flow: FLOW,
        a: link.a,
        b: { ...link.b, ref: { ...ADVO, id: '9' } },
        status: 'clean',
      };
      const before = await snapshot(backend, link.id, jobId);
      assert.equal(await backend.attempts.end(end({ link: duplicate })), 'refused');
      await assertRefused(backend, { linkId: link.id, jobId, runId }, before, 'STALE_WRITE');
    });

    it('refuses the commit of a holder whose lock lapsed and was taken by the next holder', async (t) => {
      const { backend, clock, link, jobId, runId, end } = await setup(t);
      clock.advance(LOCK_TTL); // the holder stalls past its TTL
      const next = await backend.locks.acquireFenced(LOCK_KEY, LOCK_TTL);
      assert.ok(next, 'the next holder takes the lock');
      const before = await snapshot(backend, link.id, jobId);
      assert.equal(await backend.attempts.end(end()), 'refused');
      await assertRefused(backend, { linkId: link.id, jobId, runId }, before, 'LOCK_FENCE_STALE');
    });

    it('refuses a stale fence also after the next holder committed', async (t) => {
      const { backend, clock, link, jobId, runId, end } = await setup(t);
      clock.advance(LOCK_TTL);
      const next = await backend.locks.acquireFenced(LOCK_KEY, LOCK_TTL);
      await backend.store.links.save({ ...link, status: 'pending', expectedRevision: link.revision });
      const before = await snapshot(backend, link.id, jobId);
      // The stale holder even read the newest revision: the fence alone refuses it.
      const fresh = (await backend.store.links.get(link.id)) as Link;
      const commit = end({ link: { ...fresh, expectedRevision: fresh.revision } });
      assert.equal(await backend.attempts.end(commit), 'refused');
      await assertRefused(backend, { linkId: link.id, jobId, runId }, before, 'LOCK_FENCE_STALE');
      assert.ok(next);
    });

    it('commits with a lapsed lock nobody took since: the fence is still the last one issued', async (t) => {
      const { backend, clock, end } = await setup(t);
      clock.advance(LOCK_TTL);
      assert.equal(await backend.attempts.end(end()), 'settled');
    });

    it('consumes an echo entry once: a second commit that consumes it is refused', async (t) => {
      const { backend, clock, link, jobId, runId, commit, end } = await setup(t);
      assert.equal(await backend.attempts.end(end()), 'settled');
      clock.advance(1);
      const { jobId: secondJob } = await backend.queue.enqueue({
        flow: FLOW,
        recordKey: jobRecordKey(FLOW, ADVO),
        payload: { kind: 'updated' },
      });
      const second = await backend.attempts.begin({ workerId: 'w2', leaseMs: LEASE });
      assert.equal(second?.job.id, secondJob);
      const current = (await backend.store.links.get(link.id)) as Link;
      const ended = await backend.attempts.end({
        jobId: secondJob,
        leaseToken: second.job.leaseToken,
        runId: second.run!.id,
        run: { outcome: 'SKIPPED', reason: 'echo', finishedAt: clock.now() },
        job: { kind: 'complete', state: 'SKIPPED' },
        commit: {
          fence: commit.fence!,
          link: { ...current, expectedRevision: current.revision },
          consume: commit.consume!,
        },
      });
      assert.equal(ended, 'refused');
      assert.equal((await backend.store.links.get(link.id))?.revision, current.revision, 'link unchanged');
      assert.equal((await backend.queue.get(secondJob))?.lastError?.code, 'STALE_WRITE');
      assert.equal((await backend.store.runs.get(runId))?.outcome, 'COMPLETED', 'the first run stands');
      assert.equal((await backend.queue.get(jobId))?.state, 'COMPLETED');
    });

    it('stores nothing of the commit when the lease was lost', async (t) => {
      const { backend, clock, link, jobId, runId, end } = await setup(t);
      clock.advance(LEASE);
      assert.equal(await backend.attempts.begin({ workerId: 'w2', leaseMs: LEASE }), null, 'backoff');
      clock.advance(EXACT.baseMs);
      const owner = await backend.attempts.begin({ workerId: 'w2', leaseMs: LEASE });
      assert.equal(owner?.job.id, jobId, 'recovered and leased again');
      const before = await snapshot(backend, link.id, jobId);
      assert.equal(await backend.attempts.end(end()), 'lease-lost');
      const after = await snapshot(backend, link.id, jobId);
      assert.deepEqual(
        [after.link, after.espoLedger, after.advoLedger, after.echoOpen, after.conflicts],
        [before.link, before.espoLedger, before.advoLedger, before.echoOpen, before.conflicts],
      );
      assert.equal((await backend.store.runs.get(runId))?.outcome, 'FAILED');
    });
  });
}
