/**
 * The vendor API budget is per connection, not per call (issue 9 item 9): four workers read through the one
 * connector the app creates for a connection (`createConnectors`, which shares the process's budgets); the
 * EspoCRM simulator answers one call 429 with `Retry-After: 2`. From the simulator's own request log: no
 * call of any worker reaches it until those 2 s are up, and every read succeeds after.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { openSqliteBackend } from '../../../src/adapters/sqlite/index.ts';
import { createConnectors } from '../../../src/cli/app.ts';
import { espocrmConnector } from '../../../src/connectors/espocrm/index.ts';
import { systemClock } from '../../../src/ports/clock.ts';
import { startEspoCrmSimulator } from '../../../src/simulators/espocrm/index.ts';
import { simAdmin } from '../../support/sim-admin.ts';
import { recorder, silentLogger } from '../superoffice/support.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const WORKERS = 4;
const READS_PER_WORKER = 5;
const READ_ROUTE = 'GET /api/v1/Account/:id';
const RETRY_AFTER_MS = 2_000;
/**
 * Requests already on their way when the 429 was answered may still arrive right after it: the client
 * cannot hold what it sent before it saw the 429. None may arrive from this long after the 429 until its
 * 2 s are up (without the shared pause, the other three workers keep calling all through them).
 */
const IN_FLIGHT_SLACK_MS = 250;
/** Timers fire on whole milliseconds of the event loop's clock; allow that much against the log's times. */
const TIMER_GRANULARITY_MS = 5;

interface LoggedRequest {
  readonly receivedAt: number;
  readonly route: string;
  readonly status: number;
}

describe('espocrm: the API budget is per connection', () => {
  it('a 429 with Retry-After: 2 holds every worker of the connection for 2 s; all reads succeed after', async () => {
    const sim = await startEspoCrmSimulator({ port: 0, seed: false, logger: silentLogger });
    cleanups.push(() => sim.close());
    const backend = openSqliteBackend({ path: ':memory:', durability: 'process' });
    cleanups.push(() => backend.close());
    const options = espocrmConnector.optionsSchema.parse({
      baseUrl: sim.url,
      auth: { mode: 'apiKey', apiKey: sim.credentials.apiKey },
      requestsPerSecond: 1_000,
    });
    const connectors = createConnectors(
      { connections: new Map([['espo', { name: 'espo', connector: 'espocrm', options }]]) },
      { backend, clock: systemClock, logger: silentLogger, apiCalls: recorder() },
    );
    const connector = connectors.get('espo');
    assert.ok(connector !== undefined);
    cleanups.push(() => connector.close());
    const { id } = await connector.write({ entityType: 'Account', fields: { name: 'Budget GmbH' } });

    await simAdmin(sim, 'DELETE', 'requests');
    await simAdmin(sim, 'POST', 'faults', {
      status429: { routes: [READ_ROUTE], everyNth: 7, times: 1, retryAfterSeconds: RETRY_AFTER_MS / 1_000 },
    });
    const worker = async () => {
      const names: unknown[] = [];
      for (let i = 0; i < READS_PER_WORKER; i += 1) {
        names.push((await connector.read('Account', id))?.fields['name']);
      }
      return names;
    };
    const results = await Promise.all(Array.from({ length: WORKERS }, worker));
    assert.deepEqual(results.flat(), Array(WORKERS * READS_PER_WORKER).fill('Budget GmbH'));

    const { requests } = await simAdmin<{ requests: LoggedRequest[] }>(sim, 'GET', 'requests/log');
    const throttled = requests.filter((request) => request.status === 429);
    assert.equal(throttled.length, 1);
    const [{ receivedAt: throttledAt }] = throttled as [LoggedRequest];
    const later = requests.filter((request) => request.receivedAt > throttledAt);
    const duringPause = later.filter(
      (request) =>
        request.receivedAt >= throttledAt + IN_FLIGHT_SLACK_MS &&
        request.receivedAt < throttledAt + RETRY_AFTER_MS - TIMER_GRANULARITY_MS,
    );
    assert.deepEqual(duringPause, [], 'no call reached the simulator during the Retry-After');
    const inFlight = later.filter((request) => request.receivedAt < throttledAt + IN_FLIGHT_SLACK_MS);
    assert.ok(inFlight.length < WORKERS, `${inFlight.length} calls were already on their way`);
    assert.equal(requests.length, WORKERS * READS_PER_WORKER + 1, 'every read, and the retry of the 429');
  });
});
