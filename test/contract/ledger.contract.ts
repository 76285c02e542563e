/**
 * Contract of the write ledger's intents and echo matching (src/ports/store.ts, WriteLedger): intents are
 * open entries without a version, the outcome commit confirms them (see outcome-commit.contract.ts), and
 * matchEcho finds the entries that explain a change event, by version token or by every field's value hash.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import { valueHash } from '../../src/core/canonical.ts';
import type { RecordRef } from '../../src/core/types.ts';
import type { LedgerIntent } from '../../src/ports/store.ts';
import { openFor } from './harness.ts';
import type { ContractBackendFactory } from './harness.ts';

const ACCOUNT: RecordRef = { connection: 'espocrm', entityType: 'CBeteiligte', id: '6543aa' };
const OTHER: RecordRef = { ...ACCOUNT, id: '77' };

function intent(field: string, value: string, writtenAt = 1_000, ref = ACCOUNT): LedgerIntent {
  return { ref, field, valueHash: valueHash(value), runId: 'run-1', writtenAt };
}

/** Defines the ledger contract suite for one adapter. */
export function defineLedgerContract(adapter: string, factory: ContractBackendFactory): void {
  const open = async (t: TestContext) => (await openFor(t, factory)).backend.store.ledger;

  describe(`WriteLedger intents and echoes: ${adapter}`, () => {
    it('records intents in one step and returns their ids in input order', async (t) => {
      const ledger = await open(t);
      const ids = await ledger.recordIntents([intent('name', 'Acme'), intent('city', 'Köln')]);
      assert.equal(ids.length, 2);
      assert.equal(new Set(ids).size, 2);
      assert.deepEqual(await ledger.recordIntents([]), []);
      const found = await ledger.find(ACCOUNT, 0);
      assert.deepEqual(found.map((entry) => [entry.field, entry.version, entry.runId]).sort(), [
        ['city', null, 'run-1'],
        ['name', null, 'run-1'],
      ]);
    });

    it('matches an echo by field and value hash when every changed field is one we wrote', async (t) => {
      const ledger = await open(t);
      const [name, city] = await ledger.recordIntents([intent('name', 'Acme'), intent('city', 'Köln')]);
      assert.deepEqual(await ledger.matchEcho(ACCOUNT, { fields: { name: valueHash('Acme') } }), {
        by: 'fields',
        entryIds: [name],
        runIds: ['run-1'],
      });
      const both = await ledger.matchEcho(ACCOUNT, {
        fields: { name: valueHash('Acme'), city: valueHash('Köln') },
      });
      assert.deepEqual([both?.by, [...(both?.entryIds ?? [])].sort()], ['fields', [name, city].sort()]);
    });

    it('matches no echo when a field differs, was not written by us, or nothing is given', async (t) => {
      const ledger = await open(t);
      await ledger.recordIntents([intent('name', 'Acme')]);
      const none = async (query: Parameters<typeof ledger.matchEcho>[1], ref = ACCOUNT) =>
        assert.equal(await ledger.matchEcho(ref, query), null, JSON.stringify(query));
      await none({ fields: { name: valueHash('Acme GmbH') } });
      await none({ fields: { name: valueHash('Acme'), phone: valueHash('+49') } });
      await none({ fields: {} });
      await none({ version: 'v9', fields: {} });
      await none({ fields: { name: valueHash('Acme') } }, OTHER);
    });

    it('takes the newest entry of a field that was written twice with the same value', async (t) => {
      const ledger = await open(t);
      await ledger.recordIntents([intent('name', 'Acme', 1_000)]);
      const [newer] = await ledger.recordIntents([intent('name', 'Acme', 2_000)]);
      const match = await ledger.matchEcho(ACCOUNT, { fields: { name: valueHash('Acme') } });
      assert.deepEqual(match?.entryIds, [newer]);
    });

    it('matches by version token the confirmed entries of the write that produced it', async (t) => {
      const ledger = await open(t);
      await ledger.record([
        { ...intent('name', 'Acme'), version: 'v7' },
        { ...intent('city', 'Köln'), version: 'v7' },
        { ...intent('name', 'Old'), version: 'v6', runId: 'run-0' },
      ]);
      const match = await ledger.matchEcho(ACCOUNT, {
        version: 'v7',
        // A version match does not need the fields: the record is exactly the version our write produced.
        fields: { name: valueHash('something else') },
      });
      assert.equal(match?.by, 'version');
      assert.equal(match.entryIds.length, 2);
      assert.deepEqual(match.runIds, ['run-1']);
      const byFields = await ledger.matchEcho(ACCOUNT, { version: 'v8', fields: { name: valueHash('Old') } });
      assert.equal(byFields?.by, 'fields', 'an unknown version falls back to the field hashes');
    });

    it('is a pure read: matching twice gives the same match', async (t) => {
      const ledger = await open(t);
      await ledger.recordIntents([intent('name', 'Acme')]);
      const query = { fields: { name: valueHash('Acme') } };
      assert.deepEqual(await ledger.matchEcho(ACCOUNT, query), await ledger.matchEcho(ACCOUNT, query));
    });
  });
}
