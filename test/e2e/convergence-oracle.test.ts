/**
 * The convergence test's acceptance rule (convergence-oracle.ts) on hand-made histories: what it must accept
 * (newest edit wins; an older EspoCRM edit that won a recorded a-wins conflict) and what it must refuse (a
 * lost edit, an unexplained loss, a conflict won by the other side), so a passing convergence run means
 * something.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConflictRecord } from '../../src/ports/store.ts';
import { isViolation, judgeField } from './convergence-oracle.ts';
import type { Edit } from './convergence-oracle.ts';

const edit = (seq: number, side: 'a' | 'b', value: string): Edit => ({
  seq,
  key: 'r0',
  side,
  field: 'lastName',
  value,
  atMs: seq,
});

const conflict = (outcome: 'a' | 'b', a: string, b: string): ConflictRecord => ({
  id: 'c1',
  flow: 'beteiligte',
  linkId: 'l1',
  field: 'lastName',
  item: null,
  attribute: null,
  a,
  b,
  base: { a: 'Berg', b: 'Berg' },
  policy: 'a-wins',
  outcome,
  status: 'closed',
  resolution: null,
  runId: null,
  createdAt: 0,
  updatedAt: 0,
});

function judge(final: string | null, edits: Edit[], conflicts: ConflictRecord[] = []) {
  return judgeField({ key: 'r0', field: 'lastName', initial: 'Berg', final, edits, conflicts });
}

describe('the convergence oracle', () => {
  it('accepts the initial value of a field nobody edited, and refuses any other', () => {
    assert.equal(isViolation(judge('Berg', [])), false);
    assert.equal(isViolation(judge('Weber', [])), true);
  });

  it('accepts the newest edit of either side', () => {
    assert.equal(isViolation(judge('Lang', [edit(0, 'a', 'Weber'), edit(1, 'b', 'Lang')])), false);
    assert.equal(isViolation(judge('Weber', [edit(0, 'b', 'Lang'), edit(1, 'a', 'Weber')])), false);
  });

  it('refuses a lost edit when only one side edited the field', () => {
    const verdict = judge('Weber', [edit(0, 'b', 'Weber'), edit(1, 'b', 'Lang')]);
    assert.ok(isViolation(verdict));
    assert.match(verdict.problem, /neither the newest edit "Lang"/);
  });

  it("accepts EspoCRM's older edit only with an a-wins conflict record that chose it", () => {
    const edits = [edit(0, 'a', 'Weber'), edit(1, 'b', 'Lang')];
    assert.equal(isViolation(judge('Weber', edits)), true, 'without a conflict the newer edit was lost');
    assert.equal(isViolation(judge('Weber', edits, [conflict('a', 'Weber', 'Lang')])), false);
    assert.equal(isViolation(judge('Weber', edits, [conflict('b', 'Weber', 'Lang')])), true);
    assert.equal(
      isViolation(judge('Weber', edits, [conflict('a', 'Krüger', 'Lang')])),
      false,
      "a conflict naming b's losing edit explains it, though the run saw an older side-a value",
    );
    assert.equal(isViolation(judge('Weber', edits, [conflict('a', 'Krüger', 'Hansen')])), true);
  });

  it("refuses Advoware's older edit over a newer EspoCRM edit (a-wins never lets b win)", () => {
    const edits = [edit(0, 'b', 'Lang'), edit(1, 'a', 'Weber')];
    assert.equal(isViolation(judge('Lang', edits, [conflict('a', 'Weber', 'Lang')])), true);
  });

  it('refuses a value that is not the newest edit of its side', () => {
    const edits = [edit(0, 'a', 'Weber'), edit(1, 'a', 'Krüger'), edit(2, 'b', 'Lang')];
    assert.equal(isViolation(judge('Weber', edits, [conflict('a', 'Weber', 'Lang')])), true);
  });
});
