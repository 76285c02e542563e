// Seed 004's person/company rule, both vendors, both directions, and a person switched to a company (and
// back) carried through the three-way merge from one vendor to the other.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { applyWrite, mergeRecords } from '../../../src/core/sync/merge.ts';
import type { CanonicalRecord } from '../../../src/core/sync/record.ts';
import type { JsonObject } from '../../../src/core/types.ts';
import {
  beteiligteAdvoware,
  beteiligteEspoCrm,
  beteiligteFlowDefaults,
  compileSyncFlow,
  syncOptionsSchema,
} from '../../../src/engine/flows/sync/index.ts';
import type { MappingModule, SideMapper, VendorFields } from '../../../src/engine/flows/sync/index.ts';
import { testSeed } from '../../contract/seeded-random.ts';

const SEED = testSeed(20_261_207);
const RUNS = 500;
const flow = compileSyncFlow(
  syncOptionsSchema.parse(beteiligteFlowDefaults({ espocrm: 'espo', advoware: 'advo' })),
);

describe('Beteiligte person/company rule (seed 004)', () => {
  it('Advoware: a non-blank vorname is a person, otherwise name is the company name', () => {
    assert.deepEqual(beteiligteAdvoware.toCanonical({ vorname: 'Max', name: 'Muster' }), {
      firstName: 'Max',
      lastName: 'Muster',
      companyName: null,
    });
    for (const vorname of [null, '', '   ', undefined])
      assert.deepEqual(beteiligteAdvoware.toCanonical({ vorname, name: 'Muster GmbH' }), {
        firstName: null,
        lastName: null,
        companyName: 'Muster GmbH',
      });
    assert.deepEqual(
      beteiligteAdvoware.toVendor({ firstName: 'Max', lastName: 'Muster', companyName: null }),
      {
        vorname: 'Max',
        name: 'Muster',
      },
    );
    assert.deepEqual(
      beteiligteAdvoware.toVendor({ firstName: null, lastName: null, companyName: 'Muster GmbH' }),
      {
        vorname: null,
        name: 'Muster GmbH',
      },
    );
  });

  it('EspoCRM: a person gets firstName/lastName and name "first last", a company firmenname = name, the rest cleared', () => {
    assert.deepEqual(
      beteiligteEspoCrm.toVendor({ firstName: 'Max', lastName: 'Muster', companyName: null }),
      {
        firstName: 'Max',
        lastName: 'Muster',
        name: 'Max Muster',
        firmenname: null,
      },
    );
    assert.deepEqual(
      beteiligteEspoCrm.toVendor({ firstName: null, lastName: null, companyName: 'Muster GmbH' }),
      {
        firmenname: 'Muster GmbH',
        name: 'Muster GmbH',
        firstName: null,
        lastName: null,
      },
    );
    assert.deepEqual(
      beteiligteEspoCrm.toCanonical({
        firstName: 'Max',
        lastName: 'Muster',
        name: 'Max Muster',
        firmenname: null,
      }),
      { firstName: 'Max', lastName: 'Muster', companyName: null },
    );
    assert.deepEqual(
      beteiligteEspoCrm.toCanonical({
        firstName: 'Alt',
        lastName: 'Rest',
        name: 'Muster GmbH',
        firmenname: 'Muster GmbH',
      }),
      { firstName: null, lastName: null, companyName: 'Muster GmbH' },
      'a firmenname makes a company; the hidden first and last name are ignored',
    );
    assert.deepEqual(
      beteiligteEspoCrm.toCanonical({
        firstName: null,
        lastName: null,
        name: 'Kanzlei Alt',
        firmenname: null,
      }),
      { firstName: null, lastName: null, companyName: 'Kanzlei Alt' },
      'neither firmenname nor firstName: a company named by name',
    );
  });

  it('round trip of each module over random vendor records, and a clean-up that changes no canonical value', (t) => {
    t.diagnostic(`fast-check seed ${SEED} (CRMSYNC_TEST_SEED), ${RUNS} runs per module`);
    const text = fc.oneof(fc.constantFrom('Max', ' Eva', 'Muster GmbH', '', ' '), fc.constant(null));
    const vendorRecord: fc.Arbitrary<VendorFields> = fc.record(
      { vorname: text, name: text, firstName: text, lastName: text, firmenname: text },
      { requiredKeys: [] },
    );
    const check = (module: MappingModule): void =>
      fc.assert(
        fc.property(vendorRecord, vendorRecord, (record, source) => {
          const values = module.toCanonical(source);
          const written = { ...record, ...module.toVendor(values) };
          assert.deepEqual(module.toCanonical(written), values);
        }),
        { seed: SEED, numRuns: RUNS },
      );
    const checkNormalise = (mapper: SideMapper): void =>
      fc.assert(
        fc.property(vendorRecord, (record) => {
          const cleaned = { ...record, ...mapper.normalise(record) };
          assert.deepEqual(
            mapper.toCanonical(cleaned),
            mapper.toCanonical(record),
            'no canonical value changes',
          );
          assert.deepEqual(mapper.normalise(cleaned), {}, 'a cleaned record needs no further clean-up');
        }),
        { seed: SEED, numRuns: RUNS },
      );
    check(beteiligteAdvoware);
    check(beteiligteEspoCrm);
    checkNormalise(flow.a);
    checkNormalise(flow.b);
  });
});

