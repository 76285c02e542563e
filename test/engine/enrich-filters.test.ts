import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { ChangeEvent } from '../../src/core/types.ts';
import { DuplicateShield, normalizeCompanyName } from '../../src/engine/flows/enrich/duplicate-shield.ts';
import { EchoDetector } from '../../src/engine/flows/enrich/echo.ts';
import { EventFilter } from '../../src/engine/flows/enrich/filters.ts';
import { enrichOptionsSchema } from '../../src/engine/flows/enrich/options.ts';
import { openSqliteBackend } from '../../src/adapters/sqlite/index.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { makeTempDir } from '../support/temp-dir.ts';
import { join } from 'node:path';

const options = enrichOptionsSchema.parse({});
const filter = new EventFilter(options);

function event(overrides: Partial<ChangeEvent> & { vendorEvent: string }): ChangeEvent {
  const entityType = overrides.vendorEvent.startsWith('person') ? 'Person' : 'Contact';
  return {
    ref: { connection: 'so', entityType, id: '7' },
    kind: overrides.vendorEvent.endsWith('created') ? 'created' : 'updated',
    ...overrides,
  };
}

/** Echo checks for the filter tests (the real one, against the ledger, is tested below). */
const noEcho = () => Promise.resolve(false);
const allEchoes = () => Promise.resolve(true);

describe('enrich filters', () => {
  it('keeps created events and changes of watched columns, case-insensitively', async () => {
    assert.equal(await filter.verdict(event({ vendorEvent: 'contact.created' }), noEcho), null);
    assert.equal(
      await filter.verdict(event({ vendorEvent: 'contact.changed', changedFields: ['OrgNr'] }), noEcho),
      null,
    );
    assert.equal(
      await filter.verdict(event({ vendorEvent: 'person.changed', changedFields: ['position_idx'] }), noEcho),
      null,
    );
    assert.equal(
      await filter.verdict(
        event({ vendorEvent: 'contact.changed', changedFields: ['number1', 'updated'] }),
        noEcho,
      ),
      'irrelevant',
    );
  });

  it('skips echoes before the relevance filter', async () => {
    const echo = event({ vendorEvent: 'contact.changed', changedFields: ['userdef_id'], actorId: '528' });
    assert.equal(await filter.verdict(echo, allEchoes), 'echo');
    assert.deepEqual(await filter.triage([echo], allEchoes), {
      relevant: [],
      skipReason: "echo: this flow's own write coming back (write ledger)",
    });
  });

  it('names the changed columns when skipping as irrelevant, without bookkeeping columns', async () => {
    const triage = await filter.triage(
      [
        event({
          vendorEvent: 'contact.changed',
          changedFields: ['number1', 'updated', 'updated_associate_id'],
        }),
      ],
      noEcho,
    );
    assert.equal(triage.skipReason, 'irrelevant: changed number1; none of the watched columns');
  });

  it('treats unwatched events and deletions as irrelevant, without asking about echoes', async () => {
    const asked: ChangeEvent[] = [];
    const recordingEcho = (asking: ChangeEvent) => Promise.resolve(asked.push(asking) < 0);
    assert.equal(await filter.verdict(event({ vendorEvent: 'sale.changed' }), recordingEcho), 'unwatched');
    assert.equal(
      await filter.verdict(event({ vendorEvent: 'contact.deleted', kind: 'deleted' }), recordingEcho),
      'unwatched',
    );
    assert.deepEqual(asked, []);
  });

  it('a job with one relevant event among echoes has work', async () => {
    const echo = event({ vendorEvent: 'contact.changed', changedFields: ['userdef_id'], actorId: '528' });
    const triage = await filter.triage(
      [echo, event({ vendorEvent: 'contact.changed', changedFields: ['name'], actorId: '485' })],
      (asking) => Promise.resolve(asking === echo),
    );
    assert.equal(triage.relevant.length, 1);
    assert.equal(triage.skipReason, null);
  });
});

