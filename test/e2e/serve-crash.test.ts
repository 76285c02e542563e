/**
 * "A webhook that was answered 2xx is never lost": 1,000 signed webhooks are accepted by a real
 * `crmsync serve` process, which is then killed with SIGKILL (no shutdown hook runs). After a restart all
 * 1,000 are in the queue.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openSqliteBackend } from '../../src/adapters/sqlite/index.ts';
import { signGenericWebhook } from '../../src/connectors/generic/index.ts';
import { sendAll } from '../support/load.ts';
import type { LoadRequest } from '../support/load.ts';
import { startServe, writeInspectConfig } from '../support/serve-process.ts';
import type { ServeProcess } from '../support/serve-process.ts';
import { makeTempDir } from '../support/temp-dir.ts';

const SECRET = 'e2e-secret-0123456789abcdef';
const WEBHOOKS = 1_000;

function webhook(index: number): LoadRequest {
  const body = Buffer.from(
    JSON.stringify({
      events: [{ id: `evt-${index}`, entityType: 'Contact', recordId: index, kind: 'updated' }],
    }),
  );
  return {
    path: '/webhooks/source',
    body,
    headers: { 'x-crmsync-signature': signGenericWebhook(SECRET, body) },
  };
}

describe('crmsync serve killed with SIGKILL', () => {
  const temp = makeTempDir('crmsync-e2e-');
  let serve: ServeProcess | undefined;
  let configFile = '';
  before(() => {
    configFile = writeInspectConfig(temp.path, join(temp.path, 'crmsync.db'), SECRET);
  });
  after(async () => {
    await serve?.stop('SIGKILL');
    temp.remove();
  });

  it('keeps every webhook it answered 2xx', async () => {
    // No workers: the jobs must still be waiting in the queue afterwards, not merely "processed".
    serve = await startServe({ configFile, args: ['--no-workers'] });
    const result = await sendAll(
      serve.url,
      Array.from({ length: WEBHOOKS }, (_, index) => webhook(index)),
      32,
    );
    const accepted = result.statuses.filter((status) => status === 202).length;
    assert.equal(accepted, WEBHOOKS, `statuses: ${[...new Set(result.statuses)].join(',')}`);

    assert.equal(await serve.stop('SIGKILL'), 'SIGKILL');

    serve = await startServe({ configFile, args: ['--no-workers'] });
    const ready = await fetch(`${serve.url}/readyz`);
    assert.equal(ready.status, 200);

    const backend = openSqliteBackend({ path: join(temp.path, 'crmsync.db'), durability: 'process' });
    try {
      const counts = await backend.queue.counts();
      assert.equal(counts.PENDING, WEBHOOKS, `counts after restart: ${JSON.stringify(counts)}`);
      const jobs = await backend.queue.list({ limit: 2 * WEBHOOKS });
      const recordIds = new Set(jobs.map((job) => job.recordKey));
      assert.equal(recordIds.size, WEBHOOKS, 'one job per record');
    } finally {
      await backend.close();
    }
    assert.equal(await serve.stop('SIGTERM'), 0, 'a restarted server shuts down cleanly on SIGTERM');
  });
});
