/**
 * `crmsync superoffice verify|latest` against the SuperOffice simulator over HTTP. A finished enrichment is
 * simulated by writing the values through the WebAPI (with `superoffice raw`, as the API user) and recording
 * the run in the store directly, as the enrich flow would.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { openSqliteBackend } from '../../src/adapters/sqlite/index.ts';
import type { FieldChange, RunOutcome } from '../../src/core/types.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { useToolsWorld } from './superoffice-tools-support.ts';
import type { ToolsWorld } from './superoffice-tools-support.ts';

const ENRICH_FLOWS = `{
  enrich: { type: 'enrich', connections: ['so'], owners: { associateIds: [486], shortNames: ['rkab'] } },
  nobody: { type: 'enrich', connections: ['so'], owners: { associateIds: [4242], shortNames: [] } },
  watch: { type: 'inspect', connections: ['so'] },
}`;

/** Records a finished run of `flow` for Contact `contactId`, as the worker would. */
async function recordRun(
  world: ToolsWorld,
  run: { flow: string; contactId: string; outcome: RunOutcome; changes: FieldChange[]; finishedAt: number },
): Promise<string> {
  const backend = openSqliteBackend({ path: world.dbPath, durability: 'process' });
  try {
    const id = await backend.store.runs.start({
      jobId: `job-${run.contactId}`,
      flow: run.flow,
      ref: { connection: 'so', entityType: 'Contact', id: run.contactId },
      attempt: 1,
      startedAt: run.finishedAt - 1_000,
    });
    await backend.store.runs.finish(id, {
      outcome: run.outcome,
      changes: run.changes,
      finishedAt: run.finishedAt,
    });
    return id;
  } finally {
    await backend.close();
  }
}

function change(entityType: string, id: string, field: string, after: FieldChange['after']): FieldChange {
  return { ref: { connection: 'so', entityType, id }, field, before: null, after };
}

/** Writes user-defined fields as the API user, through `crmsync superoffice raw`. */
async function writeUdfs(world: ToolsWorld, path: string, values: Record<string, string>): Promise<void> {
  const result = await world.run([
    'superoffice',
    'raw',
    'so',
    'PATCH',
    path,
    '--data',
    JSON.stringify({ UserDefinedFields: values }),
  ]);
  assert.equal(result.code, 0, result.stdout + result.stderr);
}

