/** The Beteiligte traffic planner: pure, seeded, and the edits it plans are what the sync must cope with. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BeteiligtePlanner } from '../../src/sandbox/index.ts';
import type { BeteiligteWorld } from '../../src/sandbox/index.ts';

const SEED = 42;

/** Three linked pairs: two persons and a company, the same names on both sides. */
const LINKED: BeteiligteWorld = {
  espocrm: [
    { id: 'e1', firstName: 'Anna', lastName: 'Koch', firmenname: null, advowareId: 1 },
    { id: 'e2', firstName: 'Paul', lastName: 'Wolf', firmenname: null, advowareId: 2 },
    { id: 'e3', firstName: null, lastName: null, firmenname: 'Seeblick Bau AG', advowareId: 3 },
  ],
  advoware: [
    { betNr: 1, name: 'Koch', vorname: 'Anna' },
    { betNr: 2, name: 'Wolf', vorname: 'Paul' },
    { betNr: 3, name: 'Seeblick Bau AG', vorname: '' },
  ],
};

describe('BeteiligtePlanner', () => {
  it('plans the same actions for the same seed and records', () => {
    console.log(`seed ${SEED}`);
    const plan = () => {
      const planner = new BeteiligtePlanner({ seed: SEED, conflictChance: 0.2 });
      return Array.from({ length: 20 }, () => planner.next(LINKED));
    };
    assert.deepEqual(plan(), plan());
  });

  it('creates on a side with fewer than three records', () => {
    const planner = new BeteiligtePlanner({ seed: SEED, conflictChance: 0 });
    const empty = planner.next({ espocrm: [], advoware: LINKED.advoware });
    assert.equal(empty.action, 'create-in-espocrm');
    assert.equal(empty.edits[0]?.id, undefined);
    assert.equal(planner.next({ espocrm: LINKED.espocrm, advoware: [] }).action, 'create-in-advoware');
  });

  it('edits the same field of a linked pair differently on both sides, EspoCRM first', () => {
    const planner = new BeteiligtePlanner({ seed: SEED, conflictChance: 1 });
    for (let step = 0; step < 20; step += 1) {
      const action = planner.next(LINKED);
      assert.equal(action.action, 'edit-on-both-sides');
      const [espo, advo] = action.edits;
      assert.ok(espo !== undefined && advo !== undefined);
      assert.deepEqual([espo.side, advo.side], ['espocrm', 'advoware']);
      const pair = LINKED.espocrm.find((record) => record.id === espo.id);
      assert.equal(String(pair?.advowareId), advo.id, 'the two records are linked');
      if (pair?.firstName === null) {
        // A company: its name differs, and both stay companies.
        assert.notEqual(espo.body['firmenname'], advo.body['name']);
        assert.equal(espo.body['name'], espo.body['firmenname']);
        assert.equal(advo.body['vorname'], '');
      } else {
        // A person: the last name differs, the first name is kept on both sides.
        assert.notEqual(espo.body['lastName'], advo.body['name']);
        assert.equal(espo.body['firstName'], pair?.firstName);
        assert.equal(advo.body['vorname'], pair?.firstName);
        assert.equal(espo.body['name'], `${espo.body['firstName']} ${espo.body['lastName']}`);
      }
    }
  });

  it('never plans a both-sides edit without a linked pair', () => {
    const planner = new BeteiligtePlanner({ seed: SEED, conflictChance: 1 });
    const unlinked: BeteiligteWorld = {
      espocrm: LINKED.espocrm.map((record) => ({ ...record, advowareId: null })),
      advoware: LINKED.advoware,
    };
    for (let step = 0; step < 20; step += 1)
      assert.notEqual(planner.next(unlinked).action, 'edit-on-both-sides');
  });
});
