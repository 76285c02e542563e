import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { jobRecordKey, parseJobRecordKey } from '../../src/core/types.ts';
import { DuplicateFlowError, HandlerRegistry, UnknownFlowError } from '../../src/engine/handlers.ts';
import type { FlowHandler } from '../../src/engine/handlers.ts';

const done: FlowHandler = () => Promise.resolve({ outcome: 'COMPLETED' });

describe('HandlerRegistry', () => {
  test('resolves registered flows and lists them in order', () => {
    const registry = new HandlerRegistry();
    registry.register('sync', done);
    registry.register('enrich', done);
    assert.equal(registry.resolve('sync'), done);
    assert.deepEqual(registry.flows(), ['sync', 'enrich']);
  });

  test('refuses a second handler for a flow', () => {
    const registry = new HandlerRegistry();
    registry.register('sync', done);
    assert.throws(
      () => registry.register('sync', done),
      (error: unknown) => {
        assert.ok(error instanceof DuplicateFlowError);
        assert.equal(error.code, 'FLOW_DUPLICATE');
        return true;
      },
    );
  });

  test('an unknown flow is a non-retryable FLOW_UNKNOWN', () => {
    assert.throws(
      () => new HandlerRegistry().resolve('gone'),
      (error: unknown) => {
        assert.ok(error instanceof UnknownFlowError);
        assert.equal(error.code, 'FLOW_UNKNOWN');
        assert.equal(error.retryable, false);
        return true;
      },
    );
  });
});

describe('job record keys', () => {
  test('round-trip, with ids that contain / and |', () => {
    const ref = { connection: 'espo', entityType: 'CBeteiligte', id: 'a/b|c' };
    const key = jobRecordKey('sync-main', ref);
    assert.equal(key, 'sync-main|espo/CBeteiligte/a/b|c');
    assert.deepEqual(parseJobRecordKey(key), { flow: 'sync-main', ref });
  });

  test('malformed keys parse to null', () => {
    for (const key of [
      '',
      'no-flow',
      '|crm/Contact/1',
      'flow|crm/Contact',
      'flow|crm//1',
      'flow|crm/Contact/',
    ]) {
      assert.equal(parseJobRecordKey(key), null, key);
    }
  });
});
