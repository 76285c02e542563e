/**
 * The world of the convergence test (sync-convergence.ts): the EspoCRM and Advoware simulators in this
 * process, `crmsync serve` as a child process (so it can be killed with SIGKILL and started again on the same
 * SQLite file) with the Beteiligte flow and its re-check, discovery and reconciler every second, EspoCRM's
 * signed webhooks going through a {@link WebhookRelay}, the humans' actions through the simulators' admin
 * APIs, the faults, and the wait for quiescence. The test reads the child's store through its own SQLite
 * backend on the same file.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSqliteBackend } from '../../src/adapters/sqlite/index.ts';
import type { JsonObject } from '../../src/core/types.ts';
import { beteiligteFlowDefaults } from '../../src/engine/flows/sync/index.ts';
import type { Backend } from '../../src/ports/backend.ts';
import type { JobState } from '../../src/ports/queue.ts';
import { startAdvowareSimulator } from '../../src/simulators/advoware/index.ts';
import type { AdvowareSimulator } from '../../src/simulators/advoware/index.ts';
import { startEspoCrmSimulator } from '../../src/simulators/espocrm/index.ts';
import type { EspoCrmSimulator } from '../../src/simulators/espocrm/index.ts';
import { eventually } from '../support/eventually.ts';
import { startServe } from '../support/serve-process.ts';
import type { ServeProcess } from '../support/serve-process.ts';
import { simAdmin } from '../support/sim-admin.ts';
import { makeTempDir } from '../support/temp-dir.ts';
import { espoApiOf, simulatorConnections } from './sync-world.ts';
import { WebhookRelay } from './webhook-relay.ts';
import type { RelayFaults } from './webhook-relay.ts';

export const FLOW = 'beteiligte';
export const ESPO = 'CBeteiligte';
export const ADVO = 'Beteiligte';
const EVENTS = [`${ESPO}.create`, `${ESPO}.update`, `${ESPO}.delete`];

/** Probabilities per Advoware API request. */
export interface AdvowareFaults {
  readonly advo5xx: number;
  readonly advo429: number;
  readonly advoTimeout: number;
}

