// The mapping layer: vendor record -> canonical record -> vendor writes, compiled from validated options;
// round trips as fast-check properties, and the merge's writes carried through it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CrmsyncError } from '../../../src/core/errors.ts';
import { applyWrite, mergeRecords } from '../../../src/core/sync/merge.ts';
import { readScalar } from '../../../src/core/sync/record.ts';
import type { JsonValue } from '../../../src/core/types.ts';
import {
  BETEILIGTE_FIELDS,
  beteiligteFlowDefaults,
  compileSyncFlow,
  syncOptionsSchema,
} from '../../../src/engine/flows/sync/index.ts';
import type { SideMapper, VendorFields } from '../../../src/engine/flows/sync/index.ts';
import { testSeed } from '../../contract/seeded-random.ts';

const SEED = testSeed(20_261_206);
const MODULE_FIELDS: readonly string[] = BETEILIGTE_FIELDS;
const RUNS = 500;

/** EspoCRM CBeteiligte (a) <-> Advoware Beteiligte (b): the names by module plus plain fields with transforms. */
const flow = compileSyncFlow(
  syncOptionsSchema.parse({
    ...beteiligteFlowDefaults({ espocrm: 'espo', advoware: 'advo' }),
    fields: {
      ...beteiligteFlowDefaults({ espocrm: 'espo', advoware: 'advo' }).fields,
      email: {
        a: { field: 'emailAddress', transform: ['trim', 'lowercase'] },
        b: { field: 'email', transform: ['trim', 'emptyToNull', 'lowercase'] },
      },
      birthDate: {
        a: { field: 'birthday', transform: 'date' },
        b: { field: 'geburtsdatum', transform: 'date' },
        direction: 'b-to-a',
      },
      clientNumber: {
        a: { field: 'clientNumber', transform: 'number' },
        b: { field: 'mandantNr', transform: 'numberAsText' },
      },
      vip: {
        a: { field: 'vip', transform: 'boolean' },
        b: { field: 'vip', transform: 'boolean' },
        conflict: 'manual',
      },
    },
  }),
);

const name = fc.oneof(
  fc.constantFrom('Max', 'Anna', ' Eva ', 'Muster GmbH', 'Kanzlei Recht & Co', '', '  '),
  fc.constant(null),
);
const emailText = fc.oneof(
  fc.constantFrom(' Max@Example.com ', 'anna@kanzlei.de', '', '  '),
  fc.constant(null),
);
const dateText = fc.oneof(
  fc.constantFrom('1980-05-01', '1.5.1980', '2001-12-31T00:00:00Z', ''),
  fc.constant(null),
);
const numberValue = fc.oneof(
  fc.integer({ min: -1_000, max: 100_000 }),
  fc.constantFrom('42', ' 3,5 ', ''),
  fc.constant(null),
);
const booleanValue = fc.constantFrom<JsonValue>(true, false, 'ja', 'nein', 1, 0, '', null);

const espoRecord: fc.Arbitrary<VendorFields> = fc.record(
  {
    firstName: name,
    lastName: name,
    firmenname: name,
    name,
    emailAddress: emailText,
    birthday: dateText,
    clientNumber: numberValue,
    vip: booleanValue,
  },
  { requiredKeys: [] },
);
const advowareRecord: fc.Arbitrary<VendorFields> = fc.record(
  {
    vorname: name,
    name,
    email: emailText,
    geburtsdatum: dateText,
    mandantNr: numberValue,
    vip: booleanValue,
    strasse: name,
  },
  { requiredKeys: [] },
);

/** A random canonical write for `mapper`: a random subset of the canonical record of another vendor record. */
function writeArb(
  mapper: SideMapper,
  records: fc.Arbitrary<VendorFields>,
): fc.Arbitrary<Record<string, JsonValue>> {
  return fc.tuple(records, fc.subarray(flow.fields.map((field) => field.name))).map(([record, names]) => {
    const canonical = mapper.toCanonical(record);
    // A module's contract holds for the values it produces: its fields are written together.
    const grouped = names.some((field) => MODULE_FIELDS.includes(field));
    const chosen = new Set(grouped ? [...names, ...MODULE_FIELDS] : names);
    return Object.fromEntries([...chosen].map((field) => [field, readScalar(canonical, field)]));
  });
}

