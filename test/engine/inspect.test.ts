import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inspectOptionsSchema, summarizeEvents } from '../../src/engine/flows/inspect.ts';

const ref = { connection: 'so', entityType: 'Contact', id: '42' };

describe('inspect flow', () => {
  test('summarises kinds, changed fields and vendor event names', () => {
    const summary = summarizeEvents([
      { ref, kind: 'updated', vendorEvent: 'contact.changed', changedFields: ['name', 'phone'] },
      { ref, kind: 'created', vendorEvent: 'contact.created' },
      { ref, kind: 'updated', vendorEvent: 'contact.changed', changedFields: ['email', 'name'] },
    ]);
    assert.equal(
      summary,
      '3 events (created 1, updated 2); fields: email, name, phone; vendor events: contact.changed, contact.created',
    );
  });

  test('says when the queue kept only the latest payloads', () => {
    assert.equal(summarizeEvents([{ ref, kind: 'deleted' }], 250), '250 events (deleted 1), last 1 kept');
  });

  test('copes with payloads that are not change events', () => {
    assert.equal(summarizeEvents([{ tickAt: 1 }, 'ping', null]), '3 events (unknown 3)');
  });

  test('shortens long field lists', () => {
    const changedFields = Array.from({ length: 25 }, (_, index) => `f${String(index).padStart(2, '0')}`);
    const summary = summarizeEvents([{ ref, kind: 'updated', changedFields }]);
    assert.match(summary, /fields: f00, f01, .*, f19 and 5 more$/);
  });

  test('takes no options and rejects unknown ones', () => {
    assert.deepEqual(inspectOptionsSchema.parse({}), {});
    assert.equal(inspectOptionsSchema.safeParse({ verbose: true }).success, false);
  });
});
