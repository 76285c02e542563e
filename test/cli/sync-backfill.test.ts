/**
 * `crmsync sync backfill` against the EspoCRM and Advoware simulators through the real connectors, on a real
 * SQLite file: 30 CBeteiligte (10 of them seed-linked by `advowareId`) and 3 Beteiligte only Advoware has.
 * A backfill creates exactly the missing records on both sides and links all of them; a second one writes
 * nothing; `--dry-run` reports the same plan and writes nothing (no POST/PUT/PATCH on either simulator, no
 * link, no checkpoint); `--limit` stops and the next run goes on; a backfill killed (SIGKILL) after its first
 * page's checkpoint resumes with no duplicate and every record linked.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openSqliteBackend } from '../../src/adapters/sqlite/index.ts';
import { advowareConnector } from '../../src/connectors/advoware/index.ts';
import { espocrmConnector } from '../../src/connectors/espocrm/index.ts';
import { progressLine } from '../../src/cli/commands/sync-backfill.ts';
import { backfillCheckpointName, emptyCounts } from '../../src/engine/flows/sync/backfill.ts';
import { systemClock } from '../../src/ports/clock.ts';
import type { Connector, VendorRecord } from '../../src/ports/connector.ts';
import type { Link } from '../../src/ports/store.ts';
import { startAdvowareSimulator } from '../../src/simulators/advoware/index.ts';
import type { AdvowareSimulator } from '../../src/simulators/advoware/index.ts';
import { startEspoCrmSimulator } from '../../src/simulators/espocrm/index.ts';
import type { EspoCrmSimulator } from '../../src/simulators/espocrm/index.ts';
import { openTestBackend, silentLogger } from '../engine/support.ts';
import type { TestBackend } from '../engine/support.ts';
import { eventually } from '../support/eventually.ts';
import { runWithConfig } from '../support/run-cli.ts';
import { simAdmin, simRequestCounts } from '../support/sim-admin.ts';
import type { RouteCounts } from '../support/sim-admin.ts';
import { makeTempDir } from '../support/temp-dir.ts';

const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const ENTRY = new URL('../../src/index.ts', import.meta.url).href;
const FLOW = 'beteiligte';
const ESPO_RECORDS = 30;
const SEED_LINKED = 10;
const ADVO_ONLY = 3;

/** The summary `--json` prints. */
interface Summary {
  dryRun: boolean;
  finished: boolean;
  resumed: boolean;
  records: number;
  counts: Record<string, number>;
  passCounts: Record<string, number>;
  planned?: { ref: string; outcome: string; partner?: string; create?: { side: string } }[];
}

/** Two simulators with the test data, a config naming them, and the test's own connectors to look. */
interface World {
  readonly espoSim: EspoCrmSimulator;
  readonly advoSim: AdvowareSimulator;
  readonly espo: Connector;
  readonly advo: Connector;
  readonly configPath: string;
  readonly dbPath: string;
  close(): Promise<void>;
}

