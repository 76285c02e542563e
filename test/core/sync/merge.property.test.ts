// Properties of the three-way merge, over random records, bases, policies and directions (fast-check).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { mergeRecords, writesNothing } from '../../../src/core/sync/merge.ts';
import type { MergeResult } from '../../../src/core/sync/merge.ts';
import type {
  CanonicalRecord,
  ConflictPolicy,
  Direction,
  FieldSpec,
  Side,
} from '../../../src/core/sync/record.ts';
import type { MergeConflict } from '../../../src/core/sync/slot.ts';
import type { JsonValue } from '../../../src/core/types.ts';
import { testSeed } from '../../contract/seeded-random.ts';
import { emails, json, mergeAndApply, scalar, shape, synced } from './fixtures.ts';

const SEED = testSeed(20_261_204);
const RUNS = 1_000;
const SCALARS = ['name', 'phone', 'owner', 'note'];

const policy: fc.Arbitrary<ConflictPolicy> = fc.constantFrom<ConflictPolicy>(
  { kind: 'a-wins' },
  { kind: 'b-wins' },
  { kind: 'manual' },
  { kind: 'newest-wins', onTie: 'a' },
  { kind: 'newest-wins', onTie: 'b' },
);
const direction = fc.constantFrom<Direction>('both', 'both', 'a-to-b', 'b-to-a');
const rules = fc.record({ policy, direction });
const fieldsArb: fc.Arbitrary<FieldSpec[]> = fc
  .tuple(fc.array(rules, { minLength: SCALARS.length, maxLength: SCALARS.length }), rules)
  .map(([scalarRules, emailRules]) => [
    ...SCALARS.map((name, index) => scalar(name, scalarRules[index]!.policy, scalarRules[index]!.direction)),
    emails(emailRules.policy, emailRules.direction),
  ]);

// Small domains, so that the same value, the same key and the same attribute meet often.
const scalarValue = fc.constantFrom<JsonValue>(null, 'x', 'y', 'z', 1, true, { k: 1, j: [2] }, ['l']);
const item = fc.record({
  value: fc.constantFrom('Max@X.de', 'max@x.de', 'b@x.de', 'C@x.de', 'd@x.de'),
  attributes: fc.record(
    { type: fc.constantFrom<JsonValue>('work', 'home', null), optOut: fc.boolean(), primary: fc.boolean() },
    { requiredKeys: [] },
  ),
});
const recordArb: fc.Arbitrary<CanonicalRecord> = fc.record(
  {
    ...Object.fromEntries(SCALARS.map((name) => [name, scalarValue])),
    emails: fc.array(item, { maxLength: 5 }),
  },
  { requiredKeys: [] },
);
const time = fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined });
const timesArb = fc.record({ a: time, b: time });

function check<T>(t: { diagnostic(message: string): void }, property: fc.IPropertyWithHooks<T>): void {
  t.diagnostic(`fast-check seed ${SEED} (CRMSYNC_TEST_SEED), ${RUNS} runs`);
  fc.assert(property, { seed: SEED, numRuns: RUNS });
}