describe('crmsync superoffice verify', () => {
  const world = useToolsWorld({ flows: ENRICH_FLOWS });
  let personId = '';
  // Runs are dated a little in the past, so that later edits are "after the run" despite whole-second dates.
  const finishedAt = Date.now() - 5_000;
  before(async () => {
    const answer = (await world().run(['superoffice', 'raw', 'so', 'GET', 'Contact/3'])).stdout;
    const contact = JSON.parse(answer.slice(answer.indexOf('\n\n'))) as { Persons: { PersonId: number }[] };
    personId = String(contact.Persons[0]!.PersonId);
    await writeUdfs(world(), 'Contact/3', {
      'SuperOffice:83': '[I:1616]',
      'SuperOffice:84': 'Kliniken im Elbtal,\r\nzwei Standorte.',
      'SuperOffice:85': 'Guten Tag aus dem Elbtal',
    });
    await writeUdfs(world(), `Person/${personId}`, { 'SuperOffice:91': 'Hallo Frau Doktor' });
    // An older run wrote other values; a newer run failed. Only the last COMPLETED run counts.
    await recordRun(world(), {
      flow: 'enrich',
      contactId: '3',
      outcome: 'COMPLETED',
      changes: [change('Contact', '3', 'SuperOffice:83', 1613)],
      finishedAt: finishedAt - 60_000,
    });
    await recordRun(world(), {
      flow: 'enrich',
      contactId: '3',
      outcome: 'COMPLETED',
      changes: [
        change('Contact', '3', 'SuperOffice:83', 1616),
        change('Contact', '3', 'SuperOffice:84', 'Kliniken im Elbtal,\nzwei Standorte.'),
        change('Contact', '3', 'SuperOffice:85', 'Guten Tag aus dem Elbtal'),
        change('Person', personId, 'SuperOffice:91', 'Hallo Frau Doktor'),
      ],
      finishedAt,
    });
    // A later run found the values in place and wrote nothing: the run before it still holds the values.
    await recordRun(world(), {
      flow: 'enrich',
      contactId: '3',
      outcome: 'COMPLETED',
      changes: [],
      finishedAt: finishedAt + 500,
    });
    await recordRun(world(), {
      flow: 'enrich',
      contactId: '3',
      outcome: 'FAILED',
      changes: [],
      finishedAt: finishedAt + 1_000,
    });
  });

  it('says LANDED when every value of the last COMPLETED run is there', async () => {
    const result = await world().run(['superoffice', 'verify', 'so', '3', '--flow', 'enrich']);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(
      result.stdout,
      /^Contact 3 "Elbtal Kliniken [^"]+": flow enrich, last COMPLETED run \d+ at /,
    );
    assert.match(result.stdout, /Contact\/3 +SuperOffice:83 +vertical +1616 +Healthcare \[I:1616\] +landed/);
    assert.match(
      result.stdout,
      /Contact\/3 +SuperOffice:84 +summary +Kliniken im Elbtal, zwei Standorte\. .*landed/,
    );
    assert.match(
      result.stdout,
      new RegExp(`Person/${personId} +SuperOffice:91 +personOpener +Hallo Frau Doktor .*landed`),
    );
    assert.match(result.stdout, /Verdict: LANDED: all 4 written values are there\.\n$/);
  });

  it('says NOT LANDED, and who changed the record after the run, when a value is gone', async () => {
    await world().admin('POST', 'act/RKAB/Contact/3', {
      UserDefinedFields: { 'SuperOffice:83': '[I:1619]' },
    });
    const result = await world().run(['superoffice', 'verify', 'so', '3', '--flow', 'enrich']);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /Contact\/3 +SuperOffice:83 +vertical +1616 +Logistics \[I:1619\] +MISSING/);
    assert.match(result.stdout, /SuperOffice:83: the record changed after the run \([^)]+ by RKAB\)/);
    assert.match(result.stdout, /Verdict: NOT LANDED: 1 of 4 written values are not there\.\n$/);

    const json = JSON.parse(
      (await world().run(['superoffice', 'verify', 'so', '3', '--flow', 'enrich', '--json'])).stdout,
    ) as {
      ok: boolean;
      run: { id: string } | null;
      checks: { field: string; verdict: string; expected: string | null; current: string | null }[];
    };
    assert.equal(json.ok, false);
    assert.deepEqual(
      json.checks.map((check) => [check.field, check.verdict]),
      [
        ['SuperOffice:83', 'missing'],
        ['SuperOffice:84', 'landed'],
        ['SuperOffice:85', 'landed'],
        ['SuperOffice:91', 'landed'],
      ],
    );
  });

  it('a COMPLETED run that wrote nothing has nothing to check', async () => {
    await recordRun(world(), {
      flow: 'enrich',
      contactId: '5',
      outcome: 'COMPLETED',
      changes: [],
      finishedAt,
    });
    const result = await world().run(['superoffice', 'verify', 'so', '5', '--flow', 'enrich']);
    assert.equal(result.code, 0, result.stdout);
    assert.match(result.stdout, /Verdict: NOTHING TO CHECK: the last COMPLETED run wrote no values/);
  });

  it('without a COMPLETED run it shows the current values and exits 1', async () => {
    const result = await world().run(['superoffice', 'verify', 'so', '4', '--flow', 'enrich']);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /: no COMPLETED run of flow enrich\n/);
    assert.match(result.stdout, /Contact\/4 +SuperOffice:83 +vertical +- +- +not written/);
    assert.match(result.stdout, /Verdict: NOT VERIFIED/);
  });

  it('bad input exits 2: an unknown contact, a bad id, no or an unsuitable or an ambiguous flow', async () => {
    const unknown = await world().run(['superoffice', 'verify', 'so', '999999', '--flow', 'enrich']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /Contact 999999 does not exist on connection "so"/);
    const badId = await world().run(['superoffice', 'verify', 'so', 'C3']);
    assert.equal(badId.code, 2);
    assert.match(badId.stderr, /contactId: expected a positive numeric id, got "C3"/);
    const ambiguous = await world().run(['superoffice', 'verify', 'so', '3']);
    assert.equal(ambiguous.code, 2);
    assert.match(
      ambiguous.stderr,
      /Several enrich flows use connection "so" \(enrich, nobody\); choose one with --flow/,
    );
    const wrongType = await world().run(['superoffice', 'verify', 'so', '3', '--flow', 'watch']);
    assert.equal(wrongType.code, 2);
    assert.match(wrongType.stderr, /flow "watch" is of type inspect/);
    const missing = await world().run(['superoffice', 'verify', 'so', '3', '--flow', 'nope']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--flow: no flow "nope"/);
  });
});

