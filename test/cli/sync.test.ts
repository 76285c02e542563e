/**
 * `crmsync sync status|conflicts|links|plan` as an operator runs them: a real child process, a real config
 * file with the Beteiligte sync flow, a real SQLite file prepared with links, conflicts and runs, and for
 * `plan` the EspoCRM and Advoware simulators behind the real connectors.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { openSqliteBackend } from '../../src/adapters/sqlite/index.ts';
import { advowareConnector } from '../../src/connectors/advoware/index.ts';
import { espocrmConnector } from '../../src/connectors/espocrm/index.ts';
import type { FieldChange, RecordRef } from '../../src/core/types.ts';
import { jobRecordKey } from '../../src/core/types.ts';
import type { Backend } from '../../src/ports/backend.ts';
import { systemClock } from '../../src/ports/clock.ts';
import type { Connector } from '../../src/ports/connector.ts';
import type { ConflictInput, ConflictRecord, Link } from '../../src/ports/store.ts';
import { startAdvowareSimulator } from '../../src/simulators/advoware/index.ts';
import type { AdvowareSimulator } from '../../src/simulators/advoware/index.ts';
import { startEspoCrmSimulator } from '../../src/simulators/espocrm/index.ts';
import type { EspoCrmSimulator } from '../../src/simulators/espocrm/index.ts';
import { openTestBackend, silentLogger } from '../engine/support.ts';
import type { TestBackend } from '../engine/support.ts';
import { makeTempDir } from '../support/temp-dir.ts';

const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const ENTRY = new URL('../../src/index.ts', import.meta.url).href;
const run = promisify(execFile);
const FLOW = 'beteiligte';

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function crmsync(args: readonly string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

/** A config with the Beteiligte flow between `espo` and `advo` with these connection options. */
function writeSyncConfig(
  file: string,
  dbPath: string,
  espo: Record<string, unknown>,
  advo: Record<string, unknown>,
): void {
  writeFileSync(
    file,
    `import { beteiligteFlowDefaults, defineConfig } from '${ENTRY}';
export default defineConfig({
  store: { kind: 'sqlite', path: ${JSON.stringify(dbPath)} },
  connections: {
    espo: { connector: 'espocrm', options: ${JSON.stringify(espo)} },
    advo: { connector: 'advoware', options: ${JSON.stringify(advo)} },
  },
  flows: {
    ${FLOW}: { type: 'sync', connections: ['espo', 'advo'], ...beteiligteFlowDefaults({ espocrm: 'espo', advoware: 'advo' }) },
    watch: { type: 'inspect', connections: ['espo'] },
  },
});\n`,
  );
}

const espoRef = (id: string): RecordRef => ({ connection: 'espo', entityType: 'CBeteiligte', id });
const advoRef = (id: string): RecordRef => ({ connection: 'advo', entityType: 'Beteiligte', id });

/** Runs one job of `ref` to its end with a run that wrote `changes` and found `conflicts`. */
async function finishedRun(
  backend: Backend,
  ref: RecordRef,
  changes: readonly FieldChange[],
  conflicts: readonly ConflictInput[] = [],
): Promise<void> {
  await backend.queue.enqueue({
    flow: FLOW,
    recordKey: jobRecordKey(FLOW, ref),
    payload: { ref: { ...ref } },
  });
  const attempt = await backend.attempts.begin({ workerId: 'test', leaseMs: 60_000 });
  assert.ok(attempt?.run, 'a job with its run');
  const result = await backend.attempts.end({
    jobId: attempt.job.id,
    leaseToken: attempt.job.leaseToken,
    runId: attempt.run.id,
    run: { outcome: conflicts.length > 0 ? 'CONFLICT' : 'COMPLETED', changes, finishedAt: Date.now() },
    job: { kind: 'complete', state: 'COMPLETED' },
    commit: { conflicts: { add: conflicts } },
  });
  assert.equal(result, 'settled');
}

