/**
 * The simulator kit on its own, on a bare fastify app and local HTTP servers: fault routes and their 400 in
 * the vendor's error shape, faults and request counts (the admin API never faulted nor counted), the error
 * handlers, the snapshot file (write-then-rename, and a ConfigError for a file it did not write), the
 * single webhook POST's outcomes, and origins.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { fastify } from 'fastify';
import type { FastifyInstance } from 'fastify';
import { Agent } from 'undici';
import { pino } from 'pino';
import { ConfigError } from '../../src/core/errors.ts';
import {
  FaultInjector,
  RequestStats,
  SimHttpError,
  SnapshotFile,
  installFaultsAndStats,
  installSimErrorHandlers,
  listenOnPort,
  originOf,
  postWebhook,
  redactTargetUrl,
  registerFaultRoutes,
  registerRequestCountRoutes,
} from '../../src/simulators/kit/index.ts';
import { eventually } from '../support/eventually.ts';
import { simAdmin, simAdminRequest, simRequestCounts } from '../support/sim-admin.ts';
import { makeTempDir } from '../support/temp-dir.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A vendor-like body, to see that the kit answers in the simulator's shape. */
const vendorBody = (status: number, errorType: string, message: string) => ({ status, errorType, message });

/** A tiny simulator: one API route, one that fails unexpectedly, the kit's hooks and admin routes. */
async function tinySimulator() {
  // The real logger; the error lines it writes are kept.
  const errors: unknown[] = [];
  const logger = pino({ level: 'error' }, { write: (line: string) => void errors.push(JSON.parse(line)) });
  const faults = new FaultInjector();
  const stats = new RequestStats();
  const app: FastifyInstance = fastify({ logger: false, forceCloseConnections: true });
  installSimErrorHandlers(app, {
    errorBody: vendorBody,
    name: 'tiny simulator',
    logger,
    internalErrorMessage: 'Oops.',
    notFoundMessage: (request) => `Nothing at ${request.url}.`,
  });
  installFaultsAndStats(app, { faults, stats });
  registerFaultRoutes(app, faults, (message) => new SimHttpError(400, 'BadRequest', message));
  registerRequestCountRoutes(app, stats);
  let created = 0;
  app.get('/api/items/:id', () => ({ ok: true }));
  app.post('/api/items', () => ({ id: ++created }));
  app.get('/api/broken', () => {
    throw new Error('a simulator bug');
  });
  const port = await listenOnPort(app, {});
  cleanups.push(async () => {
    faults.close();
    await app.close();
  });
  return { url: originOf('127.0.0.1', port), errors, created: () => created };
}

