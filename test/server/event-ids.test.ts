// Event ids compare exactly: two ids that differ only in a lone surrogate (ill-formed UTF-16, which SQLite's
// UTF-8 text would turn into the same U+FFFD) are two events, not a redelivery.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { WebhookSummary } from '../../src/server/app.ts';
import { startTestServer } from './harness.ts';
import type { TestServer } from './harness.ts';

describe('event ids with lone surrogates', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  /** A signed event whose id is written with JSON escapes, so the body itself is plain ASCII. */
  const event = (escapedId: string, recordId: string) =>
    `{"id":"${escapedId}","entityType":"Contact","recordId":"${recordId}"}`;

  it('stores both events of ids that differ only in a lone surrogate', async () => {
    const first = (await (
      await server.webhook('source', event('evt-\\ud800', 's1'))
    ).json()) as WebhookSummary;
    const second = (await (
      await server.webhook('source', event('evt-\\udbff', 's2'))
    ).json()) as WebhookSummary;
    assert.deepEqual([first.accepted, first.duplicates], [1, 0]);
    assert.deepEqual([second.accepted, second.duplicates], [1, 0], 'the second is not a duplicate');
    assert.equal((await server.queue.list({ recordKey: 'sync|source/Contact/s2' })).length, 1);
  });

  it('still recognises the redelivery of an id with a lone surrogate, and tells it from U+FFFD', async () => {
    const again = (await (
      await server.webhook('source', event('evt-\\ud800', 's1'))
    ).json()) as WebhookSummary;
    assert.equal(again.duplicates, 1);
    const replacement = (await (
      await server.webhook('source', event('evt-\\ufffd', 's3'))
    ).json()) as WebhookSummary;
    assert.equal(replacement.duplicates, 0);
  });
});
