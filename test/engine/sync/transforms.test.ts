// The built-in transforms both ways, and their round-trip contract over random vendor values (fast-check).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { canonicalJson } from '../../../src/core/canonical.ts';
import { CrmsyncError } from '../../../src/core/errors.ts';
import type { JsonValue } from '../../../src/core/types.ts';
import { BUILT_IN_TRANSFORMS, chainTransforms } from '../../../src/engine/flows/sync/transforms.ts';
import type { BuiltInTransformName, ValueTransform } from '../../../src/engine/flows/sync/transforms.ts';
import { testSeed } from '../../contract/seeded-random.ts';

const SEED = testSeed(20_261_205);
const RUNS = 500;
const { trim, lowercase, emptyToNull, number, numberAsText, boolean, date } = BUILT_IN_TRANSFORMS;

function rejects(transform: ValueTransform, value: JsonValue): void {
  assert.throws(
    () => transform.toCanonical(value),
    (error: unknown) =>
      error instanceof CrmsyncError && error.code === 'SYNC_TRANSFORM_FAILED' && !error.retryable,
  );
}

/** Vendor values each transform may meet; some it cannot read (those must raise SYNC_TRANSFORM_FAILED). */
const text = fc.string({ unit: fc.constantFrom('a', 'B', 'ß', 'É', ' ', '\t', '1', ',', '.', '-') });
const numericText = fc.oneof(
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
  fc.tuple(fc.nat(9_999), fc.nat(99)).map(([whole, part]) => ` ${whole},${part} `),
);
const dateInput = fc
  .date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true })
  .chain((moment) => {
    const iso = moment.toISOString();
    const [year, month, day] = [iso.slice(0, 4), iso.slice(5, 7), iso.slice(8, 10)];
    return fc.constantFrom(iso, iso.slice(0, 10), `${iso.slice(0, 10)} 12:00:00`, `${day}.${month}.${year}`);
  });
const VENDOR_VALUES: Record<BuiltInTransformName, fc.Arbitrary<JsonValue>> = {
  trim: fc.oneof(text, fc.constant(null), fc.integer()),
  lowercase: fc.oneof(text, fc.constant(null), fc.boolean()),
  emptyToNull: fc.oneof(text, fc.constant(null), fc.integer()),
  number: fc.oneof(numericText, fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constant(null), text),
  numberAsText: fc.oneof(numericText, fc.integer(), fc.constant(null), text),
  boolean: fc.oneof(fc.constantFrom(true, false, 1, 0, 'Ja', ' nein ', 'TRUE', '0', '', null), text),
  date: fc.oneof(dateInput, fc.constant(null), fc.constant('')),
};

/** The canonical value of `value`, or undefined when the transform cannot read it. */
function canonicalOf(transform: ValueTransform, value: JsonValue): JsonValue | undefined {
  try {
    return transform.toCanonical(value);
  } catch (error) {
    assert.ok(error instanceof CrmsyncError && error.code === 'SYNC_TRANSFORM_FAILED', String(error));
    return undefined;
  }
}

describe('built-in transforms', () => {
  it('trim, lowercase and emptyToNull change texts only, and write the canonical value', () => {
    assert.equal(trim.toCanonical('  Muster GmbH \t'), 'Muster GmbH');
    assert.equal(lowercase.toCanonical('Max@Example.COM'), 'max@example.com');
    assert.equal(emptyToNull.toCanonical('   '), null);
    assert.equal(emptyToNull.toCanonical(' x '), ' x ');
    for (const transform of [trim, lowercase, emptyToNull]) {
      assert.equal(transform.toCanonical(null), null);
      assert.equal(transform.toCanonical(42), 42);
      assert.equal(transform.toVendor('abc'), 'abc');
      assert.equal(transform.toVendor(null), null);
    }
  });

  it('number reads numbers and numeric texts (also a decimal comma) and writes numbers; numberAsText writes text', () => {
    assert.equal(number.toCanonical(' 42 '), 42);
    assert.equal(number.toCanonical('3,5'), 3.5);
    assert.equal(number.toCanonical('1.5'), 1.5);
    assert.equal(number.toCanonical(''), null);
    assert.equal(number.toCanonical(null), null);
    assert.equal(number.toVendor(7), 7);
    assert.equal(numberAsText.toCanonical('7'), 7);
    assert.equal(numberAsText.toVendor(3.5), '3.5');
    assert.equal(numberAsText.toVendor(null), null);
    rejects(number, 'zwölf');
    rejects(number, '1,5,6');
    rejects(number, true);
  });

  it('boolean reads true/false, 1/0, yes/no and ja/nein, and writes booleans', () => {
    assert.equal(boolean.toCanonical('Ja'), true);
    assert.equal(boolean.toCanonical(' nein '), false);
    assert.equal(boolean.toCanonical(1), true);
    assert.equal(boolean.toCanonical('0'), false);
    assert.equal(boolean.toCanonical(''), null);
    assert.equal(boolean.toVendor(false), false);
    rejects(boolean, 'vielleicht');
    rejects(boolean, 2);
  });

  it('date reads YYYY-MM-DD, the date part of an ISO date-time and DD.MM.YYYY, and writes YYYY-MM-DD', () => {
    assert.equal(date.toCanonical('1980-05-01'), '1980-05-01');
    assert.equal(date.toCanonical('1980-05-01T00:00:00+02:00'), '1980-05-01', 'no time-zone shift');
    assert.equal(date.toCanonical('1980-05-01 23:30:00'), '1980-05-01');
    assert.equal(date.toCanonical('1.5.1980'), '1980-05-01');
    assert.equal(date.toCanonical('0050-01-02'), '0050-01-02', 'years below 100 stay');
    assert.equal(date.toCanonical(''), null);
    assert.equal(date.toVendor('1980-05-01'), '1980-05-01');
    rejects(date, '1980-02-30');
    rejects(date, '31.02.1980');
    rejects(date, 'gestern');
    rejects(date, 19_800_501);
  });

  it('a chain reads in order and writes in reverse', () => {
    const steps: string[] = [];
    const step = (name: string): ValueTransform => ({
      toCanonical: (value) => (steps.push(`${name}>`), value),
      toVendor: (value) => (steps.push(`<${name}`), value),
    });
    const chain = chainTransforms([step('first'), step('second')]);
    chain.toVendor(chain.toCanonical('x'));
    assert.deepEqual(steps, ['first>', 'second>', '<second', '<first']);
    assert.equal(chainTransforms([trim, emptyToNull]).toCanonical('   '), null);
  });

  it('every built-in reads back what it writes: toCanonical(toVendor(c)) = c for every canonical value c', (t) => {
    t.diagnostic(`fast-check seed ${SEED} (CRMSYNC_TEST_SEED), ${RUNS} runs per transform`);
    for (const [name, transform] of Object.entries(BUILT_IN_TRANSFORMS)) {
      fc.assert(
        fc.property(VENDOR_VALUES[name as BuiltInTransformName], (vendorValue) => {
          const canonical = canonicalOf(transform, vendorValue);
          if (canonical === undefined) return;
          const readBack = transform.toCanonical(transform.toVendor(canonical));
          assert.equal(
            canonicalJson(readBack),
            canonicalJson(canonical),
            `${name}: ${JSON.stringify(vendorValue)}`,
          );
        }),
        { seed: SEED, numRuns: RUNS },
      );
    }
  });
});
