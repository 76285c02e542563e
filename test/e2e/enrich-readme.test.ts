/**
 * README "Against a real SuperOffice tenant", steps 4 and 5, as an operator runs them, against the
 * SuperOffice simulator: `crmsync serve` as a process, the webhook registered with the CLI, then
 * `create-test-company`, the enrichment in `runs list`, `verify`, `cleanup`. The test company is made by the
 * API user, so this is also the test that the flow does not take an unknown change by its own user for an echo.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Run } from '../../src/ports/store.ts';
import {
  simulatorConnectionOptions,
  startSuperOfficeSimulator,
} from '../../src/simulators/superoffice/index.ts';
import type { SuperOfficeSimulator } from '../../src/simulators/superoffice/index.ts';
import { eventually } from '../support/eventually.ts';
import { runWithConfig, writeCrmsyncConfig } from '../support/run-cli.ts';
import type { CliResult } from '../support/run-cli.ts';
import { startServe } from '../support/serve-process.ts';
import type { ServeProcess } from '../support/serve-process.ts';
import { makeTempDir } from '../support/temp-dir.ts';
import type { TempDir } from '../support/temp-dir.ts';

/** RKAB, one of the configured owners, in the simulator's demo tenant. */
const RKAB = '485';

describe('README step 5: create-test-company against a running crmsync', () => {
  let sim: SuperOfficeSimulator;
  let temp: TempDir;
  let serve: ServeProcess;
  let configPath: string;
  const crmsync = async (args: readonly string[]): Promise<CliResult> => {
    const result = await runWithConfig(configPath, args);
    assert.equal(result.code, 0, `crmsync ${args.join(' ')}:\n${result.stdout}${result.stderr}`);
    return result;
  };

  before(async () => {
    sim = await startSuperOfficeSimulator({ webhookDelivery: { retryDelaysMs: [20, 50] } });
    temp = makeTempDir('crmsync-readme-e2e-');
    const connection = {
      ...simulatorConnectionOptions(sim),
      webhookSecret: 'readme-webhook-secret-0123456789',
    };
    ({ configPath } = writeCrmsyncConfig(
      temp.path,
      `server: { host: '127.0.0.1', port: 0 },
  worker: { pollMs: 20 },
  connections: { superoffice: { connector: 'superoffice', options: ${JSON.stringify(connection)} } },
  flows: {
    'superoffice-enrich': {
      type: 'enrich',
      connections: ['superoffice'],
      owners: { shortNames: ['RKAB', 'RCGO'] },
      // The webhook must do it: a scan would enrich the company too.
      reconcile: { enabled: false },
    },
  },`,
    ));
    serve = await startServe({ configFile: configPath });
  });
  after(async () => {
    await serve?.stop();
    await sim?.close();
    temp?.remove();
  });

  it('the test company is enriched within seconds, verify passes, cleanup removes it', async () => {
    await crmsync([
      'superoffice',
      'webhook',
      'register',
      'superoffice',
      '--url',
      `${serve.url}/webhooks/superoffice`,
    ]);
    const created = await crmsync(['superoffice', 'create-test-company', 'superoffice', '--owner', RKAB]);
    const id = created.stdout.trim();
    assert.match(id, /^\d+$/);

    const [enriched, echo] = await eventually(
      async () => {
        const runs = JSON.parse((await crmsync(['runs', 'list', '--json'])).stdout) as Run[];
        const ofCompany = runs
          .filter((run) => run.ref.entityType === 'Contact' && run.ref.id === id)
          .reverse();
        const described = ofCompany.map((run) => `${run.outcome} ${run.reason}`).join('; ');
        assert.equal(ofCompany.length, 2, `runs of Contact ${id}: ${described}`);
        assert.ok(
          ofCompany.every((run) => run.outcome !== null),
          `runs of Contact ${id}: ${described}`,
        );
        return ofCompany;
      },
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    assert.equal(enriched!.outcome, 'COMPLETED');
    assert.match(enriched!.reason ?? '', /^enriched: wrote vertical, summary, companyOpener/);
    assert.equal(enriched!.displayName, 'Bremer Abenteuerland');
    // The webhook of that write is the flow's own echo: skipped without an API call.
    assert.equal(echo!.outcome, 'SKIPPED');
    assert.match(echo!.reason ?? '', /^echo: /);
    assert.equal(echo!.apiCalls, 0);

    const verified = await crmsync(['superoffice', 'verify', 'superoffice', id]);
    assert.match(verified.stdout, /Verdict: LANDED/);
    const cleaned = await crmsync(['superoffice', 'cleanup', 'superoffice']);
    assert.match(cleaned.stdout, /1 deleted/);
  });
});
