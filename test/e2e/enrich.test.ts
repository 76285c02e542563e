/**
 * The SuperOffice enrichment flow end to end over HTTP: a human edits the simulated tenant, SuperOffice
 * delivers signed webhooks to crmsync, the worker enriches and writes user-defined fields back, and every
 * filter of the seeds (echo, relevance, duplicates, owners, poison pill) shows in the run history.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Run } from '../../src/ports/store.ts';
import { simulatorAccessToken } from '../../src/sandbox/simulator-http.ts';
import { eventually } from '../support/eventually.ts';
import { DEFAULT_ANSWER, startEnrichWorld } from './enrich-world.ts';
import type { EnrichWorld } from './enrich-world.ts';

const LOGISTICS_ID = 1619; // "Logistics" in the simulator's Vertical list (1613 + 2 * 3).

function udfs(record: Record<string, unknown>): Record<string, string> {
  return record['UserDefinedFields'] as Record<string, string>;
}

function outcomes(runs: readonly Run[]): string[] {
  return runs.map((run) => `${run.outcome}: ${(run.reason ?? '').split(':', 1)[0]}`);
}

async function setQuirks(world: EnrichWorld, quirks: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${world.sim.url}/_sim/quirks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(quirks),
  });
  assert.ok(response.ok, `quirks: ${response.status}`);
}

/**
 * The runs of the companies `ids` once everything about them has happened: one was enriched, the simulator
 * delivered every webhook since (the echo of that write included), and no job of theirs waits or runs.
 */
async function settledRuns(world: EnrichWorld, ids: readonly number[]): Promise<Run[]> {
  const keys = new Set(ids.map((id) => `enrich|so/Contact/${id}`));
  const runsOf = async () => (await Promise.all(ids.map((id) => world.runs('Contact', id)))).flat();
  return eventually(async () => {
    assert.ok(
      (await runsOf()).some((run) => run.outcome === 'COMPLETED'),
      'one of the companies was enriched',
    );
    await world.sim.hub.idle();
    const jobs = (await world.app.backend.queue.list({ limit: 500 })).filter((job) =>
      keys.has(job.recordKey),
    );
    const busy = jobs.filter((job) => !['COMPLETED', 'SKIPPED', 'DEAD'].includes(job.state));
    assert.deepEqual(busy, [], 'no job of these companies waits or runs');
    const runs = await runsOf();
    assert.ok(
      runs.every((run) => run.outcome !== null),
      'every run finished',
    );
    return runs;
  });
}