/** Starts a world; `extraConfig` is more of the config object as TypeScript source. */
async function startWorld(prefix: string, extraConfig = ''): Promise<World> {
  const temp = makeTempDir(prefix);
  const espoSim = await startEspoCrmSimulator({ port: 0, seed: false, logger: silentLogger });
  const advoSim = await startAdvowareSimulator({ port: 0, seed: false, logger: silentLogger });
  const espoOptions = {
    baseUrl: espoSim.url,
    auth: { mode: 'hmac', apiKey: espoSim.credentials.apiKey, secretKey: espoSim.credentials.secretKey },
    requestsPerSecond: 1_000,
  };
  const advoOptions = {
    configuratorUrl: advoSim.configuratorUrl,
    ...advoSim.credentials,
    requestsPerSecond: 1_000,
  };
  const dbPath = join(temp.path, 'crmsync.db');
  const configPath = join(temp.path, 'crmsync.config.ts');
  writeFileSync(
    configPath,
    `import { beteiligteFlowDefaults, defineConfig } from '${ENTRY}';
export default defineConfig({
  store: { kind: 'sqlite', path: ${JSON.stringify(dbPath)} },
  connections: {
    espo: { connector: 'espocrm', options: ${JSON.stringify(espoOptions)} },
    advo: { connector: 'advoware', options: ${JSON.stringify(advoOptions)} },
  },
  worker: { concurrency: 4, pollMs: 20 },
  ${extraConfig}
  flows: {
    ${FLOW}: { type: 'sync', connections: ['espo', 'advo'], ...beteiligteFlowDefaults({ espocrm: 'espo', advoware: 'advo' }) },
    watch: { type: 'inspect', connections: ['espo'] },
  },
});\n`,
  );
  // The test's connectors keep their tokens apart from the CLI's store.
  const state: TestBackend = openTestBackend();
  const context = {
    clock: systemClock,
    logger: silentLogger,
    apiCalls: { record: () => {} },
    state: state.backend.store.connectorState,
  };
  const espo = espocrmConnector.create({
    connection: 'espo',
    options: espocrmConnector.optionsSchema.parse(espoOptions),
    ...context,
  });
  const advo = advowareConnector.create({
    connection: 'advo',
    options: advowareConnector.optionsSchema.parse(advoOptions),
    ...context,
  });
  await seedRecords(espo, advo);
  return {
    espoSim,
    advoSim,
    espo,
    advo,
    configPath,
    dbPath,
    async close() {
      await espo.close();
      await advo.close();
      await espoSim.close();
      await advoSim.close();
      await state.close();
      temp.remove();
    },
  };
}

/**
 * 30 CBeteiligte: persons Person1..Person30; the first 10 already linked by the seed system (`advowareId`
 * names a Beteiligter with the same name). And 3 Beteiligte only Advoware has.
 */
async function seedRecords(espo: Connector, advo: Connector): Promise<void> {
  for (let index = 1; index <= ESPO_RECORDS; index += 1) {
    const person = { firstName: 'Erika', lastName: `Person${index}`, name: `Erika Person${index}` };
    let advowareId: number | undefined;
    if (index <= SEED_LINKED) {
      const partner = await advo.write({
        entityType: 'Beteiligte',
        fields: { vorname: 'Erika', name: `Person${index}` },
      });
      advowareId = Number(partner.id);
    }
    await espo.write({
      entityType: 'CBeteiligte',
      fields: { ...person, ...(advowareId !== undefined && { advowareId }) },
    });
  }
  for (let index = 1; index <= ADVO_ONLY; index += 1)
    await advo.write({ entityType: 'Beteiligte', fields: { vorname: 'Otto', name: `Advo${index}` } });
}

