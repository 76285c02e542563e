/**
 * `npm run test:chaos`: the long convergence run of issue 10 (not part of `npm test`): 500 edits on both
 * sides with every fault on, and crmsync killed once with SIGKILL mid-run and started again on the same
 * SQLite file. Seed printed; `CRMSYNC_TEST_SEED` repeats a run, `CRMSYNC_CHAOS_EDITS` changes its length.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatReport, runConvergence, seedFromEnv } from './sync-convergence.ts';

const SEED = seedFromEnv(4242);
const EDITS = Number(process.env['CRMSYNC_CHAOS_EDITS'] ?? 500);

describe('chaos: Beteiligte sync converges (issue 10 acceptance)', () => {
  it(`${EDITS} edits, all faults, one SIGKILL (seed ${SEED})`, { timeout: 15 * 60_000 }, async (t) => {
    console.log(`chaos seed ${SEED} (CRMSYNC_TEST_SEED=${SEED} repeats it)`);
    const report = await runConvergence({
      seed: SEED,
      edits: EDITS,
      pairs: 30,
      createShare: 0.04,
      sameFieldShare: 0.15,
      paceMs: 25,
      faults: {
        advo5xx: 0.08,
        advo429: 0.04,
        advoTimeout: 0.02,
        duplicateWebhook: 0.15,
        reorderWebhook: 0.15,
      },
      optimisticConcurrency: process.env['CRMSYNC_CHAOS_OCC'] !== '0',
      kill: true,
      quiescenceTimeoutMs: 120_000,
      log: (line) => console.log(line),
    });
    const summary = formatReport(report);
    console.log(summary);
    t.diagnostic(summary);
    assert.deepEqual(report.violations, [], summary);
  });
});