describe('enrich flow end to end', () => {
  let world: EnrichWorld;
  before(async () => {
    world = await startEnrichWorld();
  });
  after(() => world.close());

  it('company created -> webhook -> enrichment -> fields written; its echo is SKIPPED with no API call', async () => {
    const id = await world.act('RKAB', 'Contact', { Name: 'Hanse Spedition Nord' });
    const runs = await world.waitForRuns('Contact', id, 2);
    const [enriched, echo] = runs;
    assert.equal(enriched!.outcome, 'COMPLETED');
    assert.match(enriched!.reason ?? '', /^enriched: wrote vertical, summary, companyOpener/);
    assert.equal(enriched!.displayName, 'Hanse Spedition Nord');
    assert.equal(enriched!.ownerName, 'RKAB');
    assert.deepEqual(
      enriched!.changes.map((change) => [change.field, change.after]),
      [
        ['SuperOffice:83', LOGISTICS_ID],
        ['SuperOffice:84', 'Hanse Spedition Nord moves goods across northern Germany.'],
        ['SuperOffice:85', 'Hello Hanse Spedition Nord team!'],
      ],
    );
    const record = udfs(await world.read('Contact', id));
    assert.equal(record['SuperOffice:83'], `[I:${LOGISTICS_ID}]`);
    assert.equal(record['SuperOffice:84'], 'Hanse Spedition Nord moves goods across northern Germany.');
    assert.equal(echo!.outcome, 'SKIPPED');
    assert.match(echo!.reason ?? '', /^echo: /);
    assert.equal(echo!.apiCalls, 0);
  });

  it('needs two API calls per enriched company once the vertical list is cached: read and write', async () => {
    const id = await world.act('RCGO', 'Contact', { Name: 'Weser Kühllogistik' });
    const [enriched] = await world.waitForRuns('Contact', id, 2);
    assert.equal(enriched!.outcome, 'COMPLETED');
    assert.equal(enriched!.apiCalls, 2);
  });

  it('an irrelevant change is SKIPPED with zero API calls; a relevant one with equal results writes nothing', async () => {
    const id = await world.act('RKAB', 'Contact', { Name: 'Elbe Frachtkontor' });
    await world.waitForRuns('Contact', id, 2);
    await world.act('RKAB', 'Contact', { Department: 'Einkauf' }, id);
    const afterIrrelevant = await world.waitForRuns('Contact', id, 3);
    const irrelevant = afterIrrelevant[2]!;
    assert.equal(irrelevant.outcome, 'SKIPPED');
    assert.match(irrelevant.reason ?? '', /^irrelevant: changed department/);
    assert.equal(irrelevant.apiCalls, 0);

    await world.act('RKAB', 'Contact', { OrgNr: 'DE123456789' }, id);
    const afterRelevant = await world.waitForRuns('Contact', id, 4);
    const unchanged = afterRelevant[3]!;
    assert.equal(unchanged.outcome, 'COMPLETED');
    assert.match(unchanged.reason ?? '', /^up to date: /);
    assert.deepEqual(unchanged.changes, []);
    assert.equal(unchanged.apiCalls, 1, 'one read, no write');
  });

  it('a company of a foreign owner is SKIPPED after one read, and named in the run', async () => {
    const id = await world.act('WACK', 'Contact', { Name: 'Wackler Gebäudeservice' });
    const [run] = await world.waitForRuns('Contact', id, 1);
    assert.equal(run!.outcome, 'SKIPPED');
    assert.match(run!.reason ?? '', /^foreign owner: owned by WACK \(associate 700\)/);
    assert.equal(run!.displayName, 'Wackler Gebäudeservice');
    assert.equal(run!.apiCalls, 1);
    assert.equal(udfs(await world.read('Contact', id))['SuperOffice:84'] ?? '', '');
  });

  it('duplicate contact.created deliveries (new EventIds) and a second company of the same name: one enrichment', async () => {
    await setQuirks(world, { duplicateContactCreated: 2 });
    try {
      const name = 'Doppel Logistik GmbH';
      const first = await world.act('RKAB', 'Contact', { Name: name });
      const second = await world.act('RCGO', 'Contact', { Name: 'Doppel  Logistik GmbH' });
      const runs = await settledRuns(world, [first, second]);
      const enrichments = runs.filter((run) => run.outcome === 'COMPLETED');
      assert.deepEqual(outcomes(enrichments), ['COMPLETED: enriched'], outcomes(runs).join('; '));
      // The other runs are the second company and the copies (duplicates), or the write's echo alone.
      const others = outcomes(runs.filter((run) => run.outcome !== 'COMPLETED'));
      assert.ok(others.includes('SKIPPED: duplicate'), others.join('; '));
      assert.ok(
        others.every((outcome) => outcome === 'SKIPPED: duplicate' || outcome === 'SKIPPED: echo'),
        others.join('; '),
      );
      const asked = world.enricherRequests.filter(
        (request) => (request as { company: { name: string } }).company.name.replace(/\s+/g, ' ') === name,
      );
      assert.equal(asked.length, 1, 'the enricher was asked once');
    } finally {
      await setQuirks(world, { duplicateContactCreated: 0 });
    }
  });

  it("a foreign owner's company of the same name, created just before ours, does not block ours", async () => {
    const foreign = await world.act('WACK', 'Contact', { Name: 'Geteilt Spedition' });
    const [skipped] = await world.waitForRuns('Contact', foreign, 1);
    assert.match(skipped!.reason ?? '', /^foreign owner: /);
    const ours = await world.act('RKAB', 'Contact', { Name: 'Geteilt Spedition' });
    const [enriched] = await world.waitForRuns('Contact', ours, 1);
    assert.equal(enriched!.outcome, 'COMPLETED', enriched!.reason ?? '');
    assert.match(enriched!.reason ?? '', /^enriched: /);
  });

  it('a person change writes the person opener to the person', async () => {
    const company = await world.act('RKAB', 'Contact', { Name: 'Hafen Umschlag AG' });
    await world.waitForRuns('Contact', company, 2);
    const person = await world.act('RKAB', 'Person', {
      Firstname: 'Jana',
      Lastname: 'Reder',
      Contact: { ContactId: company },
    });
    await world.act('RKAB', 'Person', { Title: 'Leiterin Disposition' }, person);
    const runs = await eventually(async () => {
      const finished = (await world.runs('Person', person)).filter((run) => run.outcome === 'COMPLETED');
      return finished.length > 0 ? finished : null;
    });
    const enriched = runs.find((run) => run.changes.length > 0)!;
    assert.deepEqual(
      enriched.changes.map((change) => [change.field, change.after]),
      [['SuperOffice:91', 'Hello there, logistics expert!']],
    );
    assert.equal(enriched.displayName, 'Jana Reder (Hafen Umschlag AG)');
    assert.equal(
      udfs(await world.read('Person', person))['SuperOffice:91'],
      'Hello there, logistics expert!',
    );
  });

  it('enricher down: retries with backoff, DEAD after 5 attempts; replay completes it', async () => {
    world.answer = () => ({ status: 503, body: { error: 'maintenance' } });
    try {
      const id = await world.act('RKAB', 'Contact', { Name: 'Ausfall Transporte KG' });
      const dead = await eventually(
        async () => {
          const jobs = await world.app.backend.queue.list({ states: ['DEAD'], limit: 50 });
          return jobs.find((job) => job.recordKey.endsWith(`/Contact/${id}`)) ?? null;
        },
        { timeoutMs: 10_000 },
      );
      assert.equal(dead.attempts, 5);
      assert.equal(dead.lastError?.code, 'ENRICHER_UNAVAILABLE');
      const failed = await world.runs('Contact', id);
      assert.equal(failed.filter((run) => run.outcome === 'FAILED').length, 5);

      world.answer = DEFAULT_ANSWER;
      await world.app.backend.queue.replay(dead.id);
      const runs = await world.waitForRuns('Contact', id, 7);
      assert.equal(runs[5]!.outcome, 'COMPLETED');
      assert.match(runs[5]!.reason ?? '', /^enriched: /);
    } finally {
      world.answer = DEFAULT_ANSWER;
    }
  });
});