describe('simulator kit: faults, counts and admin routes', () => {
  test('a bad fault setting is a 400 in the vendor shape naming the field; an empty body clears the faults', async () => {
    const sim = await tinySimulator();
    const bad = await simAdminRequest(sim, 'POST', 'faults', { status5xx: { everyNth: 0 } });
    assert.equal(bad.status, 400);
    const body = (await bad.json()) as { errorType: string; message: string };
    assert.equal(body.errorType, 'BadRequest');
    assert.match(body.message, /^POST \/_sim\/faults: .*everyNth/s);
    await simAdmin(sim, 'POST', 'faults', { latencyMs: 1 });
    assert.deepEqual(await simAdmin(sim, 'GET', 'faults'), { latencyMs: 1 });
    await simAdmin(sim, 'POST', 'faults');
    assert.deepEqual(await simAdmin(sim, 'GET', 'faults'), {});
  });

  test('faults fire on every n-th request of their routes; counts name route templates and skip /_sim/', async () => {
    const sim = await tinySimulator();
    await simAdmin(sim, 'POST', 'faults', {
      status5xx: { everyNth: 2, status: 502, routes: ['GET /api/items/:id'] },
      status429: { everyNth: 3, retryAfterSeconds: 7, routes: ['GET /api/items/:id'] },
    });
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 4; i++) {
      const response = await fetch(`${sim.url}/api/items/${i}`);
      statuses.push(response.status);
      if (response.status === 429) retryAfter = response.headers.get('retry-after');
      await response.arrayBuffer();
    }
    assert.deepEqual(
      statuses,
      [200, 502, 429, 200],
      'a request that got its 429 does not count towards the 5xx rule',
    );
    assert.equal(retryAfter, '7');
    await simAdmin(sim, 'DELETE', 'faults');
    assert.deepEqual(await simRequestCounts(sim), { 'GET /api/items/:id': { '200': 2, '502': 1, '429': 1 } });
    await simAdmin(sim, 'DELETE', 'requests');
    assert.deepEqual(await simRequestCounts(sim), {});
  });

  test('a hanging request is dropped unanswered and counted with status 0', async () => {
    const sim = await tinySimulator();
    await simAdmin(sim, 'POST', 'faults', { timeoutRoutes: ['GET /api/items/:id'], timeout: { hangMs: 0 } });
    await assert.rejects(fetch(`${sim.url}/api/items/1`), TypeError);
    // Counted as the socket is destroyed, before the client can see it close.
    assert.deepEqual(await simRequestCounts(sim), { 'GET /api/items/:id': { '0': 1 } });
  });

  test('a dropped answer applies the request, closes the connection instead of answering, and counts 0', async () => {
    const sim = await tinySimulator();
    await simAdmin(sim, 'POST', 'faults', { dropAnswer: { routes: ['POST /api/items'], times: 1 } });
    const post = () => fetch(`${sim.url}/api/items`, { method: 'POST' });
    await assert.rejects(post(), TypeError);
    assert.equal(sim.created(), 1, 'the route ran: the item exists');
    const second = await post();
    assert.deepEqual(await second.json(), { id: 2 }, '`times: 1` drops only the first answer');
    assert.deepEqual(await simRequestCounts(sim), { 'POST /api/items': { '0': 1, '200': 1 } });
  });

  test('a rule with `times` fires that often, then never again', async () => {
    const sim = await tinySimulator();
    await simAdmin(sim, 'POST', 'faults', { status429: { everyNth: 2, times: 1, retryAfterSeconds: 2 } });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const response = await fetch(`${sim.url}/api/items/${i}`);
      statuses.push(response.status);
      await response.arrayBuffer();
    }
    assert.deepEqual(statuses, [200, 429, 200, 200, 200, 200]);
  });

  test('the request log lists requests in arrival order with their arrival times and statuses', async () => {
    const sim = await tinySimulator();
    const first = await fetch(`${sim.url}/api/items/1`);
    await first.arrayBuffer();
    const second = await fetch(`${sim.url}/nowhere`);
    await second.arrayBuffer();
    const { requests } = await simAdmin<{
      requests: { receivedAt: number; route: string; status: number }[];
    }>(sim, 'GET', 'requests/log');
    assert.deepEqual(
      requests.map(({ route, status }) => [route, status]),
      [
        ['GET /api/items/:id', 200],
        ['GET (unmatched)', 404],
      ],
    );
    assert.ok(requests[0] !== undefined && requests[1] !== undefined);
    assert.ok(requests[0].receivedAt <= requests[1].receivedAt);
    await simAdmin(sim, 'DELETE', 'requests');
    assert.deepEqual(await simAdmin(sim, 'GET', 'requests/log'), { requests: [] });
  });

  test('unknown paths are 404s in the vendor shape; a simulator bug is a logged 500', async () => {
    const sim = await tinySimulator();
    const missing = await fetch(`${sim.url}/nowhere?x=1`);
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), {
      status: 404,
      errorType: 'NotFound',
      message: 'Nothing at /nowhere?x=1.',
    });
    const broken = await fetch(`${sim.url}/api/broken`);
    assert.equal(broken.status, 500);
    assert.deepEqual(await broken.json(), {
      status: 500,
      errorType: 'InternalServerError',
      message: 'Oops.',
    });
    assert.equal(sim.errors.length, 1);
  });
});

