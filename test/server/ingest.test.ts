// Group commit through HTTP: many concurrent webhooks, few commits; a failed commit is never answered 2xx.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sendAll } from '../support/load.ts';
import type { LoadRequest } from '../support/load.ts';
import { signed, startTestServer } from './harness.ts';
import type { TestServer } from './harness.ts';

const CONCURRENT = 200;

function webhook(index: number, tag: string): LoadRequest {
  const { body, headers } = signed({
    events: [{ id: `${tag}-${index}`, entityType: 'Contact', recordId: `${tag}-${index}` }],
  });
  return { path: '/webhooks/source', body: Buffer.from(body), headers };
}

describe('ingest group commit', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ ingest: { maxBatch: 512, maxWaitMs: 5 } });
  });
  after(async () => {
    await server.close();
  });

  it(`stores ${CONCURRENT} concurrent webhooks with far fewer commits than requests`, async () => {
    const callsBefore = server.queue.enqueueManyCalls;
    const requests = Array.from({ length: CONCURRENT }, (_, index) => webhook(index, 'batch'));
    const result = await sendAll(server.url, requests, CONCURRENT);
    assert.deepEqual([...new Set(result.statuses)], [202]);

    const commits = server.queue.enqueueManyCalls - callsBefore;
    assert.ok(commits <= CONCURRENT / 4, `${commits} commits for ${CONCURRENT} requests`);
    const counts = await server.queue.counts();
    assert.equal(counts.PENDING, CONCURRENT);
    const jobs = await server.queue.list({ limit: 2 * CONCURRENT });
    assert.equal(new Set(jobs.map((job) => job.recordKey)).size, CONCURRENT);
  });

  it('answers 503 STORAGE_UNAVAILABLE to every request of a failed commit, never 2xx', async () => {
    const countsBefore = await server.queue.counts();
    server.queue.failCommits = true;
    try {
      const requests = Array.from({ length: 20 }, (_, index) => webhook(index, 'fail'));
      const result = await sendAll(server.url, requests, 20);
      assert.deepEqual([...new Set(result.statuses)], [503]);
      const response = await server.webhook('source', { entityType: 'Contact', recordId: 'fail-one' });
      assert.equal(response.status, 503);
      assert.deepEqual(await response.json(), {
        error: {
          code: 'STORAGE_UNAVAILABLE',
          message: 'Could not store the webhook durably; send it again later.',
        },
      });
    } finally {
      server.queue.failCommits = false;
    }
    assert.deepEqual(await server.queue.counts(), countsBefore);
    assert.match(
      await server.metrics.registry.metrics(),
      /crmsync_webhooks_total\{connection="source",outcome="error"\} 21/,
    );

    // The vendor's retry succeeds once storage is back.
    const retried = await server.webhook('source', { entityType: 'Contact', recordId: 'fail-one' });
    assert.equal(retried.status, 202);
  });
});
