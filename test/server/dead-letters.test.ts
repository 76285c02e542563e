// A correctly signed webhook is never refused for its content: it is stored as a DEAD job (a dead letter)
// with its raw body and the reason, and answered 200. Unsigned or badly signed ones stay 401.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { signGenericWebhook } from '../../src/connectors/generic/index.ts';
import { signSuperOfficeWebhook, superofficeConnector } from '../../src/connectors/superoffice/index.ts';
import { systemClock } from '../../src/ports/clock.ts';
import type { Job } from '../../src/ports/queue.ts';
import type { WebhookSummary } from '../../src/server/app.ts';
import { DEAD_LETTER_FLOW } from '../../src/server/dead-letters.ts';
import { testOptions } from '../connectors/superoffice/support.ts';
import { SECRET, startTestServer } from './harness.ts';
import type { TestServer } from './harness.ts';

describe('signed webhooks whose content cannot be taken', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  /** Sends a signed delivery and returns the dead letter it became. */
  async function deadLetterOf(
    body: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ summary: WebhookSummary; job: Job }> {
    const response = await server.webhook('source', body, headers);
    assert.equal(response.status, 200);
    const summary = (await response.json()) as WebhookSummary;
    assert.equal(summary.accepted, 0);
    assert.equal(summary.jobs.length, 1);
    const job = await server.queue.get(summary.jobs[0]!);
    assert.ok(job !== null);
    assert.equal(job.state, 'DEAD');
    assert.equal(job.flow, DEAD_LETTER_FLOW);
    assert.deepEqual(job.lastError, summary.deadLetter);
    return { summary, job };
  }

  it('stores invalid JSON with its raw body and the reason, answered 200', async () => {
    const { summary, job } = await deadLetterOf('{"events": [');
    assert.equal(summary.deadLetter?.code, 'WEBHOOK_PAYLOAD_INVALID');
    assert.match(summary.deadLetter?.message ?? '', /not valid JSON/);
    assert.deepEqual(job.payloads, [
      {
        connection: 'source',
        receivedAt: (job.payloads[0] as { receivedAt: number }).receivedAt,
        context: { contentType: 'application/json' },
        body: '{"events": [',
      },
    ]);
  });

  it('stores a body that breaks the format, naming every problem with its path', async () => {
    const { summary } = await deadLetterOf({
      events: [
        { entityType: 'Contact', recordId: 'ok' },
        { entityType: '', kind: 'moved' },
      ],
    });
    assert.equal(summary.deadLetter?.code, 'WEBHOOK_PAYLOAD_INVALID');
    for (const path of ['events.1.entityType', 'events.1.recordId', 'events.1.kind'])
      assert.ok(summary.deadLetter?.message.includes(path), summary.deadLetter?.message);
  });

  it('stores a signed body of the wrong content type', async () => {
    const { summary } = await deadLetterOf(
      { entityType: 'Contact', recordId: 1 },
      { 'content-type': 'text/plain' },
    );
    assert.equal(summary.deadLetter?.code, 'WEBHOOK_CONTENT_TYPE_UNSUPPORTED');
  });

  it('keeps a body that is not UTF-8 byte for byte', async () => {
    const body = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
    const response = await fetch(`${server.url}/webhooks/source`, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'x-crmsync-signature': signGenericWebhook(SECRET, body),
      },
    });
    assert.equal(response.status, 200);
    const summary = (await response.json()) as WebhookSummary;
    const job = await server.queue.get(summary.jobs[0]!);
    const payload = job?.payloads[0] as { bodyBase64?: string; body?: string };
    assert.equal(payload.body, undefined);
    assert.deepEqual(Buffer.from(payload.bodyBase64 ?? '', 'base64'), body);
  });

  it('recognises a redelivery of the same dead letter', async () => {
    const first = await deadLetterOf('[1, 2');
    const response = await server.webhook('source', '[1, 2');
    assert.equal(response.status, 200);
    const second = (await response.json()) as WebhookSummary;
    assert.equal(second.duplicates, 1);
    assert.deepEqual(second.jobs, [first.job.id]);
  });

  it('still answers 401 and stores nothing when the signature is wrong or missing', async () => {
    const before = await server.queue.counts();
    const wrong = await server.webhook('source', '{"events": [', { 'x-crmsync-signature': 'sha256=00' });
    assert.equal(wrong.status, 401);
    const missing = await fetch(`${server.url}/webhooks/source`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"events": [',
    });
    assert.equal(missing.status, 401);
    assert.deepEqual(await server.queue.counts(), before);
  });

  it('lists dead letters as DEAD jobs and counts them in the metrics', async () => {
    const dead = await server.queue.list({ states: ['DEAD'] });
    assert.ok(dead.length >= 4);
    const text = await server.metrics.registry.metrics();
    assert.match(text, /crmsync_webhooks_total\{connection="source",outcome="dead_letter"\} [4-9]/);
    assert.match(text, new RegExp(`crmsync_jobs\\{state="DEAD"\\} ${dead.length}\\b`));
  });
});

describe('a signed SuperOffice delivery with a PrimaryKey that is not a positive integer', () => {
  const WEBHOOK_SECRET = 'so-dead-letter-secret-0123456789';
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      routes: new Map([['so', ['enrich']]]),
      connectors: ({ backend, metrics }) =>
        new Map([
          [
            'so',
            superofficeConnector.create({
              connection: 'so',
              options: testOptions('http://127.0.0.1:9', { webhookSecret: WEBHOOK_SECRET }),
              clock: systemClock,
              logger: pino({ level: 'silent' }),
              apiCalls: metrics,
              state: backend.store.connectorState,
            }),
          ],
        ]),
    });
  });
  after(async () => {
    await server.close();
  });

  it('is kept as a dead letter and answered 200, as SuperOffice demands', async () => {
    for (const primaryKey of [-5, 1e21, 'abc', '../Person/5']) {
      const body = JSON.stringify({ Event: 'contact.changed', Entity: 'contact', PrimaryKey: primaryKey });
      const response = await fetch(`${server.url}/webhooks/so`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-superoffice-signature': signSuperOfficeWebhook(WEBHOOK_SECRET, body),
        },
        body,
      });
      assert.equal(response.status, 200, String(primaryKey));
      const summary = (await response.json()) as WebhookSummary;
      assert.equal(summary.deadLetter?.code, 'WEBHOOK_PAYLOAD_INVALID');
      assert.equal((await server.queue.get(summary.jobs[0]!))?.state, 'DEAD');
    }
    assert.equal((await server.queue.list({ flow: 'enrich' })).length, 0, 'no job for a forged record key');
  });
});
