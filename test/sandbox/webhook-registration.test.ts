/**
 * Registering the simulator's webhook is idempotent: a second call, a restart of a persisted simulator, a
 * new crmsync address, a webhook stopped by TooManyErrors and stray duplicates all end with exactly one
 * registration that delivers where and as asked.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startSuperOfficeSimulator } from '../../src/simulators/superoffice/index.ts';
import type { SuperOfficeSimulator } from '../../src/simulators/superoffice/index.ts';
import { ensureSimulatorWebhook } from '../../src/sandbox/index.ts';
import type { SimulatorWebhook } from '../../src/sandbox/index.ts';
import { callSimulator, simulatorAccessToken } from '../../src/sandbox/simulator-http.ts';
import { eventually } from '../support/eventually.ts';
import { makeTempDir } from '../support/temp-dir.ts';
import { startReceiver } from './support.ts';

interface Registration {
  WebhookId: number;
  Name: string;
  TargetUrl: string;
  State: string;
  Events: string[];
}

async function registrations(simulator: SuperOfficeSimulator): Promise<Registration[]> {
  const token = await simulatorAccessToken(simulator);
  return (await callSimulator({
    method: 'GET',
    url: `${simulator.webapiUrl}v1/Webhook`,
    token,
  })) as Registration[];
}

describe('ensureSimulatorWebhook', () => {
  const temp = makeTempDir('crmsync-sandbox-webhook-');
  const persistFile = join(temp.path, 'simulator.json');
  const closers: (() => Promise<void>)[] = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
    temp.remove();
  });
  const start = async () => {
    const simulator = await startSuperOfficeSimulator({ persistFile });
    closers.push(() => simulator.close());
    return simulator;
  };

  it('registers once, keeps it across restarts, and repairs target, state and duplicates', async () => {
    const receiver = await startReceiver();
    closers.push(() => receiver.close());
    const wanted: SimulatorWebhook = {
      name: 'crmsync-sandbox-superoffice',
      targetUrl: `${receiver.url}/webhooks/superoffice`,
      events: ['contact.created', 'contact.changed'],
      secret: 'registration-test-secret-0123456789',
    };

    let simulator = await start();
    const created = await ensureSimulatorWebhook(simulator, wanted);
    assert.equal(created.outcome, 'created');
    assert.deepEqual(await ensureSimulatorWebhook(simulator, wanted), {
      webhookId: created.webhookId,
      outcome: 'unchanged',
    });

    // A restart from the persisted file: still registered, not again.
    await simulator.close();
    simulator = await start();
    assert.deepEqual(await ensureSimulatorWebhook(simulator, wanted), {
      webhookId: created.webhookId,
      outcome: 'unchanged',
    });
    assert.equal((await registrations(simulator)).length, 1);

    // crmsync moved (port 0 picks another port): the same registration follows it.
    const moved = await startReceiver();
    closers.push(() => moved.close());
    const movedWanted = { ...wanted, targetUrl: `${moved.url}/webhooks/superoffice` };
    assert.deepEqual(await ensureSimulatorWebhook(simulator, movedWanted), {
      webhookId: created.webhookId,
      outcome: 'updated',
    });

    // Stopped (as after TooManyErrors), plus a stray duplicate of the same name: one Active one is left.
    const token = await simulatorAccessToken(simulator);
    const base = `${simulator.webapiUrl}v1/Webhook`;
    await callSimulator({
      method: 'PUT',
      url: `${base}/${created.webhookId}`,
      token,
      body: { State: 'Stopped' },
    });
    await callSimulator({
      method: 'POST',
      url: base,
      token,
      body: { Name: wanted.name, Events: ['contact.created'], TargetUrl: movedWanted.targetUrl },
    });
    assert.deepEqual(await ensureSimulatorWebhook(simulator, movedWanted), {
      webhookId: created.webhookId,
      outcome: 'updated',
    });
    const left = await registrations(simulator);
    assert.deepEqual(
      left.map((registration) => [registration.WebhookId, registration.State, registration.TargetUrl]),
      [[created.webhookId, 'Active', movedWanted.targetUrl]],
    );

    // It delivers: one change, one delivery (not one per registration ever made).
    await callSimulator({
      method: 'POST',
      url: `${simulator.url}/_sim/act/RKAB/Contact`,
      body: { Name: 'Eins GmbH' },
    });
    const delivered = await eventually(() =>
      moved.received.find((request) => request.body['Event'] === 'contact.created'),
    );
    assert.equal(delivered.path, '/webhooks/superoffice');
    const deliveries = (await callSimulator({
      method: 'GET',
      url: `${simulator.url}/_sim/deliveries`,
    })) as unknown[];
    assert.equal(deliveries.length, 1);
  });
});
