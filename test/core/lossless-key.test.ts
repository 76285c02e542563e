// losslessKey: an injective escape of ill-formed UTF-16 onto well-formed strings, identity on the usual keys.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { losslessKey } from '../../src/core/lossless-key.ts';
import { pick, seededRandom, testSeed } from '../contract/seeded-random.ts';

/** Code units the random strings are made of: the ones that matter here, and plain ASCII. */
const UNITS = [0x61, 0x62, 0x30, 0xd800, 0xdbff, 0xdc00, 0xdfff, 0xfffd, 0xd83d, 0xde00];

describe('losslessKey', () => {
  it('leaves well-formed keys without U+FFFD unchanged', () => {
    for (const key of ['flow|so|0b4f9c9e-4a57', 'Müller', '😀 emoji', ''])
      assert.equal(losslessKey(key), key);
  });

  it('tells apart keys that differ only in a lone surrogate or U+FFFD', () => {
    const keys = ['evt-\uD800', 'evt-\uDBFF', 'evt-\uDC00', 'evt-\uFFFD', 'evt-\uFFFDd800', 'evt-'];
    const escaped = keys.map(losslessKey);
    assert.equal(new Set(escaped).size, keys.length);
    for (const key of escaped) assert.ok(key.isWellFormed(), JSON.stringify(key));
  });

  it('is injective and well-formed on random strings of tricky code units', (t) => {
    const seed = testSeed(20_261_204);
    t.diagnostic(`seed ${seed} (CRMSYNC_TEST_SEED)`);
    const random = seededRandom(seed);
    const seen = new Map<string, string>();
    for (let count = 0; count < 20_000; count += 1) {
      const key = String.fromCharCode(
        ...Array.from({ length: pick(random, 6) }, () => UNITS[pick(random, UNITS.length)]!),
      );
      const escaped = losslessKey(key);
      assert.ok(escaped.isWellFormed(), `seed ${seed}: ${JSON.stringify(key)}`);
      const earlier = seen.get(escaped);
      assert.ok(earlier === undefined || earlier === key, `seed ${seed}: ${JSON.stringify([earlier, key])}`);
      seen.set(escaped, key);
    }
  });
});
