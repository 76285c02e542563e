import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { ChangeEvent } from '../../src/core/types.ts';
import { DuplicateShield, normalizeCompanyName } from '../../src/engine/flows/enrich/duplicate-shield.ts';
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

describe('enrich filters', () => {
  it('keeps created events and changes of watched columns, case-insensitively', () => {
    assert.equal(filter.verdict(event({ vendorEvent: 'contact.created' }), '528'), null);
    assert.equal(
      filter.verdict(event({ vendorEvent: 'contact.changed', changedFields: ['OrgNr'] }), '528'),
      null,
    );
    assert.equal(
      filter.verdict(event({ vendorEvent: 'person.changed', changedFields: ['position_idx'] }), '528'),
      null,
    );
    assert.equal(
      filter.verdict(event({ vendorEvent: 'contact.changed', changedFields: ['number1', 'updated'] }), '528'),
      'irrelevant',
    );
  });

  it("skips the API user's own changes before anything else (echo)", () => {
    const echo = event({ vendorEvent: 'contact.changed', changedFields: ['userdef_id'], actorId: '528' });
    assert.equal(filter.verdict(echo, '528'), 'echo');
    assert.deepEqual(filter.triage([echo], '528'), {
      relevant: [],
      skipReason: "echo: made by the API user (associate 528), this flow's own write",
    });
  });

  it('names the changed columns when skipping as irrelevant, without bookkeeping columns', () => {
    const triage = filter.triage(
      [
        event({
          vendorEvent: 'contact.changed',
          changedFields: ['number1', 'updated', 'updated_associate_id'],
        }),
      ],
      '528',
    );
    assert.equal(triage.skipReason, 'irrelevant: changed number1; none of the watched columns');
  });

  it('treats unwatched events and deletions as irrelevant', () => {
    assert.equal(filter.verdict(event({ vendorEvent: 'sale.changed' }), null), 'unwatched');
    assert.equal(
      filter.verdict(event({ vendorEvent: 'contact.deleted', kind: 'deleted' }), null),
      'unwatched',
    );
  });

  it('a job with one relevant event among echoes has work', () => {
    const triage = filter.triage(
      [
        event({ vendorEvent: 'contact.changed', changedFields: ['userdef_id'], actorId: '528' }),
        event({ vendorEvent: 'contact.changed', changedFields: ['name'], actorId: '485' }),
      ],
      '528',
    );
    assert.equal(triage.relevant.length, 1);
    assert.equal(triage.skipReason, null);
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
