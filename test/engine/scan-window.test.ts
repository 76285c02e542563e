/**
 * The scan window on its own (pure: no I/O): where a scan lists from for each `modifiedSince` semantics, which
 * (record, version) pairs it skips, what its checkpoint keeps, and which connectors it refuses.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CrmsyncError } from '../../src/core/errors.ts';
import type { ListCapabilities, VendorRecord } from '../../src/ports/connector.ts';
import { ScanWindow } from '../../src/engine/scan-window.ts';

const T = Date.UTC(2026, 5, 1, 10, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();
const EXCLUSIVE: ListCapabilities = {
  modifiedSince: 'exclusive',
  modifiedGranularityMs: 1_000,
  order: 'modified',
  paging: 'keyset',
};
const INCLUSIVE: ListCapabilities = { ...EXCLUSIVE, modifiedSince: 'inclusive' };

function record(id: string, ms: number, version = String(ms)): VendorRecord {
  return { entityType: 'Account', id, fields: {}, version, modifiedAt: iso(ms) };
}

describe('scan window', () => {
  for (const list of [EXCLUSIVE, INCLUSIVE]) {
    it(`lists from the position minus the granularity (${list.modifiedSince})`, () => {
      const window = new ScanWindow(undefined, iso(T), list);
      assert.equal(window.since, iso(T - 1_000));
      window.handled(record('a', T + 5_000));
      const resumed = new ScanWindow(window.toCheckpoint(), iso(0), list);
      assert.equal(resumed.since, iso(T + 4_000));
    });
  }

  it('skips the pairs it handled, not new versions of them, and forgets pairs older than the overlap', () => {
    const window = new ScanWindow(undefined, iso(T), EXCLUSIVE, 2_000);
    const old = record('old', T + 1_000);
    const edge = record('edge', T + 8_000);
    const newest = record('newest', T + 10_000);
    for (const each of [old, edge, newest]) window.handled(each);
    const resumed = new ScanWindow(window.toCheckpoint(), iso(0), EXCLUSIVE, 2_000);
    assert.equal(resumed.since, iso(T + 8_000), 'the larger of overlap and granularity');
    assert.equal(resumed.seen(edge), true);
    assert.equal(resumed.seen(newest), true);
    assert.equal(resumed.seen(old), false, 'outside the window: dropped from the checkpoint');
    assert.equal(resumed.seen(record('newest', T + 10_000, 'v2')), false, 'a new version is new');
    assert.deepEqual(Object.keys(window.toCheckpoint()['seen'] as object).sort(), [
      `edge@${T + 8_000}`,
      `newest@${T + 10_000}`,
    ]);
  });

  it('refuses a connector that cannot list by modification time, oldest first', () => {
    for (const list of [
      { ...EXCLUSIVE, modifiedSince: 'unsupported' as const },
      { ...INCLUSIVE, order: 'none' as const },
    ]) {
      assert.throws(
        () => new ScanWindow(undefined, iso(T), list),
        (error: unknown) => error instanceof CrmsyncError && error.code === 'SCAN_UNSUPPORTED',
      );
    }
  });
});
