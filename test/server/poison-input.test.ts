// One bad input never fails its group commit: a signed event nested 20,000 levels deep, sent together with
// valid webhooks into one batch, becomes a dead letter, and the valid ones are answered 202 and stored.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { openSqliteBackend } from '../../src/adapters/sqlite/index.ts';
import { InputError } from '../../src/core/errors.ts';
import type { JsonValue } from '../../src/core/types.ts';
import type { Backend } from '../../src/ports/backend.ts';
import type { WebhookSummary } from '../../src/server/app.ts';
import { IngestBatcher } from '../../src/server/ingest-batcher.ts';
import { startTestServer } from './harness.ts';
import type { TestServer } from './harness.ts';

const DEPTH = 20_000;

/** `{"a":{"a":...{"a":1}...}}`, `depth` objects deep. */
function deepText(depth: number): string {
  return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

describe('a poison webhook in a group commit', () => {
  let server: TestServer;
  before(async () => {
    // A long wait, so that every request of the test lands in one group commit.
    server = await startTestServer({ ingest: { maxBatch: 512, maxWaitMs: 200 } });
  });
  after(async () => {
    await server.close();
  });

  it(`keeps a signed event nested ${DEPTH} deep as a dead letter and stores the valid ones of its batch`, async () => {
    const commitsBefore = server.queue.enqueueManyCalls;
    const deep = `{"entityType":"Contact","recordId":"deep","data":${deepText(DEPTH)}}`;
    const valid = Array.from({ length: 10 }, (_, index) => ({
      id: `valid-${index}`,
      entityType: 'Contact',
      recordId: `valid-${index}`,
    }));
    const [poison, ...answers] = await Promise.all([
      server.webhook('source', deep),
      ...valid.map((event) => server.webhook('source', event)),
    ]);
    for (const answer of answers) assert.equal(answer.status, 202);
    for (const event of valid) {
      const [job] = await server.queue.list({ recordKey: `sync|source/Contact/${event.recordId}` });
      assert.equal(job?.state, 'PENDING', `${event.recordId} is stored`);
    }
    assert.equal(poison.status, 200);
    const summary = (await poison.json()) as WebhookSummary;
    assert.equal(summary.deadLetter?.code, 'WEBHOOK_PAYLOAD_TOO_DEEP');
    assert.equal((await server.queue.get(summary.jobs[0]!))?.state, 'DEAD');
    assert.equal(server.queue.enqueueManyCalls - commitsBefore, 1, 'all shared one commit');
  });
});

describe('IngestBatcher with an input the queue cannot store', () => {
  let backend: Backend;
  before(() => {
    backend = openSqliteBackend({ path: ':memory:', durability: 'process' });
  });
  after(async () => {
    await backend.close();
  });

  it('refuses that input alone; the others of its commit are stored', async () => {
    const batcher = new IngestBatcher({
      queue: backend.queue,
      settings: { maxBatch: 100, maxWaitMs: 1_000 },
      logger: pino({ level: 'silent' }),
    });
    let nested: JsonValue = 1;
    for (let level = 0; level < DEPTH; level += 1) nested = [nested];
    const [first, poison, last] = await Promise.allSettled([
      batcher.submit([{ flow: 'f', recordKey: 'f|c/T/1', payload: 1 }]),
      batcher.submit([{ flow: 'f', recordKey: 'f|c/T/2', payload: nested }]),
      batcher.submit([{ flow: 'f', recordKey: 'f|c/T/3', payload: 3 }]),
      batcher.close(),
    ]);
    assert.equal(first?.status, 'fulfilled');
    assert.equal(last?.status, 'fulfilled');
    assert.ok(poison?.status === 'rejected');
    assert.ok(poison.reason instanceof InputError);
    assert.equal(poison.reason.code, 'JOB_INPUT_INVALID');
    const stored = await backend.queue.list({});
    assert.deepEqual(stored.map((job) => job.recordKey).sort(), ['f|c/T/1', 'f|c/T/3']);
  });
});
