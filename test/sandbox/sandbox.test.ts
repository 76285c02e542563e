/**
 * startSandbox as `crmsync serve` uses it: the simulator serves the bound connection's credentials, the
 * connection is pointed at the simulator's real address, connect() registers the webhook at crmsync's URL and
 * starts the traffic, and close() stops everything.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { validateConfig } from '../../src/config/index.ts';
import type { FlowTypeSchema } from '../../src/config/index.ts';
import { superofficeConnector } from '../../src/connectors/superoffice/index.ts';
import type { SuperOfficeOptions } from '../../src/connectors/superoffice/index.ts';
import type { ConnectorFactory } from '../../src/ports/connector.ts';
import { SandboxError, sandboxWebhookName, startSandbox, webhookTargetUrl } from '../../src/sandbox/index.ts';
import { eventually } from '../support/eventually.ts';
import { capturingLogger, startReceiver } from './support.ts';

const connectors = new Map<string, ConnectorFactory<unknown>>([
  [superofficeConnector.kind, superofficeConnector],
]);
const options = {
  connectors,
  flowTypes: new Map<string, FlowTypeSchema>(),
  cwd: process.cwd(),
  environment: {},
};
const SECRET = 'sandbox-start-test-secret-0123456789';

function config(sandbox: unknown) {
  return validateConfig(
    {
      connections: {
        so: {
          connector: 'superoffice',
          options: {
            clientId: 'own-client',
            clientSecret: 'own-client-secret',
            refreshToken: 'own-refresh-token',
            contextIdentifier: 'Cust777',
            // Wrong on purpose: the sandbox points the connection at the simulator's real address.
            authBaseUrl: 'http://127.0.0.1:9',
            webhookSecret: SECRET,
          },
        },
      },
      sandbox,
    },
    options,
    'test',
  );
}

describe('startSandbox', () => {
  const closers: (() => Promise<void>)[] = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
  });

  it('starts nothing without a sandbox section', async () => {
    assert.equal(await startSandbox(config(undefined), capturingLogger()), null);
  });

  it('says which port is taken when the simulator cannot listen', async () => {
    const occupant = await startReceiver();
    closers.push(() => occupant.close());
    const port = Number(new URL(occupant.url).port);
    await assert.rejects(
      startSandbox(config({ superoffice: { port } }), capturingLogger()),
      (error: unknown) =>
        error instanceof SandboxError &&
        error.code === 'SANDBOX_PORT_IN_USE' &&
        error.message.includes(`port ${port}`),
    );
  });

  it('binds the connection, registers the webhook at crmsync, runs traffic, and closes', async () => {
    const { logger, lines } = capturingLogger();
    const loaded = config({
      superoffice: { port: 0, webhook: { connection: 'so' }, traffic: { intervalMs: 10 } },
    });
    const sandbox = await startSandbox(loaded, { logger });
    assert.ok(sandbox !== null);
    closers.push(() => sandbox.close());
    const { superoffice: simulator } = sandbox;
    assert.ok(simulator !== undefined);

    assert.deepEqual(simulator.credentials, {
      clientId: 'own-client',
      clientSecret: 'own-client-secret',
      refreshToken: 'own-refresh-token',
      contextIdentifier: 'Cust777',
    });
    const bound = sandbox.config.connections.get('so')?.options as SuperOfficeOptions;
    assert.equal(bound.authBaseUrl, simulator.url);
    assert.equal(bound.webhookSecret, SECRET);
    assert.equal(
      (loaded.connections.get('so')?.options as SuperOfficeOptions).authBaseUrl,
      'http://127.0.0.1:9',
      'the loaded config is left as it was',
    );

    const crmsync = await startReceiver();
    closers.push(() => crmsync.close());
    await sandbox.connect(crmsync.url);
    assert.ok(
      lines.some((line) => line['msg'] === 'sandbox: webhook created' && line['connection'] === 'so'),
      'the registration is logged',
    );
    const change = await eventually(() =>
      crmsync.received.find((request) => request.body['Event'] !== 'test' && request.path === '/webhooks/so'),
    );
    assert.equal(change.body['WebhookName'], sandboxWebhookName('so'));
    assert.ok(lines.some((line) => line['component'] === 'traffic' && 'action' in line));

    await sandbox.close();
    await sandbox.close();
    await assert.rejects(fetch(`${simulator.url}/api/state/Cust777`), 'the simulator is closed');
  });
});

describe('webhookTargetUrl', () => {
  it('points at crmsync, with wildcard bind addresses replaced by loopback', () => {
    assert.equal(
      webhookTargetUrl('http://127.0.0.1:8787', 'superoffice'),
      'http://127.0.0.1:8787/webhooks/superoffice',
    );
    assert.equal(webhookTargetUrl('http://0.0.0.0:8787', 'so'), 'http://127.0.0.1:8787/webhooks/so');
    assert.equal(webhookTargetUrl('http://[::]:8787', 'so'), 'http://[::1]:8787/webhooks/so');
  });
});
