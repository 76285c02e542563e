/** Operators' resolutions applied to a merge: the chosen value reaches both sides and ends the parked conflict. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergeRecords } from '../../../src/core/sync/merge.ts';
import type { FieldSpec } from '../../../src/core/sync/record.ts';
import { applyResolutions } from '../../../src/core/sync/resolve.ts';

const FIELDS: FieldSpec[] = [
  { kind: 'scalar', name: 'name', direction: 'both', policy: { kind: 'manual' } },
  { kind: 'scalar', name: 'city', direction: 'both', policy: { kind: 'manual' } },
];
const base = { a: { name: 'Acme', city: 'Bonn' }, b: { name: 'Acme', city: 'Bonn' } };
const current = { a: { name: 'Acme A', city: 'Köln' }, b: { name: 'Acme B', city: 'Bonn' } };

describe('applyResolutions', () => {
  const merged = mergeRecords({ fields: FIELDS, ...current, base });

  it('writes the side taken to the other side only, sets both bases and drops the parked conflict', () => {
    assert.equal(merged.summary.parked, 1);
    const resolved = applyResolutions(merged, current, FIELDS, [{ field: 'name', take: 'b' }]);
    assert.deepEqual(resolved.writes.a.fields, { name: 'Acme B' });
    assert.deepEqual(resolved.writes.b.fields, { city: 'Köln' });
    assert.deepEqual([resolved.base.a['name'], resolved.base.b['name']], ['Acme B', 'Acme B']);
    assert.deepEqual([resolved.conflicts.length, resolved.summary.parked], [0, 0]);
  });

  it('an operator value is written to both sides; merging the written records again writes nothing', () => {
    const resolved = applyResolutions(merged, current, FIELDS, [
      { field: 'name', take: 'value', value: 'ACME' },
    ]);
    assert.deepEqual(resolved.writes.a.fields, { name: 'ACME' });
    assert.deepEqual(resolved.writes.b.fields, { name: 'ACME', city: 'Köln' });
    const again = mergeRecords({
      fields: FIELDS,
      a: { ...current.a, ...resolved.writes.a.fields },
      b: { ...current.b, ...resolved.writes.b.fields },
      base: resolved.base,
    });
    assert.deepEqual([again.summary.writesA, again.summary.writesB, again.conflicts.length], [0, 0, 0]);
  });

  it('no resolutions return the merge unchanged; a resolution of an unknown field is ignored', () => {
    assert.equal(applyResolutions(merged, current, FIELDS, []), merged);
    const ignored = applyResolutions(merged, current, FIELDS, [{ field: 'nope', take: 'a' }]);
    assert.deepEqual(ignored.writes, merged.writes);
    assert.equal(ignored.summary.parked, 1);
  });
});
