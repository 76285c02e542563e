/** Seeds for randomised contract tests: a failing seed reproduces the failure. */
export { seededRandom } from '../../src/core/random.ts';

/** The seed of this run: CRMSYNC_TEST_SEED when set, else `fallback`. */
export function testSeed(fallback: number): number {
  const fromEnv = Number(process.env.CRMSYNC_TEST_SEED);
  return Number.isSafeInteger(fromEnv) ? fromEnv : fallback;
}

/** An integer in [0, n). */
export function pick(random: () => number, n: number): number {
  return Math.floor(random() * n);
}
