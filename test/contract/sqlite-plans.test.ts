/**
 * What the serving process reads often never costs work linear in a table: `jobs list --state`, `runs list
 * --outcome/--since`, the conflict inbox, the link and conflict counts, and the /metrics job gauge
 * (queue.counts) use indexes that deliver rows in list order,
 * checked on the query plans of the statements the adapter really executes. A `SCAN jobs`/`SCAN runs` reads
 * the whole table (or index); a temporary B-tree for ORDER BY sorts every match before the limit applies.
 * Retention's batched deletes find their rows through an index too.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { it } from 'node:test';
import type { TestContext } from 'node:test';
import { openSqliteBackend } from '../../src/adapters/sqlite/index.ts';
import type { Backend } from '../../src/ports/backend.ts';
import { makeTempDir } from '../support/temp-dir.ts';
import { queryPlan, recordStatements, statementsOf } from './sqlite-statements.ts';
import type { ExecutedStatement } from './sqlite-statements.ts';

const REF = { connection: 'crm', entityType: 'Contact', id: '7' };
// A SCAN reads a whole table or index (the six rows of job_counts excepted). A job's own payloads are sorted
// by group_concat(ORDER BY): at most maxPayloadsPerJob rows, so that temporary B-tree is not linear.
const LINEAR = /^SCAN (?!job_counts\b)|TEMP B-TREE FOR (ORDER BY|GROUP BY|DISTINCT)/;

function setup(t: TestContext): { backend: Backend; path: string; executed: ExecutedStatement[] } {
  const temp = makeTempDir('crmsync-sqlite-plans-');
  const path = join(temp.path, 'crmsync.db');
  const backend = openSqliteBackend({ path, durability: 'process' });
  t.after(async () => {
    await backend.close();
    temp.remove();
  });
  return { backend, path, executed: recordStatements(t) };
}

/** Runs `read` and asserts that no statement it executed has a linear step in its plan. */
async function assertIndexed(
  { path, executed }: { path: string; executed: ExecutedStatement[] },
  what: string,
  read: () => Promise<unknown>,
): Promise<void> {
  const statements = await statementsOf(executed, read);
  assert.ok(statements.length > 0, `${what}: executed no statement`);
  for (const statement of statements) {
    const plan = queryPlan(path, statement);
    assert.ok(
      !plan.some((step) => LINEAR.test(step)),
      `${what}: ${statement.sql}\nhas a linear plan:\n  ${plan.join('\n  ')}`,
    );
  }
}

it('jobs list by state walks an index in list order', async (t) => {
  const { backend, ...db } = setup(t);
  const { queue } = backend;
  await assertIndexed(db, 'one state', () => queue.list({ states: ['DEAD'] }));
  await assertIndexed(db, 'two states', () => queue.list({ states: ['DEAD', 'FAILED'], limit: 10 }));
  await assertIndexed(db, 'state, next page', () => queue.list({ states: ['DEAD'], beforeId: '90' }));
  await assertIndexed(db, 'flow', () => queue.list({ flow: 'enrich' }));
});

it('runs list by outcome, since a time, flow, job or record walks an index in list order', async (t) => {
  const { backend, ...db } = setup(t);
  const { runs } = backend.store;
  await assertIndexed(db, 'one outcome', () => runs.list({ outcomes: ['FAILED'] }));
  await assertIndexed(db, 'outcomes', () => runs.list({ outcomes: ['FAILED', 'CONFLICT'] }));
  await assertIndexed(db, 'since', () => runs.list({ since: 1_000 }));
  await assertIndexed(db, 'since, next page', () => runs.list({ since: 1_000, beforeId: '40' }));
  await assertIndexed(db, 'outcome since', () => runs.list({ outcomes: ['SKIPPED'], since: 1_000 }));
  await assertIndexed(db, 'flow', () => runs.list({ flow: 'enrich', beforeId: '40' }));
  await assertIndexed(db, 'flow since', () => runs.list({ flow: 'enrich', since: 1_000 }));
  await assertIndexed(db, 'job', () => runs.list({ jobId: '12' }));
  await assertIndexed(db, 'record', () => runs.list({ ref: REF }));
});

it('matches an echo through the index of a record’s open ledger entries', async (t) => {
  const { backend, ...db } = setup(t);
  const { ledger } = backend.store;
  await assertIndexed(db, 'echo', () => ledger.matchEcho(REF, { version: 'v1', fields: { name: 'h' } }));
});

it('lists and counts conflicts, and finds links whose deletion waits, through indexes in list order', async (t) => {
  const { backend, ...db } = setup(t);
  const { conflicts, links } = backend.store;
  await assertIndexed(db, 'all conflicts', () => conflicts.list({ afterId: '10' }));
  await assertIndexed(db, 'conflicts of a flow', () => conflicts.list({ flow: 'f', afterId: '10' }));
  await assertIndexed(db, 'open conflicts of a flow', () => conflicts.list({ flow: 'f', status: 'open' }));
  await assertIndexed(db, 'open conflicts', () => conflicts.list({ status: 'open' }));
  await assertIndexed(db, 'conflicts of a link', () => conflicts.list({ linkId: '7', status: 'open' }));
  await assertIndexed(db, 'conflict counts', () => conflicts.count('f'));
  await assertIndexed(db, 'link counts', () => links.countByStatus('f'));
  await assertIndexed(db, 'pending deletions', () => links.list({ flow: 'f', deletionPendingBefore: 1_000 }));
});

it('counts jobs per state without reading the jobs', async (t) => {
  const { backend, ...db } = setup(t);
  await assertIndexed(db, 'counts', () => backend.queue.counts());
});

it('finds what retention deletes through an index', async (t) => {
  const { backend, ...db } = setup(t);
  const { queue, store, locks } = backend;
  await assertIndexed(db, 'jobs and dedup keys', () => queue.prune(1_000));
  await assertIndexed(db, 'runs', () => store.runs.prune(1_000));
  await assertIndexed(db, 'ledger', () => store.ledger.prune(1_000));
  await assertIndexed(db, 'closed conflicts', () => store.conflicts.prune(1_000));
  await assertIndexed(db, 'locks', () => locks.prune());
  await assertIndexed(db, 'connector state', () => store.connectorState.prune());
});
