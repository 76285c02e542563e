/**
 * "The worker pool never starves the event loop": a real `crmsync serve` process starts with 100,000 queued
 * jobs of the `inspect` flow, which need no vendor I/O (so, on a synchronous store, every await of a job
 * resolves as a microtask). While the backlog drains, `/healthz` and a signed webhook must be answered and
 * SIGTERM must end the process. The assertions count jobs instead of timing anything: the answers must arrive
 * while jobs are still queued, and the process must exit with jobs left PENDING.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openSqliteBackend } from '../../src/adapters/sqlite/index.ts';
import { signGenericWebhook } from '../../src/connectors/generic/index.ts';
import { jobRecordKey } from '../../src/core/types.ts';
import type { JobInput, JobState } from '../../src/ports/queue.ts';
import { startServe, writeInspectConfig } from '../support/serve-process.ts';
import type { ServeProcess } from '../support/serve-process.ts';
import { makeTempDir } from '../support/temp-dir.ts';

const SECRET = 'e2e-backlog-secret-0123456789';
const BACKLOG = 100_000;

/** The backlog, as the ingest route would have queued it: one updated Contact per job. */
function backlog(): JobInput[] {
  return Array.from({ length: BACKLOG }, (_, index) => {
    const ref = { connection: 'source', entityType: 'Contact', id: `backlog-${index}` };
    return { flow: 'watch', recordKey: jobRecordKey('watch', ref), payload: { ref, kind: 'updated' } };
  });
}

async function jobCounts(database: string): Promise<Record<JobState, number>> {
  const backend = openSqliteBackend({ path: database, durability: 'process' });
  try {
    return await backend.queue.counts();
  } finally {
    await backend.close();
  }
}

describe('crmsync serve draining a backlog of 100,000 jobs that need no I/O', () => {
  const temp = makeTempDir('crmsync-e2e-backlog-');
  const database = join(temp.path, 'crmsync.db');
  let serve: ServeProcess | undefined;
  let configFile = '';
  before(async () => {
    configFile = writeInspectConfig(temp.path, database, SECRET);
    const backend = openSqliteBackend({ path: database, durability: 'process' });
    try {
      await backend.queue.enqueueMany(backlog());
    } finally {
      await backend.close();
    }
  });
  after(async () => {
    await serve?.stop('SIGKILL');
    temp.remove();
  });

  it('answers /healthz and webhooks and obeys SIGTERM while jobs are still queued', async () => {
    serve = await startServe({ configFile });

    const health = await fetch(`${serve.url}/healthz`);
    assert.equal(health.status, 200);
    const body = Buffer.from(
      JSON.stringify({
        events: [{ id: 'evt-live', entityType: 'Contact', recordId: 'live', kind: 'updated' }],
      }),
    );
    const webhook = await fetch(`${serve.url}/webhooks/source`, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'x-crmsync-signature': signGenericWebhook(SECRET, body),
      },
    });
    assert.equal(webhook.status, 202);
    const whenAnswered = await jobCounts(database);
    assert.ok(
      whenAnswered.PENDING > 0,
      `the answers came while the backlog drained: ${JSON.stringify(whenAnswered)}`,
    );

    assert.equal(await serve.stop('SIGTERM'), 0, 'SIGTERM ends the process cleanly');
    const afterExit = await jobCounts(database);
    assert.ok(afterExit.PENDING > 0, `stopped before the backlog was drained: ${JSON.stringify(afterExit)}`);
    assert.equal(afterExit.PROCESSING, 0, 'no job is left leased by the stopped process');
  });
});
