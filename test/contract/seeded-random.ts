/** A small seeded PRNG (mulberry32) for randomised contract tests: a failing seed reproduces the failure. */

/** The seed of this run: CRMSYNC_TEST_SEED when set, else `fallback`. */
export function testSeed(fallback: number): number {
  const fromEnv = Number(process.env.CRMSYNC_TEST_SEED);
  return Number.isSafeInteger(fromEnv) ? fromEnv : fallback;
}

/** Returns numbers in [0, 1), the same sequence for the same seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [0, n). */
export function pick(random: () => number, n: number): number {
  return Math.floor(random() * n);
}
