import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RunOutcome } from '../../src/core/types.ts';
import { clusterRuns } from '../../src/engine/run-clusters.ts';
import type { Run } from '../../src/ports/store.ts';

const MINUTE = 60_000;
let nextId = 1;

function run(id: string, minute: number, outcome: RunOutcome | null, extra: Partial<Run> = {}): Run {
  return {
    id: String(nextId++),
    jobId: '1',
    flow: 'enrich',
    ref: { connection: 'so', entityType: 'Contact', id },
    attempt: 1,
    outcome,
    reason: outcome === 'SKIPPED' ? 'echo: made by the API user' : null,
    error: outcome === 'FAILED' ? { code: 'ENRICHER_UNAVAILABLE', message: 'down' } : null,
    changes: [],
    intendedChanges: [],
    apiCalls: 0,
    displayName: null,
    ownerName: null,
    startedAt: minute * MINUTE,
    finishedAt: outcome === null ? null : minute * MINUTE + 10,
    durationMs: outcome === null ? null : 10,
    ...extra,
  };
}

describe('run clusters (seed 002)', () => {
  it('a success outshines the echoes skipped after it, and names come from any run of the cluster', () => {
    const [cluster] = clusterRuns([
      run('7', 0, 'COMPLETED', {
        reason: 'enriched: wrote vertical',
        displayName: 'Bremer Abenteuerland',
        ownerName: 'RKAB',
      }),
      run('7', 1, 'SKIPPED'),
      run('7', 9, 'SKIPPED'),
    ]);
    assert.equal(cluster!.status, 'COMPLETED');
    assert.equal(cluster!.reason, 'enriched: wrote vertical');
    assert.equal(cluster!.displayName, 'Bremer Abenteuerland');
    assert.deepEqual(cluster!.counts, { COMPLETED: 1, SKIPPED: 2 });
  });

  it('a failure after a success still shows, with its error', () => {
    const [cluster] = clusterRuns([run('7', 0, 'COMPLETED'), run('7', 2, 'SKIPPED'), run('7', 3, 'FAILED')]);
    assert.equal(cluster!.status, 'FAILED');
    assert.equal(cluster!.reason, 'ENRICHER_UNAVAILABLE: down');
  });

  it('only skips: the cluster is SKIPPED with the latest reason', () => {
    const [cluster] = clusterRuns([
      run('8', 0, 'SKIPPED'),
      run('8', 1, 'SKIPPED', { reason: 'irrelevant: changed department' }),
    ]);
    assert.equal(cluster!.status, 'SKIPPED');
    assert.equal(cluster!.reason, 'irrelevant: changed department');
  });

  it('splits a record after a 15-minute gap, keeps records apart, newest cluster first', () => {
    const clusters = clusterRuns([
      run('7', 0, 'COMPLETED'),
      run('7', 14, 'SKIPPED'),
      run('7', 30, 'SKIPPED'),
      run('9', 20, 'COMPLETED'),
      run('9', 21, null),
    ]);
    assert.deepEqual(
      clusters.map((cluster) => [cluster.ref.id, cluster.status, cluster.runs.length]),
      [
        ['7', 'SKIPPED', 1],
        ['9', 'COMPLETED', 2],
        ['7', 'COMPLETED', 2],
      ],
    );
    assert.deepEqual(clusters[1]!.counts, { COMPLETED: 1, RUNNING: 1 });
  });

  it('a successful cluster tells what was written; a record skipped before any read is named from its other runs', () => {
    const change = {
      ref: { connection: 'so', entityType: 'Contact', id: '5' },
      field: 'SuperOffice:84',
      before: null,
      after: 'x',
    };
    const clusters = clusterRuns([
      run('5', 0, 'COMPLETED', {
        reason: 'enriched: wrote summary',
        changes: [change],
        displayName: 'Hanse Logistik',
      }),
      run('5', 2, 'COMPLETED', { reason: 'up to date: equal' }),
      run('5', 40, 'SKIPPED', { reason: 'irrelevant: changed department' }),
    ]);
    assert.deepEqual(
      clusters.map((cluster) => [cluster.status, cluster.reason, cluster.displayName]),
      [
        ['SKIPPED', 'irrelevant: changed department', 'Hanse Logistik'],
        ['COMPLETED', 'enriched: wrote summary', 'Hanse Logistik'],
      ],
    );
  });
});
