/** The vendor's `YYYY-MM-DD HH:mm:ss` UTC date-times and `YYYY-MM-DD` dates, both ways. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  espoDateTimeToIso,
  parseEspoDate,
  parseEspoDateTime,
  toEspoDate,
  toEspoDateTime,
} from '../../../src/connectors/espocrm/datetime.ts';

describe('espocrm datetime', () => {
  it('writes UTC without T, Z or fraction, whatever the input form', () => {
    const ms = Date.UTC(2026, 2, 2, 8, 5, 9, 987);
    assert.equal(toEspoDateTime(ms), '2026-03-02 08:05:09');
    assert.equal(toEspoDateTime(new Date(ms)), '2026-03-02 08:05:09');
    assert.equal(toEspoDateTime('2026-03-02T10:05:09.987+02:00'), '2026-03-02 08:05:09');
    assert.equal(toEspoDate('2026-03-02T23:30:00-02:00'), '2026-03-03');
    assert.throws(() => toEspoDateTime('yesterday'), RangeError);
  });

  it('reads them as UTC, and nothing else', () => {
    assert.equal(parseEspoDateTime('2026-03-02 08:05:09'), Date.UTC(2026, 2, 2, 8, 5, 9));
    assert.equal(parseEspoDate('2026-03-02'), Date.UTC(2026, 2, 2));
    assert.equal(espoDateTimeToIso('2026-03-02 08:05:09'), '2026-03-02T08:05:09.000Z');
    for (const wrong of [
      '2026-03-02T08:05:09Z',
      '2026-03-02 08:05',
      '2026-02-30 00:00:00',
      '2026-03-02 24:00:00',
      42,
      null,
    ]) {
      assert.equal(parseEspoDateTime(wrong), null, String(wrong));
    }
    assert.equal(parseEspoDate('2026-02-29'), null, '2026 is no leap year');
    assert.equal(parseEspoDate('2026-03-02 08:05:09'), null);
  });

  it('round-trips every second of a day boundary', () => {
    for (const ms of [
      Date.UTC(2025, 11, 31, 23, 59, 59),
      Date.UTC(2026, 0, 1, 0, 0, 0),
      Date.UTC(2028, 1, 29, 12, 0, 0),
    ]) {
      assert.equal(parseEspoDateTime(toEspoDateTime(ms)), ms);
    }
  });
});