describe('enrich flow reconciler', () => {
  let world: EnrichWorld;
  before(async () => {
    world = await startEnrichWorld({ reconcile: { cron: '* * * * * *', lookbackMinutes: 5 } });
  });
  after(() => world.close());

  it('enriches a company whose webhook was lost, and does not queue its own write again', async () => {
    // The registration is gone: SuperOffice delivers nothing from now on.
    const token = await simulatorAccessToken(world.sim);
    const removed = await fetch(`${world.sim.tenantUrl}/api/v1/Webhook/${world.webhookId}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
    });
    assert.ok(removed.ok, `webhook delete: ${removed.status}`);
    const id = await world.act('RKAB', 'Contact', { Name: 'Verloren Logistik GmbH' });

    const [enriched] = await world.waitForRuns('Contact', id, 1, 15_000);
    assert.equal(enriched!.outcome, 'COMPLETED');
    assert.match(enriched!.reason ?? '', /^enriched: wrote vertical, summary, companyOpener/);
    const updated = String((await world.read('Contact', id))['UpdatedDate']);

    // Wait until a scan has seen the record at the version of our write, then check it queued nothing.
    await eventually(
      async () => {
        const checkpoint = await world.app.backend.store.checkpoints.get(`reconcile|enrich|Contact`);
        return typeof checkpoint?.value === 'string' && Date.parse(checkpoint.value) >= Date.parse(updated);
      },
      { timeoutMs: 15_000 },
    );
    const jobs = await world.app.backend.queue.list({ recordKey: `enrich|so/Contact/${id}`, limit: 10 });
    assert.equal(jobs.length, 1, `jobs: ${jobs.map((job) => job.state).join(', ')}`);
    assert.equal((await world.runs('Contact', id)).length, 1);
  });
});
