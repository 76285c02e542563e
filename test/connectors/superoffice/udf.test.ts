import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UdfFormatError } from '../../../src/connectors/superoffice/errors.ts';
import {
  decodeUdfValue,
  decodeUserDefinedFields,
  encodeUdfValue,
  encodeUserDefinedFields,
  udfKey,
} from '../../../src/connectors/superoffice/udf.ts';
import type { UdfValue } from '../../../src/connectors/superoffice/udf.ts';

function udfError(action: () => unknown): UdfFormatError {
  try {
    action();
  } catch (error) {
    assert.ok(error instanceof UdfFormatError, `expected UdfFormatError, got ${String(error)}`);
    return error;
  }
  assert.fail('no error thrown');
}

describe('superoffice udf: decode', () => {
  it('decodes every encoding of the reference', () => {
    const decoded = decodeUserDefinedFields({
      'SuperOffice:1': 'ACME summary',
      'SuperOffice:2': '42',
      'SuperOffice:3': '3.5',
      'SuperOffice:4': 'True',
      'SuperOffice:5': 'False',
      'SuperOffice:6': '[D:03/31/2026]',
      'SuperOffice:7': '[I:123]',
      'SuperOffice:7:DisplayText': 'Healthcare',
      'SuperOffice:7:DisplayTooltip': 'Hospitals and clinics',
      x_stamp: '[DT:09/16/2025 14:22:14.0000000]',
      'SuperOffice:8': '[I:0]',
      'SuperOffice:9': '[D:]',
    });
    assert.deepEqual(decoded, {
      'SuperOffice:1': { type: 'text', value: 'ACME summary' },
      'SuperOffice:2': { type: 'number', value: 42 },
      'SuperOffice:3': { type: 'number', value: 3.5 },
      'SuperOffice:4': { type: 'boolean', value: true },
      'SuperOffice:5': { type: 'boolean', value: false },
      'SuperOffice:6': { type: 'date', value: '2026-03-31' },
      'SuperOffice:7': { type: 'list', value: 123, displayText: 'Healthcare' },
      x_stamp: { type: 'datetime', value: '2025-09-16T14:22:14.000Z' },
      'SuperOffice:8': { type: 'list', value: null },
      'SuperOffice:9': { type: 'date', value: null },
    });
  });

  it('follows type hints, so a text field holding digits stays text', () => {
    assert.deepEqual(decodeUdfValue('zip', '01067', 'text'), { type: 'text', value: '01067' });
    assert.deepEqual(decodeUserDefinedFields({ zip: '01067' }, { zip: 'text' }), {
      zip: { type: 'text', value: '01067' },
    });
    assert.deepEqual(decodeUdfValue('n', '', 'number'), { type: 'number', value: null });
  });

  it('reports an object or array value as a typed error naming the field (seed 002), not a crash', () => {
    const error = udfError(() => decodeUserDefinedFields({ ok: 'x', 'SuperOffice:83': { Id: 5 } }));
    assert.equal(error.field, 'SuperOffice:83');
    assert.equal(error.code, 'SUPEROFFICE_UDF_INVALID');
    assert.match(error.message, /SuperOffice:83.*an object/);
    assert.match(udfError(() => decodeUdfValue('list', ['a'])).message, /an array/);
    assert.equal(udfError(() => decodeUserDefinedFields([1, 2])).field, 'UserDefinedFields');
  });

  it('rejects malformed encodings with the field name', () => {
    assert.equal(udfError(() => decodeUdfValue('d', '[D:13/45/2026]')).field, 'd');
    assert.match(udfError(() => decodeUdfValue('i', '[I:abc]', 'list')).message, /\[I:<id>\]/);
    assert.match(udfError(() => decodeUdfValue('b', 'maybe', 'boolean')).message, /True/);
    assert.match(udfError(() => decodeUdfValue('n', '4x', 'number')).message, /number/);
  });

  it('treats null and absent maps as empty', () => {
    assert.deepEqual(decodeUserDefinedFields(null), {});
    assert.deepEqual(decodeUdfValue('t', null), { type: 'text', value: '' });
  });
});

describe('superoffice udf: encode', () => {
  it('round-trips every encoding', () => {
    const wire = {
      text: 'hello [world]',
      number: '42',
      decimal: '-3.25',
      yes: 'True',
      no: 'False',
      date: '[D:01/02/2026]',
      empty: '[D:]',
      list: '[I:7]',
      none: '[I:0]',
      stamp: '[DT:09/16/2025 14:22:14.1230000]',
    };
    assert.deepEqual(encodeUserDefinedFields(decodeUserDefinedFields(wire)), wire);
  });

  it('encodes ISO dates as [D:MM/dd/yyyy] and rejects impossible ones', () => {
    assert.equal(encodeUdfValue('d', { type: 'date', value: '2026-12-24' }), '[D:12/24/2026]');
    assert.equal(udfError(() => encodeUdfValue('d', { type: 'date', value: '2026-02-30' })).field, 'd');
    assert.equal(udfError(() => encodeUdfValue('d', { type: 'date', value: '24.12.2026' })).field, 'd');
  });

  it('drops display text on write and rejects non-integer list ids', () => {
    const value: UdfValue = { type: 'list', value: 12, displayText: 'Retail' };
    assert.deepEqual(encodeUserDefinedFields({ v: value }), { v: '[I:12]' });
    assert.equal(udfError(() => encodeUdfValue('v', { type: 'list', value: 1.5 })).field, 'v');
  });

  it('names keys by ProgId or SuperOffice:<id>', () => {
    assert.equal(udfKey(83), 'SuperOffice:83');
    assert.equal(udfKey('x_vertical'), 'x_vertical');
  });
});
