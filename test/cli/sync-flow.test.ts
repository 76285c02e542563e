/**
 * The sync flow's composition: `type: 'sync'` validates through the registry, a side whose connection is not in
 * the flow is a ConfigError naming the path, and scan intervals become cron steps whose budget is never
 * overspent.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connectorFactories, flowTypes } from '../../src/cli/registry.ts';
import { everySeconds } from '../../src/cli/sync-flow.ts';
import { validateConfig } from '../../src/config/load.ts';
import type { ConfigError } from '../../src/core/errors.ts';
import { beteiligteFlowDefaults } from '../../src/engine/flows/sync/index.ts';

function validate(raw: unknown) {
  return validateConfig(
    raw,
    { connectors: connectorFactories, flowTypes, cwd: process.cwd(), environment: {} },
    'test',
  );
}

describe('sync flow composition', () => {
  it('every interval becomes a cron step that divides a minute, an hour or a day, never longer than asked', () => {
    const cases: [number, string, number][] = [
      [1, '*/1 * * * * *', 1],
      [45, '*/30 * * * * *', 30],
      [60, '0 */1 * * * *', 60],
      [300, '0 */5 * * * *', 300],
      [420, '0 */6 * * * *', 360],
      [7_200, '0 0 */2 * * *', 7_200],
      [86_400, '0 0 0 * * *', 86_400],
    ];
    for (const [seconds, cron, step] of cases)
      assert.deepEqual(everySeconds(seconds), { cron, seconds: step }, `${seconds} s`);
  });

  it('a sync flow config validates with its defaults, and every problem is listed with its path', () => {
    // Validation does not open connections; webhook-only ones keep the config short.
    const secret = { secret: 'test-secret-0123456789-0123456789' };
    const connections = {
      espo: { connector: 'generic', options: secret },
      advo: { connector: 'generic', options: secret },
    };
    const good = {
      type: 'sync',
      connections: ['espo', 'advo'],
      ...beteiligteFlowDefaults({ espocrm: 'espo', advoware: 'advo' }),
    };
    const config = validate({ connections, flows: { bet: good } });
    const options = config.flows.get('bet')?.options as Record<
      string,
      { recheck?: { everySeconds: number } }
    >;
    assert.equal(options['detection']?.recheck?.everySeconds, 60);
    assert.throws(
      () =>
        validate({
          connections,
          flows: {
            bet: { ...good, detection: { recheck: { budgetShare: 2 } }, deletes: { graceMinutes: -1 } },
          },
        }),
      (error: ConfigError) => {
        const paths = error.problems.map((problem) => problem.path);
        assert.ok(
          paths.some((path) => path.includes('detection.recheck.budgetShare')),
          paths.join(', '),
        );
        assert.ok(
          paths.some((path) => path.includes('deletes.graceMinutes')),
          paths.join(', '),
        );
        return true;
      },
    );
  });
});
