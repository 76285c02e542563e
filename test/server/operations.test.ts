// /healthz, /readyz, /metrics and the bearer token, over a real socket.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { startTestServer } from './harness.ts';

describe('operations routes', () => {
  it('/healthz answers ok; /readyz is 200 while the store answers and 503 once it is closed', async () => {
    const server = await startTestServer();
    try {
      const health = await fetch(`${server.url}/healthz`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { status: 'ok' });

      const ready = await fetch(`${server.url}/readyz`);
      assert.equal(ready.status, 200);

      await server.backend.close();
      const notReady = await fetch(`${server.url}/readyz`);
      assert.equal(notReady.status, 503);
      const body = (await notReady.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'STORAGE_UNAVAILABLE');
      assert.equal((await fetch(`${server.url}/healthz`)).status, 200, 'alive even when the store is not');
    } finally {
      await server.close();
    }
  });

  it('/metrics serves webhooks, jobs by state, job durations and vendor API calls', async () => {
    const server = await startTestServer();
    try {
      assert.equal((await server.webhook('source', { entityType: 'Contact', recordId: 1 })).status, 202);
      server.metrics.runFinished({ flow: 'sync', outcome: 'COMPLETED', durationMs: 120 });
      server.metrics.record({
        connection: 'source',
        route: '/api/contact/{id}',
        method: 'GET',
        status: 200,
        durationMs: 35,
      });

      const response = await fetch(`${server.url}/metrics`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
      const text = await response.text();
      for (const line of [
        'crmsync_webhooks_total{connection="source",outcome="accepted"} 1',
        'crmsync_jobs{state="PENDING"} 1',
        'crmsync_jobs{state="DEAD"} 0',
        'crmsync_job_duration_seconds_count{flow="sync",outcome="COMPLETED"} 1',
        'crmsync_vendor_api_calls_total{connection="source",route="/api/contact/{id}",method="GET",status="200"} 1',
        'crmsync_vendor_api_call_duration_seconds_count{connection="source",route="/api/contact/{id}",method="GET"} 1',
        'crmsync_ingest_batch_size_count 1',
      ]) {
        assert.ok(text.includes(line), `missing: ${line}`);
      }
    } finally {
      await server.close();
    }
  });

  it('requires the bearer token on /metrics when one is configured and the host is not loopback', async () => {
    const server = await startTestServer({ token: 'metrics-token-0123456789', host: '0.0.0.0' });
    try {
      const missing = await fetch(`${server.url}/metrics`);
      assert.equal(missing.status, 401);
      assert.equal(missing.headers.get('www-authenticate'), 'Bearer');
      assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'UNAUTHORIZED');

      const wrong = await fetch(`${server.url}/metrics`, {
        headers: { authorization: 'Bearer metrics-token-wrong' },
      });
      assert.equal(wrong.status, 401);

      const right = await fetch(`${server.url}/metrics`, {
        headers: { authorization: 'Bearer metrics-token-0123456789' },
      });
      assert.equal(right.status, 200);

      // Webhooks and health stay open: vendors sign, orchestrators probe.
      assert.equal((await server.webhook('source', { entityType: 'Contact', recordId: 1 })).status, 202);
      assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
      assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
    } finally {
      await server.close();
    }
  });

  it('leaves /metrics open on loopback even with a token', async () => {
    const server = await startTestServer({ token: 'metrics-token-0123456789', host: '127.0.0.1' });
    try {
      assert.equal((await fetch(`${server.url}/metrics`)).status, 200);
    } finally {
      await server.close();
    }
  });

  it('never logs tokens, signatures or bodies, even at debug level', async () => {
    let logged = '';
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        logged += chunk.toString('utf8');
        callback();
      },
    });
    const token = 'metrics-token-0123456789';
    const server = await startTestServer({ token, host: '0.0.0.0', logger: pino({ level: 'debug' }, sink) });
    try {
      await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer wrong-token-0123456789' } });
      const refused = await server.webhook(
        'source',
        { entityType: 'Contact', recordId: 'secret-body' },
        {
          'x-crmsync-signature': `sha256=${'ab'.repeat(32)}`,
        },
      );
      assert.equal(refused.status, 401);
      server.queue.failCommits = true;
      assert.equal(
        (await server.webhook('source', { entityType: 'Contact', recordId: 'secret-body' })).status,
        503,
      );
      server.queue.failCommits = false;
    } finally {
      await server.close();
    }
    assert.match(logged, /request refused/, 'the debug lines were written');
    for (const secret of [token, 'wrong-token-0123456789', 'ab'.repeat(32), 'secret-body']) {
      assert.ok(!logged.includes(secret), `the log contains ${secret}`);
    }
  });
});