describe('crmsync superoffice verify without an enrich flow', () => {
  const world = useToolsWorld({ seed: false });

  it('says that no enrich flow uses the connection and exits 2', async () => {
    for (const tool of [
      ['verify', 'so', '1'],
      ['latest', 'so'],
    ]) {
      const result = await world().run(['superoffice', ...tool]);
      assert.equal(result.code, 2, tool.join(' '));
      assert.match(result.stderr, /No enrich flow uses connection "so" in .*crmsync\.config\.ts; add one/);
    }
  });
});

describe('crmsync superoffice latest', () => {
  // Archive dates have whole seconds: the clock moves on between the edits so that their order is clear.
  const clock = new ManualClock(Date.UTC(2026, 2, 2, 8, 0, 0));
  const world = useToolsWorld({ flows: ENRICH_FLOWS, clock });

  it("finds the youngest company whose owner passes the flow's owner filter", async () => {
    const ours = (await world().tenant()).contacts
      .filter((contact) => contact.associateId === 485 || contact.associateId === 486)
      .sort((a, b) => b.createdDate - a.createdDate || b.contactId - a.contactId);
    const youngest = ours[0]!;
    const seeded = await world().run(['superoffice', 'latest', 'so', '--flow', 'enrich']);
    assert.equal(seeded.code, 0, seeded.stderr);
    assert.match(seeded.stdout, new RegExp(`^Contact ${youngest.contactId} "`));
    assert.match(seeded.stdout, /owner filter: 486, rkab/);

    // A foreign owner's new company does not count; the team's does, with its enrichment fields.
    clock.advance(1_000);
    await world().admin('POST', 'act/WACK/Contact', { Name: 'Wackler Neukunde GmbH' });
    clock.advance(1_000);
    const created = (
      await world().admin('POST', 'act/RCGO/Contact', {
        Name: 'Roboplanet Neukunde GmbH',
        UserDefinedFields: { 'SuperOffice:83': '[I:1625]', 'SuperOffice:85': 'Moin!' },
      })
    )['id'] as number;
    const result = await world().run(['superoffice', 'latest', 'so', '--flow', 'enrich']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^Contact ${created} "Roboplanet Neukunde GmbH"\n`));
    assert.match(result.stdout, /\n {2}owner 486 RCGO \(owner filter: 486, rkab\)\n/);
    assert.match(result.stdout, /\n {2}vertical SuperOffice:83: Retail \[I:1625\]\n/);
    assert.match(result.stdout, /\n {2}summary SuperOffice:84: \(empty\)\n/);
    assert.match(result.stdout, /\n {2}companyOpener SuperOffice:85: Moin!\n/);

    // By update date, an old company of RKAB that was just edited is the youngest.
    clock.advance(1_000);
    await world().admin('POST', `act/RKAB/Contact/${ours.at(-1)!.contactId}`, { Department: 'Neu' });
    const byUpdate = JSON.parse(
      (await world().run(['superoffice', 'latest', 'so', '--flow', 'enrich', '--by', 'updated', '--json']))
        .stdout,
    ) as { flow: string; account: { contactId: string; owner: { name: string } }; scanned: number };
    assert.equal(byUpdate.flow, 'enrich');
    assert.equal(byUpdate.account.contactId, String(ours.at(-1)!.contactId));
    assert.equal(byUpdate.scanned, 1);
  });

  it('exits 1 when no scanned company passes the filter, and 2 for bad options', async () => {
    const none = await world().run(['superoffice', 'latest', 'so', '--flow', 'nobody', '--scan', '20']);
    assert.equal(none.code, 1);
    assert.equal(none.stdout, 'None of the 20 newest contacts (by created date) is owned by 4242.\n');
    const badBy = await world().run(['superoffice', 'latest', 'so', '--flow', 'enrich', '--by', 'age']);
    assert.equal(badBy.code, 2);
    assert.match(badBy.stderr, /--by: expected "created" or "updated", got "age"/);
    const badScan = await world().run(['superoffice', 'latest', 'so', '--flow', 'enrich', '--scan', '0']);
    assert.equal(badScan.code, 2);
    assert.match(badScan.stderr, /--scan: expected a whole number from 1 to 100000, got "0"/);
  });
});