describe('simulator kit: snapshot file', () => {
  interface Saved {
    readonly version: 1;
    readonly items: string[];
  }

  function snapshotFile(path: string | undefined, items: string[]) {
    return new SnapshotFile<Saved>({
      path,
      owner: 'Tiny simulator',
      version: 1,
      requiredKeys: ['items'],
      snapshot: () => ({ version: 1, items: [...items] }),
    });
  }

  test('writes once per turn after schedule(), at once on flush(), and reads back what it wrote', async () => {
    const dir = makeTempDir();
    cleanups.push(() => dir.remove());
    const path = join(dir.path, 'state.json');
    const items = ['a'];
    const file = snapshotFile(path, items);
    assert.equal(file.read(), undefined);
    file.schedule();
    items.push('b');
    file.schedule();
    await eventually(() => existsSync(path));
    assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), { version: 1, items: ['a', 'b'] });
    items.push('c');
    file.flush();
    assert.deepEqual(snapshotFile(path, []).read(), { version: 1, items: ['a', 'b', 'c'] });
    assert.equal(existsSync(`${path}.tmp`), false, 'the temporary file was renamed');
  });

  test('without a path every method is a no-op', () => {
    const file = snapshotFile(undefined, ['a']);
    file.schedule();
    file.flush();
    assert.equal(file.read(), undefined);
  });

  for (const [content, reason] of [
    ['{"version":1', /is not valid JSON/],
    ['[1]', /does not hold a JSON object/],
    ['{"version":2,"items":[]}', /has version 2, expected 1/],
    ['{"version":1}', /lacks items/],
  ] as const)
    test(`a file it did not write is a ConfigError naming the file: ${content}`, () => {
      const dir = makeTempDir();
      cleanups.push(() => dir.remove());
      const path = join(dir.path, 'state.json');
      writeFileSync(path, content);
      assert.throws(
        () => snapshotFile(path, []).read(),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.message.startsWith(`Tiny simulator state file ${path} `) &&
          reason.test(error.message) &&
          error.problems[0]?.path === 'persistFile',
      );
    });
});

describe('simulator kit: one webhook POST', () => {
  /** A target answering `status`, or never for 'hang'. */
  async function target(answer: number | 'hang') {
    const hanging: ServerResponse[] = [];
    const bodies: string[] = [];
    const server: Server = createServer((request, response) => {
      void request.toArray().then((chunks) => {
        bodies.push(Buffer.concat(chunks as Buffer[]).toString('utf8'));
        if (answer === 'hang') hanging.push(response);
        else response.writeHead(answer).end('ignored');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const response of hanging) response.destroy();
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, bodies, server };
  }

  function post(url: string, options: { timeoutMs?: number; signal?: AbortSignal } = {}) {
    const dispatcher = new Agent();
    cleanups.push(() => dispatcher.close());
    return postWebhook({
      url,
      body: Buffer.from('{"event":"x"}'),
      headers: { 'content-type': 'application/json' },
      timeoutMs: options.timeoutMs ?? 5_000,
      signal: options.signal ?? new AbortController().signal,
      dispatcher,
    });
  }

  test("reports the target's status, whatever it is, and sends the exact bytes", async () => {
    const ok = await target(204);
    assert.equal(await post(ok.url), 204);
    assert.deepEqual(ok.bodies, ['{"event":"x"}']);
    assert.equal(await post((await target(500)).url), 500);
  });

  test("a refused connection is 'error', no answer in time 'timeout', a shutdown 'aborted'", async () => {
    const closed = await target(200);
    await new Promise<void>((resolve) => closed.server.close(() => resolve()));
    assert.equal(await post(closed.url), 'error');
    const hangs = await target('hang');
    assert.equal(await post(hangs.url, { timeoutMs: 50 }), 'timeout');
    const shutdown = new AbortController();
    const pending = post(hangs.url, { signal: shutdown.signal });
    await eventually(() => hangs.bodies.length === 2);
    shutdown.abort();
    assert.equal(await pending, 'aborted');
  });

  test('a target URL in messages keeps neither query nor credentials', () => {
    assert.equal(
      redactTargetUrl('https://user:pw@crm.example/hook?token=s3cret'),
      'https://crm.example/hook',
    );
    assert.equal(redactTargetUrl('not a url'), '(invalid URL)');
  });
});

test('origins bracket IPv6 hosts and reach wildcard hosts on 127.0.0.1', () => {
  assert.equal(originOf('0.0.0.0', 80), 'http://127.0.0.1:80');
  assert.equal(originOf('::', 81), 'http://127.0.0.1:81');
  assert.equal(originOf('::1', 82), 'http://[::1]:82');
  assert.equal(originOf('localhost', 83), 'http://localhost:83');
});