function checkRoundTrip(
  t: { diagnostic(message: string): void },
  mapper: SideMapper,
  records: fc.Arbitrary<VendorFields>,
): void {
  t.diagnostic(`fast-check seed ${SEED} (CRMSYNC_TEST_SEED), ${RUNS} runs`);
  fc.assert(
    fc.property(records, writeArb(mapper, records), (record, write) => {
      const current = mapper.toCanonical(record);
      const written = { ...record, ...mapper.toVendor(write, current) };
      assert.deepEqual(mapper.toCanonical(written), { ...current, ...write });
      // What is written reads back as written: writing it again writes the same vendor values.
      const again = { ...written, ...mapper.toVendor(write, mapper.toCanonical(written)) };
      assert.deepEqual(again, written);
    }),
    { seed: SEED, numRuns: RUNS },
  );
}

describe('sync mapping layer', () => {
  it('maps a vendor record to every mapped canonical field, transformed, null where absent', () => {
    assert.deepEqual(
      flow.b.toCanonical({
        vorname: 'Max',
        name: 'Muster',
        email: ' Max@Example.com ',
        mandantNr: '42',
        strasse: 'x',
      }),
      {
        firstName: 'Max',
        lastName: 'Muster',
        companyName: null,
        email: 'max@example.com',
        birthDate: null,
        clientNumber: 42,
        vip: null,
      },
    );
  });

  it('lists the vendor fields each side reads and writes', () => {
    assert.deepEqual(flow.a.vendorFields, [
      'firstName',
      'lastName',
      'firmenname',
      'name',
      'emailAddress',
      'birthday',
      'clientNumber',
      'vip',
    ]);
    assert.deepEqual(flow.b.vendorFields, ['vorname', 'name', 'email', 'geburtsdatum', 'mandantNr', 'vip']);
  });

  it('compiles field specs with the flow default and per-field policies and directions', () => {
    const byName = new Map(flow.fields.map((field) => [field.name, field]));
    assert.deepEqual(byName.get('email'), {
      kind: 'scalar',
      name: 'email',
      direction: 'both',
      policy: { kind: 'a-wins' },
    });
    assert.equal(byName.get('birthDate')?.direction, 'b-to-a');
    assert.deepEqual(byName.get('vip')?.policy, { kind: 'manual' });
  });

  it('writes a mapped field only when it changes, and a changed module with all its vendor fields', () => {
    const current = flow.b.toCanonical({ vorname: 'Max', name: 'Muster', mandantNr: '42', vip: true });
    assert.deepEqual(flow.b.toVendor({ clientNumber: 43, vip: true, lastName: 'Mustermann' }, current), {
      mandantNr: '43',
      vorname: 'Max',
      name: 'Mustermann',
    });
  });

  it('refuses a write to a field the side does not map', () => {
    assert.throws(
      () => flow.a.toVendor({ nickname: 'x' }, {}),
      (error: unknown) => error instanceof CrmsyncError && error.code === 'SYNC_FIELD_UNMAPPED',
    );
  });

  it('round trip, EspoCRM side: a written canonical write reads back as written', (t) =>
    checkRoundTrip(t, flow.a, espoRecord));

  it('round trip, Advoware side: a written canonical write reads back as written', (t) =>
    checkRoundTrip(t, flow.b, advowareRecord));

  it('carries a merge through both mappings: an Advoware edit reaches EspoCRM, and the next merge writes nothing', () => {
    const espo = {
      firstName: 'Max',
      lastName: 'Muster',
      name: 'Max Muster',
      firmenname: null,
      emailAddress: 'max@example.com',
    };
    const advo = { vorname: 'Max', name: 'Muster', email: 'MAX@example.com ' };
    const base = { a: flow.a.toCanonical(espo), b: flow.b.toCanonical(advo) };
    assert.deepEqual(base.a, base.b, 'both sides agree after the transforms');

    const edited = { ...advo, vorname: null, name: 'Muster GmbH', mandantNr: '7' };
    const merge = mergeRecords({ fields: flow.fields, a: base.a, b: flow.b.toCanonical(edited), base });
    const espoWrite = flow.a.toVendor(merge.writes.a.fields, base.a);
    assert.deepEqual(espoWrite, {
      firmenname: 'Muster GmbH',
      name: 'Muster GmbH',
      firstName: null,
      lastName: null,
      clientNumber: 7,
    });
    assert.deepEqual(flow.b.toVendor(merge.writes.b.fields, flow.b.toCanonical(edited)), {});

    const espoAfter = { ...espo, ...espoWrite };
    const again = mergeRecords({
      fields: flow.fields,
      a: flow.a.toCanonical(espoAfter),
      b: flow.b.toCanonical(edited),
      base: merge.base,
    });
    assert.deepEqual([again.summary.writesA, again.summary.writesB], [0, 0]);
    assert.deepEqual(applyWrite(base.a, merge.writes.a), flow.a.toCanonical(espoAfter));
  });
});