describe('echo detector (write ledger)', () => {
  const START = Date.UTC(2026, 10, 29, 9);
  const API_USER = '528';
  const ref = { connection: 'so', entityType: 'Contact', id: '7' };
  /** The webhook of our own UDF write, as SuperOffice sends it. */
  const udfChange = (overrides: Partial<ChangeEvent> = {}): ChangeEvent => ({
    ref,
    kind: 'updated',
    vendorEvent: 'contact.changed',
    changedFields: ['contact_id', 'updated', 'updated_associate_id', 'userdef_id', 'userdef2_id'],
    actorId: API_USER,
    occurredAt: new Date(START).toISOString(),
    ...overrides,
  });

  function world() {
    const clock = new ManualClock(START);
    const backend = openSqliteBackend({ path: ':memory:', durability: 'process', clock });
    const detector = new EchoDetector({ flow: 'enrich', store: backend.store, clock, windowMs: 60_000 });
    /** Records a write of `flow` to Contact 7 in the ledger, with its run, at the clock's time. */
    const wrote = async (flow: string) => {
      const runId = await backend.store.runs.start({
        jobId: `job-${flow}`,
        flow,
        ref,
        attempt: 1,
        startedAt: clock.now(),
      });
      await backend.store.ledger.record([
        { ref, field: 'SuperOffice:84', valueHash: 'h', version: null, runId, writtenAt: clock.now() },
      ]);
    };
    return { clock, backend, detector, wrote };
  }

  it("an API user's change the ledger does not know is not an echo (create-test-company, scripts)", async () => {
    const { backend, detector } = world();
    try {
      assert.equal(await detector.isEcho(udfChange(), API_USER), false);
      assert.equal(await detector.isEcho(udfChange({ changedFields: undefined }), API_USER), false);
    } finally {
      await backend.close();
    }
  });

  it('the webhook of our own write is an echo, by the API user or, changing only what we wrote, anyone', async () => {
    const { backend, detector, wrote } = world();
    try {
      await wrote('enrich');
      assert.equal(await detector.isEcho(udfChange(), API_USER), true);
      assert.equal(
        await detector.isEcho(udfChange({ actorId: '485' }), API_USER),
        true,
        'associate unreliable',
      );
      assert.equal(await detector.isEcho(udfChange({ changedFields: undefined }), API_USER), true);
      assert.equal(await detector.isEcho(udfChange(), null), true, 'API user not discovered');
    } finally {
      await backend.close();
    }
  });

  it("is never an echo: a creation, another column, no column list from someone else, another flow's write", async () => {
    const { backend, detector, wrote } = world();
    try {
      await wrote('enrich');
      const created = udfChange({ kind: 'created', vendorEvent: 'contact.created' });
      assert.equal(await detector.isEcho(created, API_USER), false);
      const renamed = udfChange({ changedFields: ['contact_id', 'updated', 'name'] });
      assert.equal(await detector.isEcho(renamed, API_USER), false);
      const unlisted = udfChange({ changedFields: undefined, actorId: '485' });
      assert.equal(await detector.isEcho(unlisted, API_USER), false);
      const other = world();
      try {
        await other.wrote('other-flow');
        assert.equal(await other.detector.isEcho(udfChange(), API_USER), false);
      } finally {
        await other.backend.close();
      }
    } finally {
      await backend.close();
    }
  });

  it('counts the window from when the change happened, so a queue backlog does not turn echoes into work', async () => {
    const { clock, backend, detector, wrote } = world();
    try {
      await wrote('enrich');
      clock.advance(10 * 60_000); // the echo's job runs ten minutes late
      assert.equal(await detector.isEcho(udfChange(), API_USER), true);
      const later = udfChange({ occurredAt: new Date(START + 2 * 60_000).toISOString() });
      assert.equal(await detector.isEcho(later, API_USER), false, 'a change two minutes after our write');
      assert.equal(await detector.isEcho(udfChange({ occurredAt: undefined }), API_USER), false);
    } finally {
      await backend.close();
    }
  });
});

describe('duplicate shield', () => {
  const temp = makeTempDir('crmsync-shield-');
  after(() => temp.remove());

  it('lets one job per normalised company name through within the window, and that job again on retry', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 29));
    const backend = openSqliteBackend({ path: join(temp.path, 'shield.db'), clock, durability: 'process' });
    try {
      const shield = new DuplicateShield({
        flow: 'enrich',
        windowMs: 5 * 60_000,
        locks: backend.locks,
        state: backend.store.connectorState,
        clock,
      });
      assert.equal(normalizeCompanyName('  ACME  GmbH.'), 'acme gmbh');
      assert.equal(await shield.claim('1', 'ACME GmbH'), true);
      assert.equal(await shield.claim('2', 'acme  gmbh'), false, 'another job, same name');
      assert.equal(await shield.claim('1', 'ACME GmbH'), true, 'the claiming job retried');
      clock.advance(5 * 60_000 + 1);
      assert.equal(await shield.claim('2', 'ACME GmbH'), true, 'after the window');
    } finally {
      await backend.close();
    }
  });
});
