/**
 * The `generic` connector has no vendor API and no simulator: what the contract asks of it is that its
 * capabilities say so (`records: false`) and that read, write and list then reject instead of pretending.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openSqliteBackend } from '../../src/adapters/sqlite/index.ts';
import { UnsupportedOperationError } from '../../src/core/errors.ts';
import { genericConnector } from '../../src/connectors/generic/index.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { silentLogger } from '../engine/support.ts';

describe('connector contract: generic (webhook-only)', () => {
  it('declares no records API, and read, write and list reject', async () => {
    const clock = new ManualClock();
    const backend = openSqliteBackend({ path: ':memory:', durability: 'process', clock });
    const connector = genericConnector.create({
      connection: 'source',
      options: genericConnector.optionsSchema.parse({ secret: 'generic-test-secret-0123456789' }),
      clock,
      logger: silentLogger,
      apiCalls: { record: () => undefined },
      state: backend.store.connectorState,
    });
    assert.deepEqual(connector.capabilities, {
      records: false,
      conditionalWrite: 'none',
      deletes: false,
      versionPerWrite: false,
      comparesOverwrittenValues: false,
      list: { modifiedSince: 'unsupported', modifiedGranularityMs: 0, order: 'none', paging: 'offset' },
    });
    assert.ok(!('enrichTarget' in connector), 'no enrich target');
    await assert.rejects(connector.read('Contact', '1'), UnsupportedOperationError);
    await assert.rejects(connector.write({ entityType: 'Contact', fields: {} }), UnsupportedOperationError);
    await assert.rejects(connector.list({ entityType: 'Contact' }), UnsupportedOperationError);
    await connector.close();
    await backend.close();
  });
});