describe('three-way merge properties', () => {
  it('writes nothing when each side equals its base', (t) => {
    check(
      t,
      fc.property(fieldsArb, recordArb, recordArb, timesArb, (fields, rawA, rawB, times) => {
        const a = synced(fields, rawA);
        const b = synced(fields, rawB);
        const result = mergeRecords({ fields, a, b, base: { a, b }, times });
        assert.ok(writesNothing(result), json(result.writes));
        assert.deepEqual(result.conflicts, []);
      }),
    );
  });

  it('writes nothing when the written result is merged again against the new base', (t) => {
    check(
      t,
      fc.property(
        fieldsArb,
        fc.tuple(recordArb, recordArb, recordArb, recordArb),
        fc.boolean(),
        timesArb,
        (fields, [a, b, baseA, baseB], firstLink, times) => {
          const first = mergeAndApply({
            fields,
            a,
            b,
            base: firstLink ? undefined : { a: baseA, b: baseB },
            times,
          });
          const again = mergeRecords({ fields, a: first.a, b: first.b, base: first.result.base, times });
          assert.ok(writesNothing(again), json(again.writes));
          assert.equal(json(again.base), json(first.result.base));
          const parked = first.result.conflicts.filter((conflict) => conflict.outcome === 'parked');
          assert.equal(again.conflicts.length, parked.length, 'only parked conflicts are met again');
        },
      ),
    );
  });

  it('never loses an edit made on one side only, whatever the other side edited elsewhere', (t) => {
    const editor = fc.constantFrom<Side | 'none'>('a', 'b', 'none');
    check(
      t,
      fc.property(
        fieldsArb,
        recordArb,
        recordArb,
        fc.array(editor, { minLength: SCALARS.length + 1, maxLength: SCALARS.length + 1 }),
        timesArb,
        (fields, raw, edit, editors, times) => {
          const start = synced(fields, raw);
          const edited = (side: Side): CanonicalRecord => ({
            ...start,
            ...Object.fromEntries(
              fields
                .filter((spec, index) => editors[index] === side && edit[spec.name] !== undefined)
                .map((spec) => [spec.name, edit[spec.name]]),
            ),
          });
          const input = { fields, a: edited('a'), b: edited('b'), base: { a: start, b: start }, times };
          const merged = mergeAndApply(input);
          assert.deepEqual(merged.result.conflicts, []);
          fields.forEach((spec, index) => {
            const by = editors[index]!;
            if (by === 'none') return;
            const flowsFrom: Side =
              spec.direction === 'a-to-b' ? 'a' : spec.direction === 'b-to-a' ? 'b' : by;
            const expected = shape(flowsFrom === by ? input[by] : start, spec);
            assert.deepEqual(shape(merged.a, spec), expected, `${spec.name} on a`);
            assert.deepEqual(shape(merged.b, spec), expected, `${spec.name} on b`);
          });
        },
      ),
    );
  });

  it('never loses item edits made on one side only, when the sides edit different items', (t) => {
    const keys = ['max@x.de', 'b@x.de', 'c@x.de', 'd@x.de'];
    const itemEdit = fc.record({
      by: fc.constantFrom<Side | 'none'>('a', 'b', 'none'),
      present: fc.boolean(),
      type: fc.constantFrom('work', 'home', 'other'),
    });
    check(
      t,
      fc.property(
        policy,
        fc.array(itemEdit, { minLength: keys.length, maxLength: keys.length }),
        fc.array(fc.boolean(), { minLength: keys.length, maxLength: keys.length }),
        (conflictPolicy, edits, inStart) => {
          const fields = [emails(conflictPolicy)];
          const list = (side: Side | 'start') =>
            keys.flatMap((value, index) => {
              const change = edits[index]!;
              if (change.by !== side) return inStart[index] ? [{ value, attributes: { type: 'start' } }] : [];
              return change.present ? [{ value, attributes: { type: change.type } }] : [];
            });
          const start = synced(fields, { emails: list('start') });
          const merged = mergeAndApply({
            fields,
            a: { emails: list('a') },
            b: { emails: list('b') },
            base: { a: start, b: start },
          });
          assert.deepEqual(merged.result.conflicts, []);
          const expected = Object.fromEntries(
            keys.flatMap((key, index) => {
              const change = edits[index]!;
              if (change.by === 'none') return inStart[index] ? [[key, { type: 'start' }]] : [];
              return change.present ? [[key, { type: change.type }]] : [];
            }),
          );
          for (const side of [merged.a, merged.b])
            assert.deepEqual(shape(side, fields[0]!), { items: expected, primary: null });
        },
      ),
    );
  });

  it('leaves both sides agreeing on every field after edits on both sides, except where a conflict is parked', (t) => {
    check(
      t,
      fc.property(
        fieldsArb,
        recordArb,
        recordArb,
        recordArb,
        timesArb,
        (fields, raw, editA, editB, times) => {
          const start = synced(fields, raw);
          const merged = mergeAndApply({
            fields,
            a: { ...start, ...editA },
            b: { ...start, ...editB },
            base: { a: start, b: start },
            times,
          });
          const parked = new Set(
            merged.result.conflicts
              .filter((conflict) => conflict.outcome === 'parked')
              .map(({ field }) => field),
          );
          for (const spec of fields) {
            if (!parked.has(spec.name))
              assert.deepEqual(shape(merged.a, spec), shape(merged.b, spec), spec.name);
          }
        },
      ),
    );
  });

  it('gives the mirrored result when the sides, their bases, times, directions and policies are swapped', (t) => {
    check(
      t,
      fc.property(
        fieldsArb,
        fc.tuple(recordArb, recordArb, recordArb, recordArb),
        fc.boolean(),
        timesArb,
        (fields, [a, b, baseA, baseB], firstLink, times) => {
          const result = mergeRecords({
            fields,
            a,
            b,
            base: firstLink ? undefined : { a: baseA, b: baseB },
            times,
          });
          const swapped = mergeRecords({
            fields: fields.map(mirrorSpec),
            a: b,
            b: a,
            base: firstLink ? undefined : { a: baseB, b: baseA },
            times: { a: times.b, b: times.a },
          });
          assert.equal(json(mirrorResult(swapped)), json(result));
        },
      ),
    );
  });
});

function mirrorSide(side: Side): Side {
  return side === 'a' ? 'b' : 'a';
}

function mirrorPolicy(policy: ConflictPolicy): ConflictPolicy {
  if (policy.kind === 'a-wins') return { kind: 'b-wins' };
  if (policy.kind === 'b-wins') return { kind: 'a-wins' };
  if (policy.kind === 'newest-wins') return { kind: 'newest-wins', onTie: mirrorSide(policy.onTie) };
  return policy;
}

function mirrorSpec(spec: FieldSpec): FieldSpec {
  const direction: Direction =
    spec.direction === 'a-to-b' ? 'b-to-a' : spec.direction === 'b-to-a' ? 'a-to-b' : 'both';
  return { ...spec, direction, policy: mirrorPolicy(spec.policy) };
}

function mirrorConflict(conflict: MergeConflict): MergeConflict {
  return {
    ...conflict,
    a: conflict.b,
    b: conflict.a,
    base: { a: conflict.base.b, b: conflict.base.a },
    policy: mirrorPolicy(conflict.policy),
    outcome: conflict.outcome === 'parked' ? 'parked' : mirrorSide(conflict.outcome),
  };
}

function mirrorResult(result: MergeResult): MergeResult {
  return {
    writes: { a: result.writes.b, b: result.writes.a },
    base: { a: result.base.b, b: result.base.a },
    conflicts: result.conflicts.map(mirrorConflict),
    deltas: { a: result.deltas.b, b: result.deltas.a },
    summary: { ...result.summary, writesA: result.summary.writesB, writesB: result.summary.writesA },
  };
}
