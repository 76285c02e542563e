/** Kommunikation items and the kind guess for `kommKz` read back as 0 (seed 003). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  guessKommKz,
  normaliseKommValue,
  parseKommunikation,
} from '../../../src/connectors/advoware/kommunikation.ts';

describe('advoware Kommunikationen', () => {
  it('parses an item and keeps the raw body', () => {
    const raw = {
      id: 5,
      rowId: 'r1',
      tlf: '0221 123',
      bemerkung: 'Zentrale',
      kommKz: 0,
      online: false,
      x: 1,
    };
    const { x: _extra, ...named } = raw;
    assert.deepEqual(parseKommunikation(raw), { ...named, raw });
    assert.equal(parseKommunikation({ tlf: 'x' }), null, 'no id');
    assert.equal(parseKommunikation({ id: 1 })?.bemerkung, '');
  });

  it('keeps a real kommKz', () => {
    assert.deepEqual(guessKommKz({ tlf: 'max@example.com', kommKz: 8 }), { kommKz: 8, source: 'vendor' });
  });

  it('guesses from the pattern when kommKz is 0: @ mail, URL Internet, else phone', () => {
    assert.deepEqual(guessKommKz({ tlf: 'Max@Example.com', kommKz: 0 }), { kommKz: 4, source: 'pattern' });
    assert.deepEqual(guessKommKz({ tlf: 'https://example.com', kommKz: 0 }), {
      kommKz: 5,
      source: 'pattern',
    });
    assert.deepEqual(guessKommKz({ tlf: 'www.example.com', kommKz: 0 }), { kommKz: 5, source: 'pattern' });
    assert.deepEqual(guessKommKz({ tlf: '+49 221 1234', kommKz: 0 }), { kommKz: 1, source: 'pattern' });
    assert.deepEqual(guessKommKz({ tlf: '  ', kommKz: 0 }), { kommKz: null, source: 'unknown' });
  });

  it('prefers a top-level field hint with the same value (mobil -> 3), normalising numbers', () => {
    const beteiligter = { name: 'Muster', mobil: '+49 (171) 555-0101' };
    assert.deepEqual(guessKommKz({ tlf: '0049 171 5550101', kommKz: 0 }, beteiligter), {
      kommKz: 3,
      source: 'hint',
    });
    assert.deepEqual(guessKommKz({ tlf: '0221 1234', kommKz: 0 }, beteiligter), {
      kommKz: 1,
      source: 'pattern',
    });
    const hints = { faxGesch: 2, mobil: 3 };
    assert.deepEqual(guessKommKz({ tlf: '0221-99', kommKz: 0 }, { faxGesch: '0221 99' }, hints), {
      kommKz: 2,
      source: 'hint',
    });
    assert.deepEqual(guessKommKz({ tlf: 'a@b.de', kommKz: 0 }, { email: 'A@B.de' }, { email: 8 }), {
      kommKz: 8,
      source: 'hint',
    });
  });

  it('normalises values for comparison', () => {
    assert.equal(normaliseKommValue(' +49 (221) 12-34 '), '00492211234');
    assert.equal(normaliseKommValue('Max@Example.COM'), 'max@example.com');
  });
});