describe('crmsync sync (prepared SQLite store)', () => {
  const temp = makeTempDir('crmsync-cli-sync-');
  let config = '';
  let dbPath = '';
  let linked: Link;
  let open: ConflictRecord;

  before(async () => {
    dbPath = join(temp.path, 'crmsync.db');
    config = join(temp.path, 'sync.config.ts');
    // No vendor is called by status, conflicts or links: the URLs need not answer.
    writeSyncConfig(
      config,
      dbPath,
      { baseUrl: 'http://127.0.0.1:9/', auth: { mode: 'hmac', apiKey: 'key', secretKey: 'secret' } },
      {
        configuratorUrl: 'http://127.0.0.1:9/configurator',
        kanzlei: 'k',
        database: 'd',
        user: 'u',
        password: 'p',
        appId: 'app',
        apiKey: 'dGVzdA==',
        requestsPerSecond: 5,
      },
    );
    const backend = openSqliteBackend({ path: dbPath, durability: 'process' });
    try {
      const { links, checkpoints } = backend.store;
      linked = await links.save({
        flow: FLOW,
        a: { ref: espoRef('e1'), base: { lastName: 'Bremer' }, version: '7' },
        b: { ref: advoRef('1001'), base: { lastName: 'Bremer' }, version: 'AAAB' },
        status: 'conflict',
        retryCount: 2,
        lastError: 'SYNC_LINK_BUSY: held',
      });
      await links.save({
        flow: FLOW,
        a: { ref: espoRef('e2'), base: null, version: null },
        b: { ref: advoRef('1002'), base: null, version: null },
        status: 'clean',
      });
      await links.save({
        flow: FLOW,
        a: { ref: espoRef('e3'), base: null, version: null },
        b: { ref: advoRef('1003'), base: null, version: null },
        status: 'clean',
      });
      const conflict = (field: string, a: string, b: string): ConflictInput => ({
        flow: FLOW,
        linkId: linked.id,
        field,
        item: null,
        attribute: null,
        a,
        b,
        base: { a: 'Bremer', b: 'Bremer' },
        policy: 'manual',
        outcome: 'parked',
        runId: null,
      });
      await finishedRun(
        backend,
        espoRef('e1'),
        [{ ref: advoRef('1001'), field: 'vorname', before: 'Max', after: 'Moritz' }],
        [conflict('lastName', 'Bremer-Abenteuer', 'Bremer AG'), conflict('companyName', 'A GmbH', 'B AG')],
      );
      await finishedRun(backend, advoRef('1001'), [
        { ref: espoRef('e1'), field: 'firstName', before: null, after: 'Max' },
      ]);
      const [first] = await backend.store.conflicts.list({ flow: FLOW, status: 'open' });
      assert.ok(first, 'an open conflict');
      open = first;
      // The re-check of side b (Advoware) finished two rotations of 300 links.
      await checkpoints.set(`recheck|${FLOW}|b`, {
        afterId: null,
        rotationLinks: 0,
        lastRotationLinks: 300,
        rotations: 2,
      });
    } finally {
      await backend.close();
    }
  });
  after(() => temp.remove());

  it('status counts links and conflicts by status and says how long a re-check rotation takes', async () => {
    const result = await crmsync(['--config', config, 'sync', 'status', FLOW, '--json']);
    assert.equal(result.code, 0, result.stderr);
    const status = JSON.parse(result.stdout) as {
      links: Record<string, number>;
      conflicts: Record<string, number>;
      sides: { side: string; detection: string; recheck?: Record<string, number> }[];
    };
    assert.deepEqual(status.links, { clean: 2, pending: 0, failed: 0, conflict: 1, deleted: 0 });
    assert.deepEqual(status.conflicts, { open: 2, resolved: 0, closed: 0 });
    assert.deepEqual(
      status.sides.map((side) => [side.side, side.detection]),
      [
        ['a', 'reconcile'],
        ['b', 'recheck'],
      ],
    );
    // 5 requests/s configured, default share 0.2: one read per second, 300 links -> 300 s.
    assert.deepEqual(
      [status.sides[1]?.recheck?.readsPerSecond, status.sides[1]?.recheck?.linksPerRotation],
      [1, 300],
    );
    assert.equal(status.sides[1]?.recheck?.rotationSeconds, 300);
    const text = await crmsync(['--config', config, 'sync', 'status', FLOW]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /a full rotation takes 300 s at the configured budget/);
    assert.match(text.stdout, /links: +2 clean, 0 pending, 0 failed, 1 conflict, 0 deleted/);
  });

  it('refuses a flow that is not a sync flow, naming the sync flows', async () => {
    const result = await crmsync(['--config', config, 'sync', 'status', 'watch']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /Flow "watch" is a inspect flow; sync flows: beteiligte/);
  });

  it('conflicts list shows open conflicts, filtered by flow and status', async () => {
    const result = await crmsync(['--config', config, 'sync', 'conflicts', 'list', FLOW, '--json']);
    assert.equal(result.code, 0, result.stderr);
    const list = JSON.parse(result.stdout) as ConflictRecord[];
    assert.deepEqual(list.map((conflict) => conflict.field).sort(), ['companyName', 'lastName']);
    const closed = await crmsync(['--config', config, 'sync', 'conflicts', 'list', '--status', 'closed']);
    assert.equal(closed.code, 0, closed.stderr);
    assert.match(closed.stdout, /No conflicts match/);
    const bad = await crmsync(['--config', config, 'sync', 'conflicts', 'list', '--status', 'done']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--status: expected open, resolved, closed, got "done"/);
  });

  it('links show prints both sides, base snapshots, open conflicts and both records’ runs with their changes', async () => {
    const result = await crmsync(['--config', config, 'sync', 'links', 'show', 'advo/Beteiligte/1001']);
    assert.equal(result.code, 0, result.stderr);
    const out = result.stdout;
    assert.match(out, new RegExp(`Link ${linked.id} of flow beteiligte: conflict`));
    assert.match(out, /retries: 2/);
    assert.match(out, /last error: SYNC_LINK_BUSY: held/);
    assert.match(out, /side a: espo\/CBeteiligte\/e1 +version 7/);
    assert.match(out, /side b: advo\/Beteiligte\/1001 +version AAAB/);
    assert.match(out, /base lastName: "Bremer"/);
    assert.match(out, /Open conflicts \(2\)/);
    assert.match(out, /Runs \(2\)/);
    assert.match(out, /advo\/Beteiligte\/1001 vorname: "Max" -> "Moritz"/);
    assert.match(out, /espo\/CBeteiligte\/e1 firstName: null -> "Max"/);
    const json = await crmsync([
      '--config',
      config,
      'sync',
      'links',
      'show',
      'espo/CBeteiligte/e1',
      '--json',
    ]);
    const [shown] = JSON.parse(json.stdout) as { link: Link; openConflicts: unknown[]; runs: unknown[] }[];
    assert.equal(shown?.link.id, linked.id);
    assert.equal(shown?.runs.length, 2);
  });

  it('links show of a record without a link, or a malformed ref, exits non-zero with the reason', async () => {
    const missing = await crmsync(['--config', config, 'sync', 'links', 'show', 'espo/CBeteiligte/nope']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /espo\/CBeteiligte\/nope is not linked in flow beteiligte/);
    const bad = await crmsync(['--config', config, 'sync', 'links', 'show', 'espo-e1']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /expected connection\/EntityType\/id/);
  });

  it('conflicts resolve stores the choice and queues a sync job for the side-a record; a second resolve is refused', async () => {
    const badValue = await crmsync([
      '--config',
      config,
      'sync',
      'conflicts',
      'resolve',
      open.id,
      '--take',
      'value',
    ]);
    assert.equal(badValue.code, 2);
    assert.match(badValue.stderr, /--take value needs --value <json>/);
    const result = await crmsync([
      '--config',
      config,
      'sync',
      'conflicts',
      'resolve',
      open.id,
      '--take',
      'value',
      '--value',
      '"Bremer Abenteuerland"',
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /both sides get "Bremer Abenteuerland"/);
    const backend = openSqliteBackend({ path: dbPath, durability: 'process' });
    try {
      const stored = await backend.store.conflicts.get(open.id);
      assert.equal(stored?.status, 'resolved');
      assert.deepEqual(
        { take: stored?.resolution?.take, value: stored?.resolution?.value, by: stored?.resolution?.by },
        { take: 'value', value: 'Bremer Abenteuerland', by: 'cli' },
      );
      const pending = await backend.queue.list({ states: ['PENDING'], flow: FLOW });
      assert.equal(pending.length, 1);
      assert.equal(pending[0]?.recordKey, jobRecordKey(FLOW, espoRef('e1')));
      assert.deepEqual(pending[0]?.payloads[0], {
        ref: espoRef('e1'),
        kind: 'updated',
        vendorEvent: 'cli.resolve',
      });
    } finally {
      await backend.close();
    }
    const again = await crmsync(['--config', config, 'sync', 'conflicts', 'resolve', open.id, '--take', 'a']);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /resolved/);
    const unknown = await crmsync([
      '--config',
      config,
      'sync',
      'conflicts',
      'resolve',
      '999999',
      '--take',
      'b',
    ]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /No conflict with id 999999/);
  });

  it('conflicts resolve --take b gives both sides side b’s value', async () => {
    const list = await crmsync(['--config', config, 'sync', 'conflicts', 'list', FLOW, '--json']);
    const [remaining] = JSON.parse(list.stdout) as ConflictRecord[];
    assert.ok(remaining, 'one open conflict left');
    const result = await crmsync([
      '--config',
      config,
      'sync',
      'conflicts',
      'resolve',
      remaining.id,
      '--take',
      'b',
      '--json',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const { conflict } = JSON.parse(result.stdout) as { conflict: ConflictRecord };
    assert.deepEqual([conflict.status, conflict.resolution?.value], ['resolved', remaining.b]);
  });
});

describe('crmsync sync plan (EspoCRM and Advoware simulators)', () => {
  const temp = makeTempDir('crmsync-cli-plan-');
  let config = '';
  let dbPath = '';
  let espoSim: EspoCrmSimulator;
  let advoSim: AdvowareSimulator;
  let espo: Connector;
  let advo: Connector;
  let espoOptions: Record<string, unknown>;
  let advoOptions: Record<string, unknown>;
  /** The test's own connectors keep their tokens here, apart from the CLI's store. */
  let connectorState: TestBackend;

  before(async () => {
    dbPath = join(temp.path, 'crmsync.db');
    config = join(temp.path, 'plan.config.ts');
    espoSim = await startEspoCrmSimulator({ port: 0, seed: false, logger: silentLogger });
    advoSim = await startAdvowareSimulator({ port: 0, seed: false, logger: silentLogger });
    espoOptions = {
      baseUrl: espoSim.url,
      auth: { mode: 'hmac', apiKey: espoSim.credentials.apiKey, secretKey: espoSim.credentials.secretKey },
    };
    advoOptions = { configuratorUrl: advoSim.configuratorUrl, ...advoSim.credentials };
    writeSyncConfig(config, dbPath, espoOptions, advoOptions);
    connectorState = openTestBackend();
    const context = {
      clock: systemClock,
      logger: silentLogger,
      apiCalls: { record: () => {} },
      state: connectorState.backend.store.connectorState,
    };
    espo = espocrmConnector.create({
      connection: 'espo',
      options: espocrmConnector.optionsSchema.parse(espoOptions),
      ...context,
    });
    advo = advowareConnector.create({
      connection: 'advo',
      options: advowareConnector.optionsSchema.parse(advoOptions),
      ...context,
    });
  });
  after(async () => {
    await espo.close();
    await advo.close();
    await espoSim.close();
    await advoSim.close();
    await connectorState.close();
    temp.remove();
  });

  it('shows both sides, the base snapshots, the conflict and the writes of a linked pair, writing nothing', async () => {
    const espoRecord = await espo.write({
      entityType: 'CBeteiligte',
      fields: { firstName: 'Max', lastName: 'Bremer-Abenteuer', name: 'Max Bremer-Abenteuer' },
    });
    const advoRecord = await advo.write({
      entityType: 'Beteiligte',
      fields: { vorname: 'Moritz', name: 'Bremer AG' },
    });
    const base = { firstName: 'Moritz', lastName: 'Bremer', companyName: null };
    const backend = openSqliteBackend({ path: dbPath, durability: 'process' });
    try {
      await backend.store.links.save({
        flow: FLOW,
        a: { ref: espoRef(espoRecord.id), base, version: null },
        b: { ref: advoRef(advoRecord.id), base, version: null },
        status: 'clean',
      });
    } finally {
      await backend.close();
    }
    const before = await advo.read('Beteiligte', advoRecord.id);
    const result = await crmsync([
      '--config',
      config,
      'sync',
      'plan',
      FLOW,
      `espo/CBeteiligte/${espoRecord.id}`,
      '--json',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const plan = JSON.parse(result.stdout) as {
      kind: string;
      sides: Record<'a' | 'b', { canonical: Record<string, unknown> }>;
      base: Record<'a' | 'b', Record<string, unknown>>;
      writes: Record<'a' | 'b', Record<string, unknown>>;
      conflicts: { field: string; a: unknown; b: unknown; outcome: string }[];
    };
    assert.equal(plan.kind, 'merge');
    assert.equal(plan.sides.a.canonical['firstName'], 'Max');
    assert.equal(plan.sides.b.canonical['firstName'], 'Moritz');
    assert.deepEqual(plan.base.a, base);
    // Only EspoCRM changed firstName since the base: it goes to Advoware. Both changed lastName: a conflict,
    // which EspoCRM (side a) wins by the default policy; nothing goes to EspoCRM.
    assert.equal(plan.writes.b['vorname'], 'Max');
    assert.equal(plan.writes.b['name'], 'Bremer-Abenteuer');
    assert.deepEqual(plan.writes.a, {});
    assert.deepEqual(
      plan.conflicts.map(({ field, a, b, outcome }) => ({ field, a, b, outcome })),
      [{ field: 'lastName', a: 'Bremer-Abenteuer', b: 'Bremer AG', outcome: 'a' }],
    );
    assert.deepEqual(await advo.read('Beteiligte', advoRecord.id), before, 'plan wrote nothing');
    const text = await crmsync([
      '--config',
      config,
      'sync',
      'plan',
      FLOW,
      `advo/Beteiligte/${advoRecord.id}`,
    ]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /would write to side b:\n(?: {4}.*\n)* {4}vorname: "Max"/);
    assert.match(text.stdout, /would write to side a: \(none\)/);
    assert.match(text.stdout, /lastName: a "Bremer-Abenteuer", b "Bremer AG" -> a \(a-wins\)/);
    assert.match(text.stdout, /Nothing was written\./);
  });

  it('plans the first sync of an unlinked record as a create on the other side', async () => {
    const created = await espo.write({
      entityType: 'CBeteiligte',
      fields: { firstName: 'Erika', lastName: 'Muster', name: 'Erika Muster' },
    });
    const result = await crmsync([
      '--config',
      config,
      'sync',
      'plan',
      FLOW,
      `espo/CBeteiligte/${created.id}`,
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Plan: create/);
    assert.match(result.stdout, /would create on side b with:\n(?: {4}.*\n)*? {4}vorname: "Erika"/);
    const page = await advo.list({ entityType: 'Beteiligte', limit: 100 });
    assert.ok(!page.records.some((record) => record.fields['vorname'] === 'Erika'), 'nothing created');
  });

  it('refuses a ref on neither side of the flow', async () => {
    const result = await crmsync(['--config', config, 'sync', 'plan', FLOW, 'espo/Account/1']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /espo\/Account\/1 is on neither side of flow "beteiligte"/);
  });
});
