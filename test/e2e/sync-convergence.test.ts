/**
 * The randomised convergence test of issue 10, short version inside `npm test` (the long one with 500+
 * edits and a SIGKILL is `npm run test:chaos`, test/e2e/sync-chaos.ts): a fixed seed, printed, which
 * `CRMSYNC_TEST_SEED` overrides; both sides edited with Advoware faults and duplicated/reordered webhooks;
 * after quiescence both sides agree and the oracle (convergence-oracle.ts) accepts every field.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatReport, runConvergence, seedFromEnv } from './sync-convergence.ts';

const SEED = seedFromEnv(20261204);

describe('Beteiligte sync converges under random edits and faults (issue 10)', () => {
  it(`60 edits on both sides, Advoware 5xx/429/timeouts, duplicate and reordered webhooks (seed ${SEED})`, async (t) => {
    const report = await runConvergence({
      seed: SEED,
      edits: 60,
      pairs: 8,
      createShare: 0.06,
      sameFieldShare: 0.15,
      paceMs: 40,
      faults: { advo5xx: 0.05, advo429: 0.03, advoTimeout: 0.01, duplicateWebhook: 0.1, reorderWebhook: 0.1 },
      optimisticConcurrency: true,
      kill: false,
      quiescenceTimeoutMs: 30_000,
      log: (line) => t.diagnostic(line),
    });
    const summary = formatReport(report);
    t.diagnostic(summary);
    console.log(summary);
    assert.deepEqual(report.violations, [], summary);
  });
});
