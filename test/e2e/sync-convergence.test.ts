/**
 * The randomised convergence test of issue 10, short versions inside `npm test` (the long one with 500+
 * edits and a SIGKILL is `npm run test:chaos`, test/e2e/sync-chaos.ts): a fixed seed, printed, which
 * `CRMSYNC_TEST_SEED` overrides; 60 edits on both sides; after quiescence both sides agree, nothing is
 * duplicated, and the oracle (convergence-oracle.ts) accepts every field.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import { formatReport, runConvergence, seedFromEnv } from './sync-convergence.ts';
import type { ConvergenceParams } from './sync-convergence.ts';

const SEED = seedFromEnv(20261204);

const NO_FAULTS: ConvergenceParams['faults'] = {
  advo5xx: 0,
  advo429: 0,
  advoTimeout: 0,
  duplicateWebhook: 0,
  reorderWebhook: 0,
};

async function converges(
  t: TestContext,
  faults: ConvergenceParams['faults'],
  optimisticConcurrency: boolean,
): Promise<void> {
  const report = await runConvergence({
    seed: SEED,
    edits: 60,
    pairs: 8,
    createShare: 0.06,
    sameFieldShare: 0.15,
    paceMs: 40,
    faults,
    optimisticConcurrency,
    kill: false,
    quiescenceTimeoutMs: 30_000,
    log: (line) => t.diagnostic(line),
  });
  const summary = formatReport(report);
  t.diagnostic(summary);
  if (report.violations.length > 0) console.log(summary);
  assert.deepEqual(report.violations, [], summary);
}

describe(`Beteiligte sync converges under random edits (issue 10; seed ${SEED})`, () => {
  it('60 edits on both sides with duplicated and reordered webhooks (EspoCRM without optimistic concurrency)', async (t) => {
    await converges(t, { ...NO_FAULTS, duplicateWebhook: 0.1, reorderWebhook: 0.1 }, false);
  });

  it('60 edits with every fault: Advoware 5xx, 429 with Retry-After and timeouts, duplicated and reordered webhooks, EspoCRM optimistic concurrency', async (t) => {
    await converges(
      t,
      { advo5xx: 0.05, advo429: 0.03, advoTimeout: 0.01, duplicateWebhook: 0.1, reorderWebhook: 0.1 },
      true,
    );
  });
});