/** A running world; `close()` stops everything and removes its files. */
export interface ConvergenceWorld {
  readonly espo: EspoCrmSimulator;
  readonly advo: AdvowareSimulator;
  readonly relay: WebhookRelay;
  /** The test's view of crmsync's store and queue. */
  readonly backend: Backend;
  /** A call of the EspoCRM API as crmsync's API user (asserting a 2xx). */
  espoApi<T = JsonObject>(method: string, path: string, body?: unknown): Promise<T>;
  /** Creates (no id) or changes a CBeteiligter as the human user anna; returns its id. */
  espoAct(body: object, id?: string): Promise<string>;
  /** Creates (no betNr) or changes a Beteiligter as a human in the Advoware UI; returns its betNr. */
  advoAct(body: object, betNr?: string): Promise<string>;
  /** Switches the faults on (or, with null, off). */
  setFaults(seed: number, faults: (AdvowareFaults & RelayFaults) | null): Promise<void>;
  /** Kills crmsync with SIGKILL (no shutdown hook runs). */
  kill(): Promise<void>;
  /** Starts crmsync again on the same config and SQLite file. */
  restart(): Promise<void>;
  jobCounts(): Promise<Record<JobState, number>>;
  /**
   * Waits until quiet: no webhook left in EspoCRM or the relay, no job waiting, running or due for a retry,
   * and then two more re-check rotations (a full one after the mark) and the reconciler's ticks queued no job.
   */
  quiesce(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/** The flow's options in crmsync's config: the Beteiligte defaults, every scan every second. */
function flowOptions(): Record<string, unknown> {
  return {
    type: 'sync',
    connections: ['espo', 'advo'],
    ...beteiligteFlowDefaults({ espocrm: 'espo', advoware: 'advo' }),
    detection: {
      reconcile: { enabled: true, cron: '* * * * * *' },
      recheck: { enabled: true, everySeconds: 1 },
      discovery: { enabled: true, everySeconds: 1 },
    },
  };
}

/** Writes the child's config: SQLite in `dir`, short leases and backoff so a killed worker heals fast. */
function writeConfig(dir: string, espo: EspoCrmSimulator, advo: AdvowareSimulator, secrets: object): string {
  const config = {
    server: { host: '127.0.0.1', port: 0 },
    store: { kind: 'sqlite', path: join(dir, 'crmsync.db') },
    // More attempts than the default 5: a job of the link a killed run held waits out the link lock's TTL.
    queue: { maxAttempts: 10, leaseMs: 2_000, backoff: { baseMs: 50, maxMs: 1_000, jitter: 0.2 } },
    worker: { concurrency: 4, pollMs: 50 },
    log: { level: 'info' },
    // A hanging request (the timeout fault hangs 1.5 s) fails after 1 s and is retried.
    connections: simulatorConnections(espo, advo, secrets, { requestTimeoutMs: 1_000 }),
    flows: { [FLOW]: flowOptions() },
  };
  const file = join(dir, 'crmsync.config.ts');
  const entry = new URL('../../src/index.ts', import.meta.url).href;
  writeFileSync(
    file,
    `import { defineConfig } from '${entry}';\nexport default defineConfig(${JSON.stringify(config, null, 2)});\n`,
  );
  return file;
}

/** The re-check's full rotations over the Advoware side so far (from its checkpoint). */
async function recheckRotations(backend: Backend): Promise<number> {
  const value = (await backend.store.checkpoints.get(`recheck|${FLOW}|b`))?.value;
  return typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    typeof value['rotations'] === 'number'
    ? value['rotations']
    : 0;
}

const totalJobs = (counts: Record<JobState, number>) => Object.values(counts).reduce((sum, n) => sum + n, 0);
const busyJobs = (counts: Record<JobState, number>) => counts.PENDING + counts.PROCESSING + counts.FAILED;

/**
 * Starts a world. `optimisticConcurrency` is EspoCRM's setting for CBeteiligte (an admin's choice; the
 * vendor's default is off): with it every save has its own versionNumber and crmsync's writes there are
 * conditional.
 */
export async function startConvergenceWorld(options: {
  readonly seed: number;
  readonly optimisticConcurrency: boolean;
}): Promise<ConvergenceWorld> {
  const temp = makeTempDir('crmsync-convergence-');
  const cleanups: (() => Promise<void> | void)[] = [() => temp.remove()];
  const close = async () => {
    for (const cleanup of cleanups.splice(0)) {
      try {
        await cleanup();
      } catch {
        // Cleaning up the rest matters more than the first failure to close.
      }
    }
  };
  try {
    const espo = await startEspoCrmSimulator({
      seed: false,
      webhookIntervalMs: 25,
      webhookRetryDelayMs: 25,
      quirks: { optimisticConcurrency: { [ESPO]: options.optimisticConcurrency } },
    });
    cleanups.unshift(() => espo.close());
    const advo = await startAdvowareSimulator({ seed: false });
    cleanups.unshift(() => advo.close());
    let serve: ServeProcess | undefined;
    let serveUrl: string | null = null;
    const relay = await WebhookRelay.start(() => serveUrl, options.seed);
    cleanups.unshift(() => relay.close());

    const espoApi = espoApiOf(espo);
    const secrets: Record<string, string> = {};
    for (const event of EVENTS) {
      const hook = await espoApi<{ id: string; secretKey: string }>('POST', 'Webhook', {
        event,
        url: `${relay.url}/webhooks/espo?event=${event}`,
      });
      secrets[hook.id] = hook.secretKey;
    }
    const configFile = writeConfig(temp.path, espo, advo, secrets);
    const start = async () => {
      serve = await startServe({ configFile, timeoutMs: 60_000 });
      serveUrl = serve.url;
    };
    await start();
    cleanups.unshift(async () => {
      await serve?.stop('SIGKILL');
    });
    const backend = openSqliteBackend({ path: join(temp.path, 'crmsync.db'), durability: 'process' });
    cleanups.unshift(() => backend.close());

    const deliveriesPending = async () => {
      await espo.processWebhookQueue();
      const hooks = await simAdmin<{ pendingEvents: number; queue: { status: string }[] }>(
        espo,
        'GET',
        'webhooks',
      );
      return hooks.pendingEvents + hooks.queue.filter((item) => item.status === 'Pending').length;
    };
    const webhooksLeft = async () => (await deliveriesPending()) > 0 || !relay.idle();

    return {
      espo,
      advo,
      relay,
      backend,
      espoApi,
      async espoAct(body, id) {
        const path = `act/anna/${ESPO}${id === undefined ? '' : `/${id}`}`;
        return (await simAdmin<{ id: string }>(espo, 'POST', path, body)).id;
      },
      async advoAct(body, betNr) {
        const path = `act/anna/${ADVO}${betNr === undefined ? '' : `/${betNr}`}`;
        return String((await simAdmin<{ betNr: number }>(advo, 'POST', path, body)).betNr);
      },
      async setFaults(seed, faults) {
        if (faults === null) {
          await simAdmin(advo, 'DELETE', 'faults');
          relay.setFaults({ duplicate: 0, reorder: 0 });
          return;
        }
        await simAdmin(advo, 'POST', 'faults', {
          seed,
          ...(faults.advo5xx > 0 && { status5xx: { probability: faults.advo5xx, status: 503 } }),
          ...(faults.advo429 > 0 && {
            status429: { probability: faults.advo429, retryAfterSeconds: 1 },
          }),
          ...(faults.advoTimeout > 0 && { timeout: { probability: faults.advoTimeout, hangMs: 1_500 } }),
        });
        relay.setFaults({ duplicate: faults.duplicate, reorder: faults.reorder });
      },
      async kill() {
        serveUrl = null;
        await serve?.stop('SIGKILL');
      },
      restart: start,
      jobCounts: () => backend.queue.counts(),
      async quiesce(timeoutMs) {
        await eventually(
          async () => {
            if (await webhooksLeft()) return false;
            const before = await backend.queue.counts();
            if (busyJobs(before) > 0) return false;
            const rotations = await recheckRotations(backend);
            await eventually(async () => (await recheckRotations(backend)) >= rotations + 2, {
              timeoutMs: 10_000,
              intervalMs: 50,
            });
            if (await webhooksLeft()) return false;
            const after = await backend.queue.counts();
            return busyJobs(after) === 0 && totalJobs(after) === totalJobs(before);
          },
          { timeoutMs, intervalMs: 100 },
        );
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
