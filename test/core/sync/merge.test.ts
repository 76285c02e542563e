// The three-way merge by example: each policy, each direction, conflicts, and the collection cases.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CrmsyncError } from '../../../src/core/errors.ts';
import { mergeRecords, writesNothing } from '../../../src/core/sync/merge.ts';
import type {
  CanonicalRecord,
  CollectionItem,
  ConflictPolicy,
  FieldSpec,
} from '../../../src/core/sync/record.ts';
import { emails, mergeAndApply, scalar } from './fixtures.ts';

const A_WINS: ConflictPolicy = { kind: 'a-wins' };
const B_WINS: ConflictPolicy = { kind: 'b-wins' };
const MANUAL: ConflictPolicy = { kind: 'manual' };

/** Merges a link whose two sides were both at `base` before the edits. */
function fromSynced(
  fields: readonly FieldSpec[],
  base: CanonicalRecord,
  a: CanonicalRecord,
  b: CanonicalRecord,
) {
  return mergeAndApply({ fields, a: { ...base, ...a }, b: { ...base, ...b }, base: { a: base, b: base } });
}

function email(value: string, attributes: CollectionItem['attributes'] = {}): CollectionItem {
  return { value, attributes: { primary: false, ...attributes } };
}

describe('three-way merge of scalar fields', () => {
  const fields = [scalar('name', A_WINS), scalar('city', A_WINS)];
  const base = { name: 'Müller', city: 'Köln' };

  it('lets a change made on one side flow to the other and moves both bases to it', () => {
    const { result } = fromSynced(fields, base, { name: 'Müller GmbH' }, {});
    assert.deepEqual(result.writes.b.fields, { name: 'Müller GmbH' });
    assert.deepEqual(result.writes.a.fields, {});
    assert.deepEqual(result.base.a, { name: 'Müller GmbH', city: 'Köln' });
    assert.deepEqual(result.base.b, result.base.a);
    assert.deepEqual(result.deltas.a, [{ kind: 'scalar', field: 'name', from: 'Müller', to: 'Müller GmbH' }]);
    assert.deepEqual(result.deltas.b, []);
  });

  it('keeps concurrent changes to different fields on both sides', () => {
    const { a, b, result } = fromSynced(fields, base, { name: 'Schmidt' }, { city: 'Bonn' });
    assert.deepEqual(result.writes.a.fields, { city: 'Bonn' });
    assert.deepEqual(result.writes.b.fields, { name: 'Schmidt' });
    assert.deepEqual(a, { name: 'Schmidt', city: 'Bonn' });
    assert.deepEqual(b, a);
    assert.deepEqual(result.conflicts, []);
  });

  it('treats the same change on both sides as a no-op, not a conflict', () => {
    const { result } = fromSynced(fields, base, { name: 'Schmidt' }, { name: 'Schmidt' });
    assert.ok(writesNothing(result));
    assert.deepEqual(result.conflicts, []);
    assert.equal(result.base.a.name, 'Schmidt');
  });

  it('compares values by canonical JSON, whatever the order of object keys', () => {
    const address = [scalar('address', A_WINS)];
    const start = { address: { street: 'Hauptstr. 1', zip: '50667' } };
    const { result } = fromSynced(address, start, {}, { address: { zip: '50667', street: 'Hauptstr. 1' } });
    assert.ok(writesNothing(result));
  });

  it('settles a same-field conflict by a-wins and records both values, the base and the policy', () => {
    const { a, b, result } = fromSynced(fields, base, { name: 'A-Name' }, { name: 'B-Name' });
    assert.deepEqual(result.writes.b.fields, { name: 'A-Name' });
    assert.deepEqual(result.writes.a.fields, {});
    assert.equal(b.name, 'A-Name');
    assert.equal(a.name, 'A-Name');
    assert.deepEqual(result.conflicts, [
      {
        field: 'name',
        a: 'A-Name',
        b: 'B-Name',
        base: { a: 'Müller', b: 'Müller' },
        policy: A_WINS,
        outcome: 'a',
      },
    ]);
    assert.deepEqual(result.summary, { writesA: 0, writesB: 1, settled: 1, parked: 0 });
  });

  it('settles a same-field conflict by b-wins', () => {
    const { result } = fromSynced([scalar('name', B_WINS)], base, { name: 'A-Name' }, { name: 'B-Name' });
    assert.deepEqual(result.writes.a.fields, { name: 'B-Name' });
    assert.deepEqual(result.writes.b.fields, {});
    assert.equal(result.conflicts[0]?.outcome, 'b');
  });

  it('settles newest-wins by the change times, and a tie or an unknown time by the configured side', () => {
    const spec = [scalar('name', { kind: 'newest-wins', onTie: 'b' })];
    const merge = (times: { a?: number; b?: number }) =>
      mergeRecords({ fields: spec, a: { name: 'A' }, b: { name: 'B' }, base: { a: base, b: base }, times })
        .conflicts[0]?.outcome;
    assert.equal(merge({ a: 2_000, b: 1_000 }), 'a');
    assert.equal(merge({ a: 1_000, b: 2_000 }), 'b');
    assert.equal(merge({ a: 1_000, b: 1_000 }), 'b');
    assert.equal(merge({ a: 1_000 }), 'b');
    assert.equal(merge({}), 'b');
  });

  it('parks a manual conflict: no write and the old base for that field, while the other fields still merge', () => {
    const manual = [scalar('name', MANUAL), scalar('city', MANUAL)];
    const { a, b, result } = fromSynced(manual, base, { name: 'A-Name', city: 'Bonn' }, { name: 'B-Name' });
    assert.deepEqual(result.writes.a.fields, {});
    assert.deepEqual(result.writes.b.fields, { city: 'Bonn' });
    assert.deepEqual(result.base.a, { name: 'Müller', city: 'Bonn' });
    assert.deepEqual(result.base.b, { name: 'Müller', city: 'Bonn' });
    assert.deepEqual(result.conflicts, [
      {
        field: 'name',
        a: 'A-Name',
        b: 'B-Name',
        base: { a: 'Müller', b: 'Müller' },
        policy: MANUAL,
        outcome: 'parked',
      },
    ]);
    assert.deepEqual(result.summary, { writesA: 0, writesB: 1, settled: 0, parked: 1 });

    const again = mergeRecords({ fields: manual, a, b, base: result.base });
    assert.ok(writesNothing(again));
    assert.deepEqual(
      again.conflicts,
      result.conflicts,
      'a parked conflict is met again until it is resolved',
    );
  });

  it('lets a one-way field flow from its source only, overwriting a change on the receiving side', () => {
    const oneWay = [scalar('name', B_WINS, 'a-to-b'), scalar('city', A_WINS, 'b-to-a')];
    const received = fromSynced(oneWay, base, {}, { name: 'B-Name', city: 'Bonn' });
    assert.deepEqual(
      received.result.writes.b.fields,
      { name: 'Müller' },
      'b edited a field a owns: overwritten',
    );
    assert.deepEqual(received.result.writes.a.fields, { city: 'Bonn' });
    assert.deepEqual(received.result.conflicts, []);

    const both = fromSynced(
      oneWay,
      base,
      { name: 'A-Name', city: 'Aachen' },
      { name: 'B-Name', city: 'Bonn' },
    );
    assert.deepEqual(both.a, { name: 'A-Name', city: 'Bonn' });
    assert.deepEqual(both.b, both.a);
    assert.deepEqual(both.result.conflicts, [], 'a one-way field has no conflicts, whatever its policy');
  });

  it('on a first link takes a value present on one side only, and treats different values as a conflict', () => {
    const { a, b, result } = mergeAndApply({
      fields,
      a: { name: 'Müller' },
      b: { name: 'Mueller', city: 'Köln' },
      base: undefined,
    });
    assert.deepEqual(a, { name: 'Müller', city: 'Köln' });
    assert.deepEqual(b, a);
    assert.deepEqual(
      result.conflicts.map((conflict) => [conflict.field, conflict.outcome]),
      [['name', 'a']],
    );
  });

  it('ignores fields it is not configured for, and reads an absent field as null', () => {
    const { result } = fromSynced(fields, base, { internalId: 7 }, { city: null });
    assert.deepEqual(result.writes.a.fields, { city: null });
    assert.deepEqual(result.writes.b.fields, {});
    assert.deepEqual(Object.keys(result.base.a).sort(), ['city', 'name']);
  });
});