async function listAll(connector: Connector, entityType: string): Promise<VendorRecord[]> {
  const records: VendorRecord[] = [];
  let cursor: string | null = null;
  do {
    const page = await connector.list({ entityType, ...(cursor !== null && { cursor }), limit: 100 });
    records.push(...page.records);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return records;
}

/** Requests that change data: POST, PUT, PATCH, DELETE, except the Advoware token request. */
function writeRequests(counts: RouteCounts): Record<string, number> {
  return Object.fromEntries(
    Object.entries(counts)
      .filter(([route]) => /^(POST|PUT|PATCH|DELETE) /.test(route) && !/token|login|auth/i.test(route))
      .map(([route, byStatus]) => [route, Object.values(byStatus).reduce((sum, count) => sum + count, 0)]),
  );
}

async function storeState(dbPath: string): Promise<{ links: Link[]; checkpoints: Record<string, unknown> }> {
  const backend = openSqliteBackend({ path: dbPath, durability: 'process' });
  try {
    const links = await backend.store.links.list({ flow: FLOW, limit: 10_000 });
    const checkpoints: Record<string, unknown> = {};
    for (const side of ['a', 'b'] as const) {
      const name = backfillCheckpointName(FLOW, side);
      checkpoints[name] = (await backend.store.checkpoints.get(name))?.value;
    }
    return { links, checkpoints };
  } finally {
    await backend.close();
  }
}

/**
 * After a complete backfill: both sides hold the same 33 records, each linked once, every CBeteiligter's
 * `advowareId` naming its linked Beteiligter, and no name twice on either side.
 */
async function assertConverged(world: World): Promise<void> {
  const espoRecords = await listAll(world.espo, 'CBeteiligte');
  const advoRecords = await listAll(world.advo, 'Beteiligte');
  const total = ESPO_RECORDS + ADVO_ONLY;
  assert.equal(espoRecords.length, total, 'EspoCRM: the 30 and one per Advoware-only Beteiligter');
  assert.equal(advoRecords.length, total, 'Advoware: the 13 and one per unlinked CBeteiligter');
  const names = (records: VendorRecord[], field: string) =>
    new Set(records.map((record) => record.fields[field]));
  assert.equal(names(espoRecords, 'lastName').size, total, 'no duplicate in EspoCRM');
  assert.equal(names(advoRecords, 'name').size, total, 'no duplicate in Advoware');
  const { links } = await storeState(world.dbPath);
  assert.equal(links.length, total);
  const byEspo = new Map(links.map((link) => [link.a.ref.id, link.b.ref.id]));
  for (const record of espoRecords)
    // EspoCRM keeps advowareId as an int.
    assert.equal(record.fields['advowareId'], Number(byEspo.get(record.id)), `advowareId of ${record.id}`);
  assert.equal(new Set(links.map((link) => link.b.ref.id)).size, total, 'each Beteiligter linked once');
}

async function backfill(world: World, args: readonly string[] = []): Promise<Summary> {
  const result = await runWithConfig(world.configPath, ['sync', 'backfill', FLOW, '--json', ...args]);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as Summary;
}

describe('crmsync sync backfill (EspoCRM and Advoware simulators)', () => {
  let world: World;
  /** What the second backfill counted and wrote to EspoCRM. */
  let secondPass: { counts: Record<string, number>; espoWrites: Record<string, number> } | undefined;
  before(async () => {
    world = await startWorld('crmsync-backfill-');
  });
  after(() => world.close());

  it('--dry-run plans the creates and links and writes nothing', async () => {
    await simAdmin(world.espoSim, 'DELETE', 'requests');
    await simAdmin(world.advoSim, 'DELETE', 'requests');
    const summary = await backfill(world, ['--dry-run', '--page-size', '7']);
    assert.equal(summary.dryRun, true);
    assert.equal(summary.finished, true);
    assert.deepEqual(summary.counts, {
      created: ESPO_RECORDS - SEED_LINKED + ADVO_ONLY,
      updated: 0,
      linked: SEED_LINKED,
      unchanged: 0,
      conflicts: 0,
      failed: 0,
    });
    const planned = summary.planned ?? [];
    assert.equal(planned.filter((entry) => entry.create?.side === 'b').length, ESPO_RECORDS - SEED_LINKED);
    assert.equal(planned.filter((entry) => entry.create?.side === 'a').length, ADVO_ONLY);
    assert.ok(
      planned
        .filter((entry) => entry.outcome === 'linked')
        .every((entry) => entry.partner?.startsWith('advo/')),
    );
    assert.deepEqual(writeRequests(await simRequestCounts(world.espoSim)), {}, 'no write to EspoCRM');
    assert.deepEqual(writeRequests(await simRequestCounts(world.advoSim)), {}, 'no write to Advoware');
    const { links, checkpoints } = await storeState(world.dbPath);
    assert.equal(links.length, 0, 'no link stored');
    assert.deepEqual(Object.values(checkpoints), [undefined, undefined], 'no checkpoint stored');

    const text = await runWithConfig(world.configPath, ['sync', 'backfill', FLOW, '--dry-run']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /created +espo\/CBeteiligte\/\S+\n {4}create on side b: .*vorname="Erika"/);
    assert.match(text.stdout, /linked +espo\/CBeteiligte\/\S+ <-> advo\/Beteiligte\/\d+/);
    assert.match(text.stdout, /Dry run finished: 33 records planned: 23 created, 0 updated, 10 linked/);
    assert.match(text.stdout, /Nothing was written\./);
    // Not a terminal: one plain progress line per page on stderr.
    assert.match(text.stderr, /side a, page 1: \d+ records, [\d.]+ records\/s/);
  });

  it('creates exactly the missing records and links all, as the dry run planned; a second creates and links nothing', async () => {
    const first = await backfill(world, ['--page-size', '7']);
    assert.equal(first.dryRun, false);
    assert.equal(first.finished, true);
    assert.deepEqual(first.counts, {
      created: ESPO_RECORDS - SEED_LINKED + ADVO_ONLY,
      updated: 0,
      linked: SEED_LINKED,
      unchanged: 0,
      conflicts: 0,
      failed: 0,
    });
    await assertConverged(world);
    const { checkpoints } = await storeState(world.dbPath);
    for (const value of Object.values(checkpoints))
      assert.equal((value as { done?: boolean }).done, true, 'both sides marked done');
    const store = openSqliteBackend({ path: world.dbPath, durability: 'process' });
    try {
      const runs = await store.store.runs.list({ flow: FLOW, limit: 100 });
      assert.equal(runs.length, ESPO_RECORDS + ADVO_ONLY);
      assert.ok(
        runs.every((run) => run.apiCalls >= 2),
        'each run counts its vendor calls (both reads at least)',
      );
    } finally {
      await store.close();
    }

    await simAdmin(world.espoSim, 'DELETE', 'requests');
    await simAdmin(world.advoSim, 'DELETE', 'requests');
    const second = await backfill(world, ['--page-size', '7']);
    assert.equal(second.resumed, false, 'a new pass');
    // Side b's records are all linked now: only side a's 33 are synced again, and none is created or linked.
    assert.equal(second.records, ESPO_RECORDS + ADVO_ONLY);
    assert.deepEqual(
      { created: second.counts['created'], linked: second.counts['linked'], failed: second.counts['failed'] },
      { created: 0, linked: 0, failed: 0 },
    );
    assert.deepEqual(writeRequests(await simRequestCounts(world.advoSim)), {}, 'no write to Advoware');
    secondPass = { counts: second.counts, espoWrites: writeRequests(await simRequestCounts(world.espoSim)) };
    await assertConverged(world);
  });

  it('the second backfill writes nothing at all', () => {
    assert.ok(secondPass, 'the backfill test ran');
    assert.deepEqual(secondPass.espoWrites, {}, 'no write to EspoCRM');
    assert.deepEqual(secondPass.counts, {
      created: 0,
      updated: 0,
      linked: 0,
      unchanged: ESPO_RECORDS + ADVO_ONLY,
      conflicts: 0,
      failed: 0,
    });
  });
});

describe('crmsync sync backfill --limit and resume', () => {
  let world: World;
  before(async () => {
    world = await startWorld('crmsync-backfill-limit-');
  });
  after(() => world.close());

  it("stops after N records and the next run goes on from there, leaving other flows' jobs queued", async () => {
    // A job of another flow, queued by a server: the backfill's pool knows only its own flow's handler.
    const store = openSqliteBackend({ path: world.dbPath, durability: 'process' });
    const other = await store.queue.enqueue({
      flow: 'watch',
      recordKey: 'watch|espo/Contact/1',
      payload: {},
    });
    await store.close();
    const first = await backfill(world, ['--limit', '12', '--page-size', '5']);
    assert.equal(first.finished, false);
    assert.equal(first.records, 12);
    const { checkpoints, links } = await storeState(world.dbPath);
    assert.equal(links.length, 12);
    const position = checkpoints[backfillCheckpointName(FLOW, 'a')] as { cursor: unknown; done: boolean };
    // Stopped two records into the third page: the checkpoint keeps that page's cursor.
    assert.deepEqual(
      { cursor: typeof position.cursor, done: position.done },
      { cursor: 'string', done: false },
    );
    const rest = await backfill(world, ['--page-size', '5']);
    assert.equal(rest.resumed, true);
    assert.equal(rest.finished, true);
    // The third page is listed again: its two records synced already are passed over, none is skipped.
    assert.equal(rest.records, ESPO_RECORDS + ADVO_ONLY - 12);
    assert.equal(rest.passCounts['created']! + rest.passCounts['linked']!, ESPO_RECORDS + ADVO_ONLY);
    await assertConverged(world);
    const after = openSqliteBackend({ path: world.dbPath, durability: 'process' });
    try {
      assert.equal(
        (await after.queue.get(other.jobId))?.state,
        'PENDING',
        "the other flow's job is left alone",
      );
    } finally {
      await after.close();
    }
  });
});

describe('crmsync sync backfill killed mid-way', () => {
  let world: World;
  before(async () => {
    world = await startWorld('crmsync-backfill-kill-');
  });
  after(() => world.close());

  it('resumes after SIGKILL at the page it stopped at, with no duplicate and every record linked', async () => {
    // The second page's list request hangs: the child is killed after its first page's checkpoint, at a
    // moment it cannot have gone further.
    await simAdmin(world.espoSim, 'POST', 'faults', {
      timeout: { routes: ['GET /api/v1/CBeteiligte'], everyNth: 2, times: 1, hangMs: 60_000 },
    });
    const child = spawn(
      process.execPath,
      [CLI, '--config', world.configPath, 'sync', 'backfill', FLOW, '--page-size', '5'],
      { stdio: 'ignore' },
    );
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      await eventually(
        async () =>
          (await storeState(world.dbPath)).checkpoints[backfillCheckpointName(FLOW, 'a')] !== undefined,
        { timeoutMs: 30_000 },
      );
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    const killed = await storeState(world.dbPath);
    const position = killed.checkpoints[backfillCheckpointName(FLOW, 'a')] as { done: boolean };
    assert.equal(position.done, false, 'killed before side a was done: the test resumes a real pass');
    assert.equal(killed.links.length, 5, 'the first page synced, nothing more');

    await simAdmin(world.espoSim, 'DELETE', 'faults');
    const resumed = await backfill(world, ['--page-size', '5']);
    assert.equal(resumed.resumed, true);
    assert.equal(resumed.finished, true);
    assert.equal(resumed.counts['failed'], 0);
    assert.equal(resumed.records, ESPO_RECORDS + ADVO_ONLY - 5, 'the first page is not synced again');
    assert.equal(resumed.passCounts['created']! + resumed.passCounts['linked']!, ESPO_RECORDS + ADVO_ONLY);
    await assertConverged(world);
  });
});

describe('backfill progress', () => {
  it('shows done/total, records per second and the time left when the total is known (--limit)', () => {
    const page = {
      side: 'a' as const,
      pages: 2,
      listed: 40,
      records: 40,
      counts: emptyCounts(),
      elapsedMs: 4_000,
    };
    assert.equal(
      progressLine(page, 100),
      `[${'#'.repeat(12)}${'.'.repeat(18)}] side a, page 2: 40/100 records, 10.0 records/s, ETA 6 s`,
    );
    assert.equal(progressLine(page, undefined), 'side a, page 2: 40 records, 10.0 records/s');
  });
});

describe('crmsync sync backfill with records that keep failing', () => {
  let world: World;
  before(async () => {
    world = await startWorld(
      'crmsync-backfill-fail-',
      'queue: { maxAttempts: 2, backoff: { baseMs: 10, maxMs: 20, jitter: 0 } },',
    );
  });
  after(() => world.close());

  it('counts each once as failed, finishes the pass and exits 1', async () => {
    // No Beteiligter can be created: the 20 CBeteiligte without a partner fail (retried, then DEAD). Each
    // failure writes the status fields, which moves the record to the end of EspoCRM's listing.
    await simAdmin(world.advoSim, 'POST', 'faults', {
      status5xx: { routes: ['POST /connector/api/v1/advonet/Beteiligte'], status: 500 },
    });
    const result = await runWithConfig(world.configPath, [
      'sync',
      'backfill',
      FLOW,
      '--json',
      '--page-size',
      '7',
    ]);
    assert.equal(result.code, 1, result.stderr);
    const summary = JSON.parse(result.stdout) as Summary;
    assert.equal(summary.finished, true);
    assert.deepEqual(summary.counts, {
      created: ADVO_ONLY,
      updated: 0,
      linked: SEED_LINKED,
      unchanged: 0,
      conflicts: 0,
      failed: ESPO_RECORDS - SEED_LINKED,
    });
  });
});
