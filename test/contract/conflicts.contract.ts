/**
 * Contract of the conflict inbox (src/ports/store.ts, ConflictRepository and OutcomeCommit.conflicts): runs
 * add and close conflicts in their outcome commit; a parked conflict is held once per link and place however
 * often merges report it, a settled one is history; operators resolve open conflicts; retention prunes only
 * closed ones. Outcome-commit atomicity (a refused commit stores none) is in outcome-commit.contract.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import { CrmsyncError, InputError, NotFoundError } from '../../src/core/errors.ts';
import type { RecordRef } from '../../src/core/types.ts';
import { jobRecordKey } from '../../src/core/types.ts';
import type { AttemptEndResult, Backend } from '../../src/ports/backend.ts';
import type {
  ConflictInput,
  ConflictRecord,
  ConflictResolution,
  Link,
  OutcomeCommit,
} from '../../src/ports/store.ts';
import type { ManualClock } from '../support/manual-clock.ts';
import { openFor } from './harness.ts';
import type { ContractBackendFactory } from './harness.ts';

const FLOW = 'beteiligte';
const ESPO: RecordRef = { connection: 'espocrm', entityType: 'CBeteiligte', id: 'e1' };
const ADVO: RecordRef = { connection: 'advoware', entityType: 'Beteiligte', id: '1001' };

/** Defines the conflict inbox contract suite for one backend. */
export function defineConflictsContract(adapter: string, factory: ContractBackendFactory): void {
  /** A backend with one link of ESPO and ADVO, and a way to end a run with an outcome commit. */
  const setup = async (t: TestContext) => {
    const { backend, clock } = await openFor(t, factory);
    const link = await saveLink(backend, ESPO, ADVO);
    let jobs = 0;
    /** Runs one job of its own to its end with `commit`; returns how it ended and the run's id. */
    const commitRun = async (commit: OutcomeCommit): Promise<{ result: AttemptEndResult; runId: string }> => {
      jobs += 1;
      const ref = { ...ESPO, id: `job-${jobs}` };
      await backend.queue.enqueue({ flow: FLOW, recordKey: jobRecordKey(FLOW, ref), payload: jobs });
      const attempt = await backend.attempts.begin({ workerId: 'w', leaseMs: 60_000 });
      assert.ok(attempt?.run, 'a job with its run');
      const result = await backend.attempts.end({
        jobId: attempt.job.id,
        leaseToken: attempt.job.leaseToken,
        runId: attempt.run.id,
        run: { outcome: 'COMPLETED', finishedAt: clock.now() },
        job: { kind: 'complete', state: 'COMPLETED' },
        commit,
      });
      return { result, runId: attempt.run.id };
    };
    /** Adds conflicts in a run's commit (which must settle) and returns the run's id. */
    const add = async (...conflicts: ConflictInput[]) => {
      const { result, runId } = await commitRun({ conflicts: { add: conflicts } });
      assert.equal(result, 'settled');
      return runId;
    };
    const parked = (overrides: Partial<ConflictInput> = {}): ConflictInput => ({
      flow: FLOW,
      linkId: link.id,
      field: 'name',
      item: null,
      attribute: null,
      a: 'Acme GmbH',
      b: 'ACME AG',
      base: { a: 'Acme', b: 'Acme' },
      policy: 'manual',
      outcome: 'parked',
      runId: null,
      ...overrides,
    });
    const conflicts = backend.store.conflicts;
    return { backend, clock, link, conflicts, commitRun, add, parked };
  };

  const byCli = (
    clock: ManualClock,
    value: ConflictResolution['value'] = 'Acme GmbH',
  ): ConflictResolution => ({
    take: 'value',
    value,
    by: 'cli',
    at: clock.now(),
  });

  describe(`Conflict inbox: ${adapter}`, () => {
    it('stores a parked conflict open, as the run reported it', async (t) => {
      const { clock, link, conflicts, add, parked } = await setup(t);
      await add(parked({ runId: 'run-x' }));
      const [stored, ...more] = await conflicts.list();
      assert.equal(more.length, 0);
      assert.deepEqual(stored, {
        id: stored!.id,
        flow: FLOW,
        linkId: link.id,
        field: 'name',
        item: null,
        attribute: null,
        a: 'Acme GmbH',
        b: 'ACME AG',
        base: { a: 'Acme', b: 'Acme' },
        policy: 'manual',
        outcome: 'parked',
        status: 'open',
        resolution: null,
        runId: 'run-x',
        createdAt: clock.now(),
        updatedAt: clock.now(),
      } satisfies ConflictRecord);
      assert.deepEqual(await conflicts.get(stored.id), stored);
      assert.equal(await conflicts.get('999999'), null);
    });

    it('stores a conflict a policy settled as closed history, each one a new row', async (t) => {
      const { clock, conflicts, add, parked } = await setup(t);
      const settled = parked({ policy: 'b-wins', outcome: 'b' });
      await add(settled);
      clock.advance(10);
      const given: ConflictResolution = { take: 'a', value: 'Acme GmbH', by: 'policy', at: 5 };
      await add({ ...settled, policy: 'newest-wins', outcome: 'a', resolution: given });
      const stored = await conflicts.list();
      assert.deepEqual(
        stored.map((conflict) => [conflict.status, conflict.outcome, conflict.resolution]),
        [
          ['closed', 'b', { take: 'b', value: 'ACME AG', by: 'policy', at: clock.now() - 10 }],
          ['closed', 'a', given],
        ],
      );
    });

    it('holds a parked conflict once: reported again, it updates the values, the run and the time', async (t) => {
      const { clock, conflicts, add, parked } = await setup(t);
      await add(parked({ runId: 'r1' }));
      const [first] = await conflicts.list();
      clock.advance(1_000);
      await add(parked({ a: 'Acme GmbH & Co', base: { a: 'Acme GmbH', b: 'Acme' }, runId: 'r2' }));
      const all = await conflicts.list();
      assert.equal(all.length, 1, 'one row in the inbox');
      assert.deepEqual(all[0], {
        ...first,
        a: 'Acme GmbH & Co',
        base: { a: 'Acme GmbH', b: 'Acme' },
        runId: 'r2',
        updatedAt: clock.now(),
      });
      assert.deepEqual(await conflicts.count('beteiligte'), { open: 1, resolved: 0, closed: 0 });
    });

    it('keeps a resolved conflict resolved, with its resolution, when a merge reports it again', async (t) => {
      const { clock, conflicts, add, parked } = await setup(t);
      await add(parked());
      const [open] = await conflicts.list();
      const resolution = byCli(clock);
      await conflicts.resolve(open!.id, resolution);
      clock.advance(1);
      await add(parked({ b: 'ACME AG (new)', runId: 'r3' }));
      const all = await conflicts.list();
      assert.deepEqual(
        all.map((conflict) => [
          conflict.id,
          conflict.status,
          conflict.resolution,
          conflict.b,
          conflict.runId,
        ]),
        [[open!.id, 'resolved', resolution, 'ACME AG (new)', 'r3']],
      );
    });

    it('tells places apart: another field, item or attribute, or another link, is another conflict', async (t) => {
      const { backend, conflicts, add, parked } = await setup(t);
      const other = await saveLink(backend, { ...ESPO, id: 'e2' }, { ...ADVO, id: '1002' });
      const places: Partial<ConflictInput>[] = [
        {},
        { field: 'city' },
        { field: 'emails', item: 'a@x.de', attribute: null },
        { field: 'emails', item: 'a@x.de', attribute: 'kind' },
        { field: 'emails', item: null, attribute: 'kind' },
        // An empty item key is a key, not "no item".
        { field: 'emails', item: '', attribute: null },
        { linkId: other.id },
      ];
      for (const place of places) await add(parked(place));
      for (const place of places) await add(parked({ ...place, b: 'again' }));
      const all = await conflicts.list();
      assert.equal(all.length, places.length);
      assert.ok(all.every((conflict) => conflict.b === 'again'));
      assert.deepEqual(
        (await conflicts.list({ linkId: other.id })).map((conflict) => conflict.linkId),
        [other.id],
      );
    });

    it('resolves an open conflict once; refuses an unknown id and one that is not open', async (t) => {
      const { clock, conflicts, add, parked } = await setup(t);
      await add(parked());
      const [open] = await conflicts.list();
      clock.advance(500);
      const resolution = byCli(clock, { nested: ['any', 'json'] });
      const resolved = await conflicts.resolve(open!.id, resolution);
      assert.deepEqual(resolved, { ...open, status: 'resolved', resolution, updatedAt: clock.now() });
      assert.deepEqual(await conflicts.get(open!.id), resolved);

      const notOpen = await conflicts.resolve(open!.id, byCli(clock)).then(
        () => assert.fail('resolved twice'),
        (error: unknown) => error,
      );
      assert.ok(notOpen instanceof InputError);
      assert.deepEqual([notOpen.code, notOpen.retryable], ['CONFLICT_NOT_OPEN', false]);
      assert.match(notOpen.message, /resolved/);
      assert.deepEqual((await conflicts.get(open!.id))?.resolution, resolution, 'unchanged');

      const missing = await conflicts.resolve('999999', byCli(clock)).catch((error: unknown) => error);
      assert.ok(missing instanceof NotFoundError);
      assert.deepEqual([missing.code, missing.retryable], ['CONFLICT_NOT_FOUND', false]);
      await assert.rejects(
        conflicts.resolve(open!.id, { ...byCli(clock), take: 'both' as 'a' }),
        (error: unknown) => error instanceof CrmsyncError && error.code === 'CONFLICT_RESOLUTION_INVALID',
      );
    });

    it('closes conflicts in a commit, recording the run; closing a closed or pruned one changes nothing', async (t) => {
      const { clock, conflicts, commitRun, add, parked } = await setup(t);
      await add(parked(), parked({ field: 'city' }));
      const [name, city] = await conflicts.list();
      await conflicts.resolve(name!.id, byCli(clock));
      clock.advance(100);
      const written: ConflictResolution = { take: 'value', value: 'Acme GmbH', by: 'cli', at: 1 };
      const moot: ConflictResolution = { take: 'a', value: 'Köln', by: 'policy', at: clock.now() };
      const close = [
        { id: name!.id, resolution: written },
        { id: city!.id, resolution: moot },
        { id: '999999', resolution: moot },
      ];
      const { result, runId } = await commitRun({ conflicts: { close } });
      assert.equal(result, 'settled');
      const closed = await conflicts.list({ status: 'closed' });
      assert.deepEqual(
        closed.map((conflict) => [conflict.id, conflict.resolution, conflict.runId, conflict.updatedAt]),
        [
          [name!.id, written, runId, clock.now()],
          [city!.id, moot, runId, clock.now()],
        ],
      );
      clock.advance(100);
      const again = await commitRun({ conflicts: { close: [{ id: name!.id, resolution: moot }] } });
      assert.equal(again.result, 'settled');
      assert.deepEqual(await conflicts.get(name!.id), closed[0], 'closing it again changed nothing');
      // The same place conflicts again later: a new open conflict, the closed one stays history.
      await add(parked());
      assert.deepEqual(await conflicts.count(FLOW), { open: 1, resolved: 0, closed: 2 });
    });

    it('adds before it closes: a conflict reported again and closed in one commit ends closed', async (t) => {
      const { clock, conflicts, commitRun, add, parked } = await setup(t);
      await add(parked());
      const [open] = await conflicts.list();
      const resolution = byCli(clock);
      const { result } = await commitRun({
        conflicts: { add: [parked({ b: 'again' })], close: [{ id: open!.id, resolution }] },
      });
      assert.equal(result, 'settled');
      assert.deepEqual(
        (await conflicts.list()).map((conflict) => [conflict.status, conflict.b]),
        [['closed', 'again']],
      );
    });

    it('gives a conflict linkId "" the id of the link its commit creates', async (t) => {
      const { backend, conflicts, commitRun, parked } = await setup(t);
      const created = {
        flow: FLOW,
        a: { ref: { ...ESPO, id: 'new' }, base: { name: 'Beta' }, version: '1' },
        b: { ref: { ...ADVO, id: 'new' }, base: { name: 'Beta' }, version: 'r1' },
        status: 'conflict' as const,
      };
      const { result } = await commitRun({ link: created, conflicts: { add: [parked({ linkId: '' })] } });
      assert.equal(result, 'settled');
      const link = await backend.store.links.findByRef(FLOW, created.a.ref);
      assert.ok(link);
      assert.deepEqual(
        (await conflicts.list()).map((conflict) => conflict.linkId),
        [link.id],
      );
    });

    it('refuses a commit with a conflict of no link, or of a link that does not exist, and stores none', async (t) => {
      const { backend, conflicts, commitRun, parked } = await setup(t);
      for (const [linkId, code] of [
        ['', 'CONFLICT_LINK_MISSING'],
        ['999999', 'LINK_NOT_FOUND'],
        ['not-an-id', 'LINK_NOT_FOUND'],
      ] as const) {
        const { result, runId } = await commitRun({ conflicts: { add: [parked(), parked({ linkId })] } });
        assert.equal(result, 'refused', linkId);
        const run = await backend.store.runs.get(runId);
        assert.deepEqual([run?.outcome, run?.error?.code], ['FAILED', code]);
      }
      const invalid = await commitRun({ conflicts: { add: [parked({ outcome: 'both' as 'a' })] } });
      assert.equal(invalid.result, 'refused');
      assert.equal((await backend.store.runs.get(invalid.runId))?.error?.code, 'CONFLICT_INVALID');
      assert.deepEqual(await conflicts.list(), []);
    });

    it('lists by flow, link and status, oldest first, after a cursor; counts per status', async (t) => {
      const { backend, clock, conflicts, add, parked } = await setup(t);
      const other = await saveLink(backend, { ...ESPO, id: 'e2' }, { ...ADVO, id: '1002' }, 'other-flow');
      await add(
        parked({ field: 'f0' }),
        parked({ field: 'f1', outcome: 'a', policy: 'a-wins' }),
        parked({ field: 'f2' }),
        parked({ field: 'f3', flow: 'other-flow', linkId: other.id }),
        parked({ field: 'f4' }),
      );
      const all = await conflicts.list();
      const ids = all.map((conflict) => conflict.id);
      assert.deepEqual(
        all.map((conflict) => conflict.field),
        ['f0', 'f1', 'f2', 'f3', 'f4'],
      );
      await conflicts.resolve(ids[2]!, byCli(clock));
      const idsOf = (list: ConflictRecord[]) => list.map((conflict) => conflict.id);
      assert.deepEqual(idsOf(await conflicts.list({ flow: FLOW })), [ids[0], ids[1], ids[2], ids[4]]);
      assert.deepEqual(idsOf(await conflicts.list({ flow: FLOW, status: 'open' })), [ids[0], ids[4]]);
      assert.deepEqual(idsOf(await conflicts.list({ status: 'open' })), [ids[0], ids[3], ids[4]]);
      assert.deepEqual(idsOf(await conflicts.list({ linkId: other.id })), [ids[3]]);
      assert.deepEqual(idsOf(await conflicts.list({ flow: FLOW, afterId: ids[0], limit: 2 })), [
        ids[1],
        ids[2],
      ]);
      assert.deepEqual(await conflicts.list({ linkId: 'not-an-id' }), []);
      assert.deepEqual(await conflicts.count(FLOW), { open: 2, resolved: 1, closed: 1 });
      assert.deepEqual(await conflicts.count('other-flow'), { open: 1, resolved: 0, closed: 0 });
      assert.deepEqual(await conflicts.count('no-flow'), { open: 0, resolved: 0, closed: 0 });
    });

    it('prunes closed conflicts updated before the cutoff, never open or resolved ones', async (t) => {
      const { clock, conflicts, commitRun, add, parked } = await setup(t);
      await add(parked({ field: 'settled-old', outcome: 'a', policy: 'a-wins' }));
      await add(
        parked({ field: 'open-old' }),
        parked({ field: 'resolved-old' }),
        parked({ field: 'closed-late' }),
      );
      const [, , resolvedOld, closedLate] = await conflicts.list();
      await conflicts.resolve(resolvedOld!.id, byCli(clock));
      clock.advance(1_000);
      // Closed after the cutoff: its update time counts, not its creation.
      await commitRun({ conflicts: { close: [{ id: closedLate!.id, resolution: byCli(clock) }] } });
      await add(parked({ field: 'settled-new', outcome: 'b', policy: 'b-wins' }));
      assert.equal(await conflicts.prune(clock.now()), 1);
      assert.deepEqual(
        (await conflicts.list()).map((conflict) => [conflict.field, conflict.status]),
        [
          ['open-old', 'open'],
          ['resolved-old', 'resolved'],
          ['closed-late', 'closed'],
          ['settled-new', 'closed'],
        ],
      );
      assert.deepEqual(await conflicts.count(FLOW), { open: 1, resolved: 1, closed: 2 });
      assert.equal(await conflicts.prune(clock.now()), 0);
    });
  });
}

async function saveLink(backend: Backend, a: RecordRef, b: RecordRef, flow = FLOW): Promise<Link> {
  return backend.store.links.save({
    flow,
    a: { ref: a, base: { name: 'Acme' }, version: '1' },
    b: { ref: b, base: { name: 'Acme' }, version: 'r1' },
    status: 'clean',
  });
}