describe('three-way merge of collection fields', () => {
  const max = email('max@example.com', { type: 'work', primary: true });
  const home = email('home@example.com', { type: 'home' });
  const base = { emails: [max, home] };

  it('adds an item added on one side to the other, writing the full set and the created item', () => {
    const added = email('new@example.com', { type: 'work' });
    const { b, result } = fromSynced([emails(A_WINS)], base, { emails: [max, home, added] }, {});
    assert.deepEqual(result.writes.b.fields, { emails: [max, home, added] });
    assert.deepEqual(result.writes.b.items, { emails: { created: [added], updated: [], removed: [] } });
    assert.deepEqual(b.emails, [max, home, added]);
    assert.deepEqual(result.writes.a.fields, {});
  });

  it('removes an item removed on one side and untouched on the other', () => {
    const { result } = fromSynced([emails(A_WINS)], base, {}, { emails: [max] });
    assert.deepEqual(result.writes.a.fields, { emails: [max] });
    assert.deepEqual(result.writes.a.items, { emails: { created: [], updated: [], removed: [home] } });
    assert.deepEqual(result.deltas.b, [
      { kind: 'collection', field: 'emails', added: [], removed: [home], changed: [] },
    ]);
  });

  it('settles an item removed on one side and changed on the other by the policy, or parks it', () => {
    const changed = email('home@example.com', { type: 'work' });
    const removedOnA = { emails: [max] };
    const changedOnB = { emails: [max, changed] };

    const aWins = fromSynced([emails(A_WINS)], base, removedOnA, changedOnB);
    assert.deepEqual(aWins.b.emails, [max]);
    assert.deepEqual(aWins.result.conflicts, [
      {
        field: 'emails',
        item: 'home@example.com',
        a: null,
        b: { type: 'work' },
        base: { a: { type: 'home' }, b: { type: 'home' } },
        policy: A_WINS,
        outcome: 'a',
      },
    ]);

    const bWins = fromSynced([emails(B_WINS)], base, removedOnA, changedOnB);
    assert.deepEqual(bWins.a.emails, [max, changed], 'the changed item comes back on a');
    assert.deepEqual(bWins.result.writes.a.items, {
      emails: { created: [changed], updated: [], removed: [] },
    });

    const parked = fromSynced([emails(MANUAL)], base, removedOnA, changedOnB);
    assert.ok(writesNothing(parked.result));
    assert.equal(parked.result.conflicts[0]?.outcome, 'parked');
    assert.deepEqual(
      parked.result.base.a,
      { emails: [home, max] },
      'the base (in key order) keeps the item for the next merge to compare against',
    );
  });

  it('merges changes to different attributes of one item from both sides', () => {
    const a = { emails: [email('max@example.com', { type: 'private', primary: true }), home] };
    const b = { emails: [email('max@example.com', { type: 'work', primary: true, optOut: true }), home] };
    const merged = fromSynced([emails(A_WINS)], base, a, b);
    const expected = [email('max@example.com', { type: 'private', optOut: true, primary: true }), home];
    assert.deepEqual(merged.a.emails, expected);
    assert.deepEqual(merged.b.emails, expected);
    assert.deepEqual(merged.result.writes.a.items, {
      emails: { created: [], updated: [expected[0]], removed: [] },
    });
    assert.deepEqual(merged.result.conflicts, []);
  });

  it('settles a conflict on one attribute of one item and reports the item and attribute', () => {
    const a = { emails: [email('max@example.com', { type: 'private', primary: true }), home] };
    const b = { emails: [email('max@example.com', { type: 'other', primary: true }), home] };
    const merged = fromSynced([emails(B_WINS)], base, a, b);
    assert.deepEqual(merged.a.emails, b.emails);
    assert.deepEqual(merged.result.conflicts, [
      {
        field: 'emails',
        item: 'max@example.com',
        attribute: 'type',
        a: 'private',
        b: 'other',
        base: { a: 'work', b: 'work' },
        policy: B_WINS,
        outcome: 'b',
      },
    ]);
  });

  it('keeps at most one primary item: moving the primary on one side moves it on the other', () => {
    const moved = {
      emails: [
        email('max@example.com', { type: 'work' }),
        email('home@example.com', { type: 'home', primary: true }),
      ],
    };
    const { b, result } = fromSynced([emails(A_WINS)], base, moved, {});
    assert.deepEqual(b.emails, moved.emails);
    assert.deepEqual(result.deltas.a, [
      {
        kind: 'collection',
        field: 'emails',
        added: [],
        removed: [],
        changed: [],
        primary: { from: 'max@example.com', to: 'home@example.com' },
      },
    ]);
  });

  it('settles two different primaries as one conflict, so each side ends with exactly one primary item', () => {
    const third = email('third@example.com', { type: 'work' });
    const a = {
      emails: [
        email('max@example.com', { type: 'work' }),
        email('home@example.com', { type: 'home', primary: true }),
      ],
    };
    const b = {
      emails: [
        email('max@example.com', { type: 'work' }),
        home,
        { ...third, attributes: { type: 'work', primary: true } },
      ],
    };
    const merged = fromSynced([emails(A_WINS)], base, a, b);
    for (const side of [merged.a, merged.b]) {
      const primaries = (side.emails as CollectionItem[]).filter((item) => item.attributes.primary === true);
      assert.deepEqual(
        primaries.map((item) => item.value),
        ['home@example.com'],
      );
    }
    assert.deepEqual(
      merged.result.conflicts.map(({ field, item, attribute, a: valueA, b: valueB, outcome }) => ({
        field,
        item,
        attribute,
        valueA,
        valueB,
        outcome,
      })),
      [
        {
          field: 'emails',
          item: undefined,
          attribute: 'primary',
          valueA: 'home@example.com',
          valueB: 'third@example.com',
          outcome: 'a',
        },
      ],
    );
  });

  it('treats values with the same normalised key as one item and keeps each side its own spelling', () => {
    const spelled = { emails: [email('Max@Example.COM', { type: 'work', primary: true }), home] };
    const { result } = fromSynced([emails(A_WINS)], base, spelled, {
      emails: [max, email('home@example.com', { type: 'other' })],
    });
    assert.deepEqual(result.writes.a.fields, {
      emails: [spelled.emails[0], email('home@example.com', { type: 'other' })],
    });
    assert.deepEqual(result.writes.b.fields, {}, 'a respelling of a value is not a change');
  });

  it('writes a set that has twins or two primary items as one item per key and one primary', () => {
    const twins = {
      emails: [
        max,
        email('MAX@example.com', { type: 'home', primary: true }),
        { ...home, attributes: { type: 'home', primary: true } },
      ],
    };
    const { a, result } = mergeAndApply({
      fields: [emails(A_WINS)],
      a: twins,
      b: base,
      base: { a: base, b: base },
    });
    assert.deepEqual(a.emails, base.emails);
    assert.deepEqual(result.writes.b.fields, {});
  });

  it('uses the normaliser of the field, not a built-in one', () => {
    const phones: FieldSpec = {
      kind: 'collection',
      name: 'phones',
      direction: 'both',
      policy: A_WINS,
      normalise: (value) => value.replace(/[^\d+]/g, '').replace(/^0/, '+49'),
    };
    const start = { phones: [{ value: '+49 221 12345', attributes: { type: 'Office' } }] };
    const { result } = fromSynced(
      [phones],
      start,
      { phones: [{ value: '0221 / 12345', attributes: { type: 'Office' } }] },
      {},
    );
    assert.ok(writesNothing(result), 'the same number in another format is the same item');
  });

  it('lets a one-way collection flow from its source only', () => {
    const { b, result } = fromSynced(
      [emails(A_WINS, 'a-to-b')],
      base,
      {},
      { emails: [max, home, email('b-only@example.com')] },
    );
    assert.deepEqual(b.emails, base.emails);
    assert.deepEqual(result.writes.b.items, {
      emails: { created: [], updated: [], removed: [email('b-only@example.com')] },
    });
  });

  it('raises SYNC_COLLECTION_INVALID when a mapping puts something else than items in a collection field', () => {
    assert.throws(
      () =>
        mergeRecords({
          fields: [emails(A_WINS)],
          a: { emails: ['max@example.com'] },
          b: {},
          base: undefined,
        }),
      (error: unknown) =>
        error instanceof CrmsyncError && error.code === 'SYNC_COLLECTION_INVALID' && !error.retryable,
    );
  });
});
