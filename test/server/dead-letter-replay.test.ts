// The whole dead-letter path through the composition root and the CLI: a signed EspoCRM delivery of a webhook
// whose event crmsync cannot tell (not registered, no ?event=) is answered 200 and kept DEAD; `crmsync jobs
// list --state DEAD` shows it; after the config is fixed (the webhook's event recorded, as `crmsync espocrm
// webhook register` does), `crmsync jobs replay` parses the stored body again and its events reach the flow.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { startApp } from '../../src/cli/app.ts';
import type { RunningApp } from '../../src/cli/app.ts';
import { connectorFactories, flowTypes } from '../../src/cli/registry.ts';
import { loadConfig } from '../../src/config/index.ts';
import { WebhookEventDirectory } from '../../src/connectors/espocrm/webhook-events.ts';
import { signEspoCrmWebhook } from '../../src/connectors/espocrm/index.ts';
import { systemClock } from '../../src/ports/clock.ts';
import type { Job } from '../../src/ports/queue.ts';
import type { WebhookSummary } from '../../src/server/app.ts';
import { DEAD_LETTER_FLOW } from '../../src/server/dead-letters.ts';
import { eventually } from '../support/eventually.ts';
import { runWithConfig, writeCrmsyncConfig } from '../support/run-cli.ts';
import { makeTempDir } from '../support/temp-dir.ts';

const WEBHOOK_ID = '6651a8e2f0b1c4d7e';
const SECRET = 'dead-letter-test-secret-5f4dcc3b';
const BODY = '[{"id":"66a1b2c3d4e5f6789","name":"M\\u00fcller","modifiedAt":"2026-03-02 08:00:00"}]';

describe('webhook dead letters: stored, listed, replayed after the config is fixed', () => {
  const temp = makeTempDir('crmsync-dead-letter-');
  let configPath: string;
  let app: RunningApp;
  before(async () => {
    ({ configPath } = writeCrmsyncConfig(
      temp.path,
      `server: { port: 0 },
  log: { level: 'silent' },
  worker: { pollMs: 20 },
  connections: {
    espo: {
      connector: 'espocrm',
      options: { baseUrl: 'http://127.0.0.1:9', auth: { mode: 'apiKey', apiKey: 'unused' }, webhookSecrets: ${JSON.stringify(SECRET)} },
    },
  },
  flows: { watch: { type: 'inspect', connections: ['espo'] } },`,
    ));
    const config = await loadConfig({
      file: configPath,
      environment: {},
      cwd: temp.path,
      connectors: connectorFactories,
      flowTypes,
    });
    app = await startApp(config, { clock: systemClock, logger: pino({ level: 'silent' }) });
  });
  after(async () => {
    await app.stop();
    temp.remove();
  });

  const post = (signature: string | undefined) =>
    fetch(`${app.url}/webhooks/espo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(signature !== undefined && { signature }) },
      body: BODY,
    });

  let deadLetter: string;

  it('answers a signed delivery of an unknown event 200 and keeps it DEAD with the reason', async () => {
    const response = await post(signEspoCrmWebhook(WEBHOOK_ID, SECRET, BODY));
    assert.equal(response.status, 200);
    const summary = (await response.json()) as WebhookSummary;
    assert.equal(summary.deadLetter?.code, 'ESPOCRM_WEBHOOK_EVENT_UNKNOWN');
    deadLetter = summary.jobs[0]!;
    const job = await app.backend.queue.get(deadLetter);
    assert.equal(job?.state, 'DEAD');
    assert.ok(!JSON.stringify(job).includes(SECRET), 'no secret is stored');
  });

  it('refuses the same body unsigned with 401 and stores nothing', async () => {
    const before = await app.backend.queue.counts();
    assert.equal((await post(undefined)).status, 401);
    assert.equal(
      (await post(signEspoCrmWebhook(WEBHOOK_ID, 'another-secret-of-32-characters!', BODY))).status,
      401,
    );
    assert.deepEqual(await app.backend.queue.counts(), before);
  });

  it('is listed by `crmsync jobs list --state DEAD` and counted in /metrics', async () => {
    const listed = await runWithConfig(configPath, ['jobs', 'list', '--state', 'DEAD', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    const jobs = JSON.parse(listed.stdout) as Job[];
    assert.deepEqual(
      jobs.map((job) => [job.id, job.flow, job.lastError?.code]),
      [[deadLetter, DEAD_LETTER_FLOW, 'ESPOCRM_WEBHOOK_EVENT_UNKNOWN']],
    );
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    assert.match(metrics, /crmsync_webhooks_total\{connection="espo",outcome="dead_letter"\} 1/);
    assert.match(metrics, /crmsync_jobs\{state="DEAD"\} 1/);
  });

  it('replays into the routed flow once the webhook event is known', async () => {
    await new WebhookEventDirectory(app.backend.store.connectorState, 'espo').remember(
      WEBHOOK_ID,
      'Account.update',
    );
    const replayed = await runWithConfig(configPath, ['jobs', 'replay', deadLetter]);
    assert.equal(replayed.code, 0, replayed.stderr);
    await eventually(async () => (await app.backend.queue.get(deadLetter))?.state === 'COMPLETED');
    const [job] = await app.backend.queue.list({ recordKey: 'watch|espo/Account/66a1b2c3d4e5f6789' });
    assert.ok(job !== undefined, 'the replayed event was queued for the flow');
    assert.deepEqual((job.payloads[0] as { vendorEvent?: string }).vendorEvent, 'Account.update');
    await eventually(async () => (await app.backend.queue.get(job.id))?.state === 'COMPLETED');
  });
});