/** Merges one link (EspoCRM a, Advoware b) from a synced state and returns both sides' vendor writes. */
function syncAfterEdit(
  espo: JsonObject,
  advo: JsonObject,
  edit: { espo?: JsonObject; advo?: JsonObject },
): {
  espoWrite: JsonObject;
  advoWrite: JsonObject;
  espoCleanUp: JsonObject;
  espoAfter: JsonObject;
  advoAfter: JsonObject;
} {
  const base: { a: CanonicalRecord; b: CanonicalRecord } = {
    a: flow.a.toCanonical(espo),
    b: flow.b.toCanonical(advo),
  };
  assert.deepEqual(base.a, base.b, 'the sides start in sync');
  const espoNow = { ...espo, ...edit.espo };
  const advoNow = { ...advo, ...edit.advo };
  const a = flow.a.toCanonical(espoNow);
  const b = flow.b.toCanonical(advoNow);
  const merge = mergeRecords({ fields: flow.fields, a, b, base });
  const espoWrite = flow.a.toVendor(merge.writes.a.fields, a);
  const advoWrite = flow.b.toVendor(merge.writes.b.fields, b);
  const espoCleanUp = flow.a.normalise({ ...espoNow, ...espoWrite });
  const espoAfter = { ...espoNow, ...espoWrite, ...espoCleanUp };
  const advoAfter = { ...advoNow, ...advoWrite, ...flow.b.normalise({ ...advoNow, ...advoWrite }) };
  assert.deepEqual(flow.a.toCanonical(espoAfter), applyWrite(a, merge.writes.a));
  assert.deepEqual(
    flow.a.toCanonical(espoAfter),
    flow.b.toCanonical(advoAfter),
    'the sides agree after the sync',
  );
  return { espoWrite, advoWrite, espoCleanUp, espoAfter, advoAfter };
}

const maxEspo = { firstName: 'Max', lastName: 'Muster', name: 'Max Muster', firmenname: null };
const maxAdvo = { vorname: 'Max', name: 'Muster' };
const firmEspo = { firstName: null, lastName: null, name: 'Muster GmbH', firmenname: 'Muster GmbH' };
const firmAdvo = { vorname: null, name: 'Muster GmbH' };

describe('Beteiligte sync through the merge', () => {
  it('a person switched to a company in Advoware becomes a company in EspoCRM, first and last name cleared', () => {
    const result = syncAfterEdit(maxEspo, maxAdvo, { advo: { vorname: '', name: 'Muster GmbH' } });
    assert.deepEqual(result.espoWrite, firmEspo);
    assert.deepEqual(result.advoWrite, {});
  });

  it('a person switched to a company in EspoCRM becomes a company in Advoware, vorname cleared', () => {
    const result = syncAfterEdit(maxEspo, maxAdvo, {
      espo: { firmenname: 'Muster GmbH', name: 'Muster GmbH' },
    });
    assert.deepEqual(result.advoWrite, firmAdvo);
    assert.deepEqual(result.espoWrite, {}, 'the merge writes nothing to the side that changed');
    assert.deepEqual(result.espoCleanUp, { firstName: null, lastName: null }, 'the hidden names are cleared');
  });

  it('a company switched to a person in Advoware becomes a person in EspoCRM, firmenname cleared', () => {
    const result = syncAfterEdit(firmEspo, firmAdvo, { advo: { vorname: 'Max', name: 'Muster' } });
    assert.deepEqual(result.espoWrite, maxEspo);
  });

  it('a last-name edit in EspoCRM reaches Advoware as name, and the display name is rebuilt in EspoCRM', () => {
    const result = syncAfterEdit(maxEspo, maxAdvo, { espo: { lastName: 'Mustermann' } });
    assert.deepEqual(result.advoWrite, { vorname: 'Max', name: 'Mustermann' });
    assert.deepEqual(result.espoCleanUp, { name: 'Max Mustermann' }, 'the display name follows');
  });
});
