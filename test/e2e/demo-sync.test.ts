/**
 * The Beteiligte half of the demo of `npm start`: `crmsync serve` with the committed demo config (ports and
 * files moved to a temp folder, the simulated users and the Advoware scans sped up) as a child process. The
 * in-process EspoCRM and Advoware simulators start empty; their simulated users create and edit Beteiligte on
 * both sides. An EspoCRM edit reaches Advoware through EspoCRM's webhook, an Advoware edit reaches EspoCRM
 * through the flow's re-check, and a same-field edit on both sides ends with EspoCRM's value. The run log
 * lines name the fields written and the conflicts; SIGTERM ends it all with exit code 0.
 *
 * The traffic is seeded (seed 1, as committed), but what it does depends on timing (it reads what the sync
 * has done so far), so the assertions ask for kinds of outcome, not for particular records.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openSqliteBackend } from '../../src/adapters/sqlite/index.ts';
import type { Backend } from '../../src/ports/backend.ts';
import type { FieldChange } from '../../src/core/types.ts';
import type { Run } from '../../src/ports/store.ts';
import { eventually } from '../support/eventually.ts';
import { startServe } from '../support/serve-process.ts';
import type { ServeProcess } from '../support/serve-process.ts';
import { makeTempDir } from '../support/temp-dir.ts';
import { writeDemoConfig } from './demo-config.ts';

const FLOW = 'beteiligte';
/** The vendor fields of the names, per side (not the status fields written alongside). */
const NAME_FIELDS = {
  espocrm: ['firstName', 'lastName', 'firmenname', 'name'],
  advoware: ['vorname', 'name'],
} as const;

/** Whether `run` (of a record of `from`) wrote a name field to a record of `to`. */
function carriedNames(run: Run, from: 'espocrm' | 'advoware', to: 'espocrm' | 'advoware'): boolean {
  const wroteName = (change: FieldChange) =>
    change.ref.connection === to && (NAME_FIELDS[to] as readonly string[]).includes(change.field);
  return run.outcome === 'COMPLETED' && run.ref.connection === from && run.changes.some(wroteName);
}

describe('the demo (npm start): the Beteiligte sync between EspoCRM and Advoware', () => {
  const temp = makeTempDir('crmsync-demo-sync-');
  let serve: ServeProcess | undefined;
  let backend: Backend | undefined;
  before(async () => {
    serve = await startServe({
      configFile: writeDemoConfig(temp.path, {
        // SuperOffice's users at the committed pace: this test is about the other two simulators.
        superofficeTrafficMs: 3_000,
        beteiligteTrafficMs: 150,
        conflictChance: 0.3,
        advowareScanSeconds: 1,
      }),
      env: { SO_WEBHOOK_SECRET: '' },
    });
    backend = openSqliteBackend({ path: join(temp.path, 'crmsync.db'), durability: 'process' });
  });
  after(async () => {
    await backend?.close();
    await serve?.stop('SIGKILL');
    temp.remove();
  });

  it('carries an EspoCRM edit to Advoware and an Advoware edit to EspoCRM, and settles a conflict EspoCRM-wins', async () => {
    assert.ok(backend !== undefined);
    const { store } = backend;
    const found = await eventually(
      async () => {
        const runs = await store.runs.list({ flow: FLOW, limit: 1_000 });
        // An edit, not only the first sync that created the partner (whose reason says "created ...").
        const edits = runs.filter((run) => run.reason === null);
        const toAdvoware = edits.find((run) => carriedNames(run, 'espocrm', 'advoware'));
        const toEspoCrm = edits.find((run) => carriedNames(run, 'advoware', 'espocrm'));
        const conflicts = await store.conflicts.list({ flow: FLOW, status: 'closed' });
        const settled = conflicts.find((conflict) => conflict.outcome === 'a');
        return toAdvoware !== undefined && toEspoCrm !== undefined && settled !== undefined
          ? { toAdvoware, toEspoCrm, settled }
          : null;
      },
      { timeoutMs: 90_000, intervalMs: 200 },
    );
    assert.equal(found.settled.policy, 'a-wins');
    assert.equal(found.settled.resolution?.value, found.settled.a, 'both sides get EspoCRM’s value');
    assert.notEqual(found.settled.a, found.settled.b);

    // After a clean sync both sides hold the same names: the link's base snapshots (per side) agree.
    const link = await store.links.findByRef(FLOW, found.toEspoCrm.ref);
    assert.ok(link !== null, 'the Advoware record is linked');
    assert.equal(link.a.ref.connection, 'espocrm');
    assert.deepEqual(link.a.base, link.b.base);
  });

  it('logs each traffic action and each run with outcome, reason, fields written and conflicts', async () => {
    assert.ok(serve !== undefined);
    const running = serve;
    // The run lines follow the store's commits the first test saw, through a pipe: poll for them.
    await eventually(() => {
      const output = running.output();
      assert.match(output, /"component":"beteiligte-traffic","action":"edit-in-espocrm"/);
      assert.match(output, /"component":"beteiligte-traffic","action":"edit-in-advoware"/);
      assert.match(output, /"msg":"sandbox: EspoCRM webhooks point at crmsync"/);
      assert.match(
        output,
        /"flow":"beteiligte","record":"advoware\/Beteiligte\/\d+","outcome":"COMPLETED","reason":null,"changes":\d+,"written":\["espocrm\/CBeteiligte\/[^:]+: [^"]*lastName/,
      );
      assert.match(output, /"conflicts":\["(firstName|lastName|companyName): side a won \(a-wins\)"\]/);
      assert.doesNotMatch(output, /"level":50/, 'no errors');
      return true;
    });
  });

  it('stops cleanly on SIGTERM and keeps the simulators’ data in its files', async () => {
    assert.ok(serve !== undefined);
    assert.equal(await serve.stop('SIGTERM'), 0);
    const output = serve.output();
    assert.match(output, /"simulator":"espocrm","msg":"sandbox: simulator stopped"/);
    assert.match(output, /"simulator":"advoware","msg":"sandbox: simulator stopped"/);
    const advoware = JSON.parse(readFileSync(join(temp.path, 'advoware-simulator.json'), 'utf8')) as unknown;
    assert.match(JSON.stringify(advoware), /"betNr":\d+/, 'the Beteiligte are persisted');
  });
});
