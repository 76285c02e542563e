/**
 * `sandbox.beteiligte` as `crmsync serve` uses it: the config check of the connections it names, the EspoCRM
 * and Advoware simulators serving those connections' credentials, the connections pointed at them with the
 * EspoCRM webhooks' secretKeys, connect() pointing the webhooks at crmsync, a restart on the persisted files
 * reusing the same webhooks (and secrets), and the traffic generator driving both simulators.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { validateConfig } from '../../src/config/index.ts';
import type { FlowTypeSchema } from '../../src/config/index.ts';
import { advowareConnector } from '../../src/connectors/advoware/index.ts';
import type { AdvowareOptions } from '../../src/connectors/advoware/options.ts';
import { espocrmConnector } from '../../src/connectors/espocrm/index.ts';
import type { EspoCrmOptions } from '../../src/connectors/espocrm/options.ts';
import { ConfigError } from '../../src/core/errors.ts';
import type { ConnectorFactory } from '../../src/ports/connector.ts';
import {
  BETEILIGTE_WEBHOOK_EVENTS,
  BeteiligteTrafficGenerator,
  startSandbox,
} from '../../src/sandbox/index.ts';
import type { RunningSandbox } from '../../src/sandbox/index.ts';
import { makeTempDir } from '../support/temp-dir.ts';
import { capturingLogger } from './support.ts';

const connectors = new Map<string, ConnectorFactory<unknown>>([
  [espocrmConnector.kind, espocrmConnector],
  [advowareConnector.kind, advowareConnector],
]);
const options = {
  connectors,
  flowTypes: new Map<string, FlowTypeSchema>(),
  cwd: process.cwd(),
  environment: {},
};

const API_KEY = 'own-api-key-for-the-sandbox-test';
const SECRET_KEY = 'own-hmac-secret-for-the-sandbox-t';
const ADVO_PASSWORD = 'own-advoware-password';

function config(dir: string, connectionOverrides: Record<string, unknown> = {}) {
  return validateConfig(
    {
      connections: {
        espo: {
          connector: 'espocrm',
          // Wrong on purpose: the sandbox points the connection at the simulator's real address.
          options: {
            baseUrl: 'http://127.0.0.1:9',
            auth: { mode: 'hmac', apiKey: API_KEY, secretKey: SECRET_KEY },
          },
        },
        advo: {
          connector: 'advoware',
          options: {
            configuratorUrl: 'http://127.0.0.1:9/AdvonetConfigurator/api/Url',
            kanzlei: 'own-kanzlei',
            database: 'advoware',
            user: 'API',
            password: ADVO_PASSWORD,
            appId: 'own-app',
            apiKey: Buffer.from('own-advoware-api-key', 'utf8').toString('base64'),
          },
        },
        ...connectionOverrides,
      },
      sandbox: {
        beteiligte: {
          espocrm: {
            port: 0,
            connection: 'espo',
            persistFile: join(dir, 'espocrm.json'),
            webhookIntervalMs: 20,
          },
          advoware: { port: 0, connection: 'advo', persistFile: join(dir, 'advoware.json') },
          traffic: { enabled: false },
        },
      },
    },
    options,
    'test',
  );
}

async function espoApi<T>(sandbox: RunningSandbox, method: string, path: string): Promise<T> {
  assert.ok(sandbox.espocrm !== undefined);
  const response = await fetch(`${sandbox.espocrm.url}/api/v1/${path}`, {
    method,
    headers: { 'x-api-key': API_KEY },
  });
  assert.equal(response.status, 200, `${method} ${path}`);
  return (await response.json()) as T;
}

describe('sandbox.beteiligte', () => {
  const temp = makeTempDir('crmsync-sandbox-beteiligte-');
  const closers: (() => Promise<void>)[] = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
    temp.remove();
  });

  it('refuses connections of the wrong connector, at the sandbox path', () => {
    assert.throws(
      () => config(temp.path, { advo: { connector: 'espocrm', options: {} } }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.problems.some(
          (problem) =>
            problem.path === 'sandbox.beteiligte.advoware.connection' &&
            /uses the espocrm connector/.test(problem.message),
        ),
    );
  });

  it('serves the connections, registers the webhooks with their secrets, and reuses them after a restart', async () => {
    const { logger } = capturingLogger();
    const loaded = config(temp.path);
    const first = await startSandbox(loaded, { logger });
    assert.ok(first?.espocrm !== undefined && first.advoware !== undefined);
    closers.push(() => first.close());

    assert.deepEqual(
      { apiKey: first.espocrm.credentials.apiKey, secretKey: first.espocrm.credentials.secretKey },
      { apiKey: API_KEY, secretKey: SECRET_KEY },
    );
    assert.equal(first.advoware.credentials.password, ADVO_PASSWORD);
    assert.equal(first.advoware.credentials.kanzlei, 'own-kanzlei');
    const espo = first.config.connections.get('espo')?.options as EspoCrmOptions;
    const advo = first.config.connections.get('advo')?.options as AdvowareOptions;
    assert.equal(espo.baseUrl, first.espocrm.url);
    assert.equal(advo.configuratorUrl, first.advoware.configuratorUrl);

    const { list } = await espoApi<{ list: { id: string; event: string; url: string; secretKey: string }[] }>(
      first,
      'GET',
      'Webhook',
    );
    assert.deepEqual(list.map((webhook) => webhook.event).sort(), [...BETEILIGTE_WEBHOOK_EVENTS].sort());
    assert.deepEqual(
      espo.webhookSecrets,
      Object.fromEntries(list.map((webhook) => [webhook.id, webhook.secretKey])),
    );

    await first.connect('http://0.0.0.0:4711');
    const pointed = await espoApi<{ list: { event: string; url: string }[] }>(first, 'GET', 'Webhook');
    for (const webhook of pointed.list)
      assert.equal(
        webhook.url,
        `http://127.0.0.1:4711/webhooks/espo?event=${encodeURIComponent(webhook.event)}`,
      );
    await first.close();

    // A restart on the persisted files: the same three webhooks, the same secrets, no fourth.
    const second = await startSandbox(config(temp.path), { logger });
    assert.ok(second !== null);
    closers.push(() => second.close());
    const again = await espoApi<{ list: { id: string }[] }>(second, 'GET', 'Webhook');
    assert.deepEqual(
      again.list.map((webhook) => webhook.id).sort(),
      list.map((webhook) => webhook.id).sort(),
    );
    assert.deepEqual(
      (second.config.connections.get('espo')?.options as EspoCrmOptions).webhookSecrets,
      espo.webhookSecrets,
    );
    await second.close();
  });

  it('drives both simulators: creates on an empty side, then edits what exists', async () => {
    const { logger, lines } = capturingLogger();
    const sandbox = await startSandbox(config(join(temp.path, 'traffic')), { logger });
    assert.ok(sandbox?.espocrm !== undefined && sandbox.advoware !== undefined);
    closers.push(() => sandbox.close());
    const seed = 7;
    console.log(`traffic seed ${seed}`);
    const traffic = new BeteiligteTrafficGenerator({
      espocrm: { url: sandbox.espocrm.url, apiKey: API_KEY },
      advoware: { url: sandbox.advoware.url },
      seed,
      conflictChance: 0,
      intervalMs: 1_000,
      logger,
    });
    const actions = [];
    for (let step = 0; step < 12; step += 1) actions.push(await traffic.step());
    const world = await traffic.readWorld();
    assert.ok(world.espocrm.length >= 3 && world.advoware.length >= 3, 'each side got its first records');
    assert.ok(
      actions.some((action) => action.action === 'edit-in-espocrm' || action.action === 'edit-in-advoware'),
    );
    // Every edit names a record that exists on its side.
    for (const action of actions)
      for (const [index, edit] of action.edits.entries()) {
        const id = action.ids[index];
        const ids =
          edit.side === 'espocrm'
            ? world.espocrm.map((r) => r.id)
            : world.advoware.map((r) => String(r.betNr));
        assert.ok(ids.includes(id ?? ''), `${edit.side} has ${id}`);
      }
    assert.equal(lines.filter((line) => line['component'] === 'beteiligte-traffic').length, actions.length);
    await sandbox.close();
  });
});
