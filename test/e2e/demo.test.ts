/**
 * The demo of `npm start`: `crmsync serve` with the committed demo config (ports and files moved to a temp
 * folder, the traffic sped up) as a child process. The in-process SuperOffice simulator's users create and
 * edit records, its webhooks reach crmsync, and the enrich flow's runs appear in the store: enrichments that
 * wrote fields, and SKIPPED runs for the echoes of those writes and for irrelevant changes. The log has one
 * line per traffic action. SIGTERM ends it all with exit code 0.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openSqliteBackend } from '../../src/adapters/sqlite/index.ts';
import type { Run } from '../../src/ports/store.ts';
import { eventually } from '../support/eventually.ts';
import { startServe } from '../support/serve-process.ts';
import type { ServeProcess } from '../support/serve-process.ts';
import { makeTempDir } from '../support/temp-dir.ts';
import { writeDemoConfig } from './demo-config.ts';

describe('the demo (npm start)', () => {
  const temp = makeTempDir('crmsync-demo-');
  let serve: ServeProcess | undefined;
  before(async () => {
    serve = await startServe({
      // The Beteiligte half runs too (its own test is demo-sync.test.ts), at the committed pace.
      configFile: writeDemoConfig(temp.path, { superofficeTrafficMs: 50, beteiligteTrafficMs: 4_000 }),
      env: { SO_WEBHOOK_SECRET: '' },
    });
  });
  after(async () => {
    await serve?.stop('SIGKILL');
    temp.remove();
  });

  it('enriches the companies the simulated users create and skips echoes and irrelevant changes', async () => {
    assert.ok(serve !== undefined);
    const backend = openSqliteBackend({ path: join(temp.path, 'crmsync.db'), durability: 'process' });
    try {
      const runs = await eventually(
        async () => {
          const all = await backend.store.runs.list({ limit: 1_000 });
          const enriched = all.filter(
            (run: Run) =>
              run.flow === 'superoffice-enrich' && run.outcome === 'COMPLETED' && run.changes.length > 0,
          );
          const skipped = all.filter(
            (run: Run) =>
              run.flow === 'superoffice-enrich' &&
              run.outcome === 'SKIPPED' &&
              /^(echo|irrelevant)\b/.test(run.reason ?? ''),
          );
          return enriched.length > 0 && skipped.length > 0 ? { enriched, skipped } : null;
        },
        { timeoutMs: 60_000, intervalMs: 100 },
      );
      assert.ok(runs.enriched[0]!.changes.some((change) => change.field.startsWith('SuperOffice:')));
    } finally {
      await backend.close();
    }
  });

  it('keeps the webhook healthy: SuperOffice counts anything but 200 as a failed delivery', async () => {
    assert.ok(serve !== undefined);
    const simulatorUrl = /"simulator":"superoffice","url":"([^"]+)"/.exec(serve.output())?.[1];
    assert.ok(simulatorUrl !== undefined, 'the log names the simulator URL');
    const deliveries = (await (await fetch(`${simulatorUrl}/_sim/deliveries`)).json()) as {
      event: string;
      status: number | string;
    }[];
    assert.ok(deliveries.length > 0);
    const failed = deliveries.filter((delivery) => delivery.status !== 200);
    assert.deepEqual(
      failed.slice(0, 5),
      [],
      `${failed.length} of ${deliveries.length} deliveries were not answered 200 (retried, then TooManyErrors)`,
    );
  });

  it('logs the traffic and the registration, never the secret, and stops cleanly on SIGTERM', async () => {
    assert.ok(serve !== undefined);
    const output = serve.output();
    assert.match(output, /"component":"traffic".*"action":"create-company"/);
    assert.match(output, /"msg":"sandbox: webhook created"/);
    assert.doesNotMatch(output, /demo-superoffice-webhook-secret/, 'the webhook secret is never logged');
    assert.equal(await serve.stop('SIGTERM'), 0);
    assert.match(serve.output(), /"msg":"sandbox: simulator stopped"/);
  });
});
