// POST /webhooks/:connection over a real socket, stored in a real SQLite queue.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { WebhookSummary } from '../../src/server/app.ts';
import { signed, startTestServer } from './harness.ts';
import type { TestServer } from './harness.ts';

interface ErrorAnswer {
  error: { code: string; message: string };
}

/** Reads an error answer and checks its shape: exactly `{"error":{"code","message"}}`. */
async function errorOf(response: Response): Promise<ErrorAnswer['error']> {
  const body = (await response.json()) as ErrorAnswer;
  assert.deepEqual(Object.keys(body), ['error']);
  assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message']);
  assert.equal(typeof body.error.code, 'string');
  assert.equal(typeof body.error.message, 'string');
  return body.error;
}

describe('POST /webhooks/:connection', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ bodyLimitBytes: 4_096 });
  });
  after(async () => {
    await server.close();
  });

  /** Jobs of the test server's queue for one record key. */
  const jobsOf = (recordKey: string) => server.queue.list({ recordKey, limit: 10 });

  it('answers 202 after the job is stored, and the job carries the change event', async () => {
    const response = await server.webhook('source', {
      events: [{ id: 'evt-1', entityType: 'Contact', recordId: 1, kind: 'updated', changedFields: ['name'] }],
    });
    assert.equal(response.status, 202);
    const summary = (await response.json()) as WebhookSummary;
    assert.equal(summary.accepted, 1);
    assert.equal(summary.duplicates, 0);
    assert.equal(summary.coalesced, 0);
    assert.equal(summary.jobs.length, 1);

    const job = await server.queue.get(summary.jobs[0]!);
    assert.equal(job?.flow, 'sync');
    assert.equal(job?.recordKey, 'sync|source/Contact/1');
    assert.equal(job?.state, 'PENDING');
    assert.deepEqual(job?.payloads, [
      {
        ref: { connection: 'source', entityType: 'Contact', id: '1' },
        kind: 'updated',
        eventId: 'evt-1',
        changedFields: ['name'],
      },
    ]);
  });

  it('creates one job per flow fed by the connection', async () => {
    const response = await server.webhook('fanout', { entityType: 'Contact', recordId: 'f-1' });
    assert.equal(response.status, 202);
    const summary = (await response.json()) as WebhookSummary;
    assert.equal(summary.accepted, 2);
    const jobs = await Promise.all(summary.jobs.map((id) => server.queue.get(id)));
    assert.deepEqual(jobs.map((job) => job?.recordKey).sort(), [
      'enrich|fanout/Contact/f-1',
      'sync|fanout/Contact/f-1',
    ]);
  });

  it('recognises a redelivered event id: duplicates 1, still one job', async () => {
    const event = { id: 'evt-dup', entityType: 'Contact', recordId: 'dup', kind: 'created' };
    const first = (await (await server.webhook('source', event)).json()) as WebhookSummary;
    const response = await server.webhook('source', event);
    assert.equal(response.status, 202);
    const second = (await response.json()) as WebhookSummary;
    assert.deepEqual(second, { accepted: 0, duplicates: 1, coalesced: 0, jobs: first.jobs });
    const jobs = await jobsOf('sync|source/Contact/dup');
    assert.equal(jobs.length, 1);
    assert.equal(jobs[0]?.inputCount, 1);
  });

  it('coalesces two events for the same record into one job', async () => {
    const response = await server.webhook('source', {
      events: [
        { id: 'evt-c1', entityType: 'Contact', recordId: 'co', changedFields: ['name'] },
        { id: 'evt-c2', entityType: 'Contact', recordId: 'co', changedFields: ['phone'] },
      ],
    });
    assert.equal(response.status, 202);
    const summary = (await response.json()) as WebhookSummary;
    assert.equal(summary.accepted, 2);
    assert.equal(summary.coalesced, 1);
    assert.equal(summary.jobs.length, 1);
    const jobs = await jobsOf('sync|source/Contact/co');
    assert.equal(jobs.length, 1);
    assert.equal(jobs[0]?.inputCount, 2);
  });

  it('accepts a connection that feeds no flow with 202 and stores nothing', async () => {
    const calls = server.queue.enqueueManyCalls;
    const response = await server.webhook('lonely', { entityType: 'Contact', recordId: 1 });
    assert.equal(response.status, 202);
    assert.deepEqual(await response.json(), { accepted: 0, duplicates: 0, coalesced: 0, jobs: [] });
    assert.equal(server.queue.enqueueManyCalls, calls);
    assert.match(
      await server.metrics.registry.metrics(),
      /crmsync_webhooks_total\{connection="lonely",outcome="unrouted"\} 1/,
    );
  });

  describe('refusals store nothing', () => {
    let countsBefore: Record<string, number>;
    before(async () => {
      countsBefore = await server.queue.counts();
    });

    it('401 for a missing signature', async () => {
      const response = await server.webhook(
        'source',
        { entityType: 'Contact', recordId: 'x' },
        { 'x-crmsync-signature': '' },
      );
      assert.equal(response.status, 401);
      assert.equal((await errorOf(response)).code, 'WEBHOOK_SIGNATURE_INVALID');
      const missing = await fetch(`${server.url}/webhooks/source`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"entityType":"Contact","recordId":"x"}',
      });
      assert.equal(missing.status, 401);
      assert.equal((await errorOf(missing)).code, 'WEBHOOK_SIGNATURE_MISSING');
    });

    it('401 for a tampered body', async () => {
      const original = JSON.stringify({ entityType: 'Contact', recordId: 'x' });
      const { headers } = signed(original);
      const response = await fetch(`${server.url}/webhooks/source`, {
        method: 'POST',
        headers,
        body: original.replace('"x"', '"y"'),
      });
      assert.equal(response.status, 401);
      assert.equal((await errorOf(response)).code, 'WEBHOOK_SIGNATURE_INVALID');
    });

    it('404 for an unknown connection', async () => {
      const response = await server.webhook('nope', { entityType: 'Contact', recordId: 1 });
      assert.equal(response.status, 404);
      assert.equal((await errorOf(response)).code, 'CONNECTION_UNKNOWN');
    });

    it('413 for a body over the limit', async () => {
      const response = await server.webhook('source', {
        entityType: 'Contact',
        recordId: 1,
        data: { blob: 'x'.repeat(5_000) },
      });
      assert.equal(response.status, 413);
      assert.equal((await errorOf(response)).code, 'PAYLOAD_TOO_LARGE');
    });

    it('counts refusals by outcome, unknown connections under one label', async () => {
      const text = await server.metrics.registry.metrics();
      for (const outcome of ['unauthorized', 'too_large']) {
        assert.match(
          text,
          new RegExp(`crmsync_webhooks_total\\{connection="source",outcome="${outcome}"\\} [1-9]`),
        );
      }
      assert.match(text, /crmsync_webhooks_total\{connection="\(unknown\)",outcome="unknown_connection"\} 1/);
    });

    it('stored none of them', async () => {
      assert.deepEqual(await server.queue.counts(), countsBefore);
    });
  });

  it('answers 404 with the error shape for a route that does not exist', async () => {
    const response = await fetch(`${server.url}/nowhere?token=secret`);
    assert.equal(response.status, 404);
    const error = await errorOf(response);
    assert.equal(error.code, 'ROUTE_NOT_FOUND');
    assert.ok(!error.message.includes('secret'), 'the query string is not echoed');
  });
});
