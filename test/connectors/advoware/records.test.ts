/** Pure helpers over Beteiligte bodies: GET shapes, created ids, the read-modify-write merge. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../../../src/core/errors.ts';
import { sentOnly } from '../../../src/connectors/advoware/endpoints.ts';
import {
  createdIdOf,
  isNaturalPerson,
  mergeForPut,
  rowIdOf,
  singleRecord,
} from '../../../src/connectors/advoware/records.ts';

describe('advoware record helpers', () => {
  it('reads a GET-by-id answer as an object or a one-element array', () => {
    assert.deepEqual(singleRecord({ betNr: 1 }), { betNr: 1 });
    assert.deepEqual(singleRecord([{ betNr: 1 }]), { betNr: 1 });
    assert.equal(singleRecord([]), null);
    assert.equal(singleRecord(null), null);
    assert.equal(singleRecord([{ betNr: 1 }, { betNr: 2 }]), undefined, 'two records are ambiguous');
    assert.equal(singleRecord('Fehler'), undefined);
  });

  it('reads the id of a create answer in every shape the seed allows', () => {
    assert.equal(createdIdOf(42, 'betNr'), '42');
    assert.equal(createdIdOf('42', 'betNr'), '42');
    assert.equal(createdIdOf({ betNr: 42, rowId: 'x' }, 'betNr'), '42');
    assert.equal(createdIdOf({ BetNr: '42' }, 'betNr'), '42', 'case-insensitive');
    assert.equal(createdIdOf([{ id: 42 }], 'betNr'), '42', 'falls back to id');
    assert.equal(createdIdOf({ ok: true }, 'betNr'), undefined);
    assert.equal(createdIdOf(null, 'betNr'), undefined);
  });

  it('merges changes into the whole record, keeping untouched fields and key spelling', () => {
    const current = { betNr: 7, rowId: 'AAA=', name: 'Muster', vorname: 'Max', kommunikation: [{ id: 1 }] };
    const merged = mergeForPut(current, { Name: 'Mustermann', ort: 'Köln' }, ['betNr', 'rowId']);
    assert.deepEqual(merged, {
      betNr: 7,
      rowId: 'AAA=',
      name: 'Mustermann',
      vorname: 'Max',
      kommunikation: [{ id: 1 }],
      ort: 'Köln',
    });
    assert.equal(current.name, 'Muster', 'the record as read is not changed');
  });

  it('keeps read-only fields and refuses to change them', () => {
    assert.deepEqual(mergeForPut({ betNr: 7, rowId: 'A' }, { betNr: '7', rowId: 'A' }, ['betNr', 'rowId']), {
      betNr: 7,
      rowId: 'A',
    });
    assert.throws(
      () => mergeForPut({ betNr: 7, rowId: 'A' }, { betNr: 8 }, ['betNr', 'rowId']),
      (error: unknown) => error instanceof InputError && error.code === 'ADVOWARE_FIELD_READ_ONLY',
    );
  });

  it('reads rowId and the person/company rule', () => {
    assert.equal(rowIdOf({ rowId: 'abc' }), 'abc');
    assert.equal(rowIdOf({ RowId: 'abc' }), 'abc');
    assert.equal(rowIdOf({ rowId: '' }), null);
    assert.equal(isNaturalPerson({ vorname: 'Max', name: 'Muster' }), true);
    assert.equal(isNaturalPerson({ vorname: '  ', name: 'Muster GmbH' }), false);
    assert.equal(isNaturalPerson({ name: 'Muster GmbH' }), false);
  });
});

describe('a PUT read back with more changed than it sent', () => {
  const sent = { betNr: 7, rowId: 'AAA=', name: 'Muster', vorname: 'Max' };

  it('is marked foreignChanges when a sent field reads back differently (someone saved in between)', () => {
    const write = { betNr: '7', rowId: 'BBB=', record: { ...sent, rowId: 'BBB=', name: 'Meier' } };
    assert.equal(sentOnly(write, sent).foreignChanges, true);
  });

  it('is not marked when only the server-owned rowId and the Kommunikationen differ', () => {
    const write = {
      betNr: '7',
      rowId: 'BBB=',
      record: { ...sent, rowId: 'BBB=', kommunikation: [{ id: 1 }] },
    };
    assert.equal(sentOnly(write, { ...sent, kommunikation: [] }).foreignChanges, undefined);
  });
});
