/**
 * The traffic generator against a real SuperOffice simulator: the same seed gives the same actions, every
 * kind of action happens (duplicates of recent names and companies of the foreign owner WACK included), each
 * is logged, the changes reach a registered webhook receiver signed and attributed to the acting user, and
 * the timer stops cleanly.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { startSuperOfficeSimulator } from '../../src/simulators/superoffice/index.ts';
import type { SuperOfficeSimulator } from '../../src/simulators/superoffice/index.ts';
import {
  SandboxError,
  TRAFFIC_ACTIONS,
  TrafficGenerator,
  TrafficPlanner,
  ensureSimulatorWebhook,
  websiteOf,
} from '../../src/sandbox/index.ts';
import type { PerformedAction } from '../../src/sandbox/index.ts';
import { eventually } from '../support/eventually.ts';
import { capturingLogger, startReceiver } from './support.ts';
import type { WebhookReceiver } from './support.ts';

const SEED = 20260322;
const STEPS = 60;
const USERS = ['RKAB', 'RCGO', 'WACK'];
const ASSOCIATES: Readonly<Record<string, number>> = { RKAB: 485, RCGO: 486, WACK: 700 };
const silent = pino({ level: 'silent' });

/** Runs `count` actions one after the other. */
async function run(generator: TrafficGenerator, count: number): Promise<PerformedAction[]> {
  const actions: PerformedAction[] = [];
  for (let index = 0; index < count; index++) actions.push(await generator.step());
  return actions;
}

function generator(simulator: SuperOfficeSimulator, logger: pino.Logger = silent, seed = SEED) {
  return new TrafficGenerator({ simulatorUrl: simulator.url, users: USERS, seed, intervalMs: 10, logger });
}

describe('traffic generator', () => {
  const closers: (() => Promise<void>)[] = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
  });
  const simulator = async () => {
    const started = await startSuperOfficeSimulator();
    closers.push(() => started.close());
    return started;
  };

  it(`acts the same for the same seed (${SEED}), with every kind of action`, async () => {
    console.log(`traffic seed ${SEED}`);
    const first = await run(generator(await simulator()), STEPS);
    const second = await run(generator(await simulator()), STEPS);
    assert.deepEqual(second, first);
    const other = await run(generator(await simulator(), silent, SEED + 1), STEPS);
    assert.notDeepEqual(other, first, 'another seed acts differently');

    assert.deepEqual(new Set(first.map((action) => action.action)), new Set(TRAFFIC_ACTIONS));
    const created = first.filter((action) => action.action === 'create-company');
    const names = created.map((action) => action.body['Name']);
    assert.ok(new Set(names).size < names.length, 'some company names are entered again');
    assert.ok(
      created.some((action) => action.user === 'WACK'),
      'WACK (the foreign owner) creates companies',
    );
    for (const action of created) {
      assert.equal(action.entity, 'Contact');
      assert.match(String(action.body['Name']), /^\S.* (GmbH & Co\. KG|GmbH|AG|KG|e\.K\.)$/);
      assert.deepEqual(action.body['Urls'], [
        { Value: websiteOf(String(action.body['Name'])), Description: 'Website' },
      ]);
    }
  });

  it('changes the records in the simulator as the plan says, and logs one line per action', async () => {
    const sim = await simulator();
    const { logger, lines } = capturingLogger();
    const actions = await run(generator(sim, logger), 30);
    const state = (await (await fetch(`${sim.url}/_sim/state`)).json()) as {
      tenant: {
        contacts: { contactId: number; name: string; associateId: number }[];
        persons: { personId: number; title: string; contactId: number }[];
      };
    };
    const contacts = new Map(state.tenant.contacts.map((contact) => [contact.contactId, contact]));
    const persons = new Map(state.tenant.persons.map((person) => [person.personId, person]));
    for (const action of actions) {
      if (action.action === 'create-company')
        assert.equal(contacts.get(action.id)?.associateId, ASSOCIATES[action.user], 'the creator owns it');
      if (action.action === 'create-person') {
        const contact = (action.body['Contact'] as { ContactId: number }).ContactId;
        assert.equal(persons.get(action.id)?.contactId, contact);
      }
    }
    const lastTitle = actions.findLast((action) => action.entity === 'Person');
    assert.ok(lastTitle !== undefined);
    assert.equal(persons.get(lastTitle.id)?.title, lastTitle.body['Title']);

    const logged = lines.filter((line) => line['component'] === 'traffic' && 'action' in line);
    assert.equal(logged.length, actions.length);
    for (const [index, action] of actions.entries()) {
      const line = logged[index];
      assert.equal(line?.['level'], 30, 'info level');
      assert.equal(line['action'], action.action);
      assert.equal(line['entity'], action.entity);
      assert.equal(line['id'], action.id);
      assert.equal(line['user'], action.user);
    }
  });

  it('delivers its changes to a registered webhook, signed and attributed to the acting user', async () => {
    const sim = await simulator();
    const receiver: WebhookReceiver = await startReceiver();
    closers.push(() => receiver.close());
    const secret = 'traffic-test-secret-0123456789';
    await ensureSimulatorWebhook(sim, {
      name: 'traffic-test',
      targetUrl: `${receiver.url}/webhooks/superoffice`,
      events: ['contact.created', 'contact.changed', 'person.created', 'person.changed'],
      secret,
    });
    const actions = await run(generator(sim), 20);
    // Wait for the events of the creates and of a department change (every other edit may repeat a value).
    const waitedFor = actions.filter(
      (action) => action.action.startsWith('create-') || action.action === 'change-company-details',
    );
    const deliveries = await eventually(() => {
      const events = receiver.received.filter((request) => request.body['Event'] !== 'test');
      const delivered = (action: PerformedAction) =>
        events.some(
          (event) =>
            event.body['PrimaryKey'] === action.id &&
            String(event.body['Event']).startsWith(action.entity === 'Contact' ? 'contact.' : 'person.'),
        );
      return waitedFor.every(delivered) ? events : null;
    });
    for (const delivery of deliveries) {
      const expected = createHmac('sha256', secret).update(delivery.raw).digest('base64');
      assert.equal(delivery.headers['x-superoffice-signature'], expected);
      assert.equal(delivery.path, '/webhooks/superoffice');
    }
    for (const action of actions.filter((candidate) => candidate.action === 'create-company')) {
      const event = deliveries.find(
        (delivery) =>
          delivery.body['Event'] === 'contact.created' && delivery.body['PrimaryKey'] === action.id,
      );
      assert.ok(event !== undefined, `contact.created of ${action.id} delivered`);
      assert.equal(event.body['ChangedByAssociateId'], ASSOCIATES[action.user]);
    }
    const details = actions.find((action) => action.action === 'change-company-details');
    assert.ok(details !== undefined, `seed ${SEED} edits details within 20 actions`);
    const irrelevant = deliveries.find(
      (delivery) =>
        delivery.body['Event'] === 'contact.changed' && delivery.body['PrimaryKey'] === details.id,
    );
    assert.ok(irrelevant !== undefined, 'a department change is delivered');
    assert.ok((irrelevant.body['Changes'] as string[]).includes('department'));
    assert.ok(!(irrelevant.body['Changes'] as string[]).includes('name'));
  });

  it('refuses users the simulated tenant does not have', async () => {
    const sim = await simulator();
    const traffic = new TrafficGenerator({
      simulatorUrl: sim.url,
      users: ['RKAB', 'NOBODY'],
      seed: SEED,
      intervalMs: 10,
      logger: silent,
    });
    await assert.rejects(
      traffic.start(),
      (error: unknown) =>
        error instanceof SandboxError &&
        error.code === 'SANDBOX_UNKNOWN_USER' &&
        /no user NOBODY/.test(error.message),
    );
  });

  it('acts on its timer once started, and stops', async () => {
    const sim = await simulator();
    const { logger, lines } = capturingLogger();
    const traffic = generator(sim, logger);
    await traffic.start();
    await eventually(() => lines.filter((line) => 'action' in line).length >= 3);
    await traffic.stop();
    await traffic.stop();
    const count = lines.filter((line) => 'action' in line).length;
    // stop() waited for an action in progress and nothing is scheduled any more: a step by hand adds one line.
    const next = await traffic.step();
    assert.equal(lines.filter((line) => 'action' in line).length, count + 1);
    assert.ok(next.id > 0);
  });
});

describe('traffic planner', () => {
  it('edits only what exists: a company first, then no job title change before a person exists', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const planner = new TrafficPlanner({ seed, users: ['RKAB'], companies: [], persons: [] });
      const first = planner.next();
      assert.equal(first.action, 'create-company', `seed ${seed}`);
      assert.equal(first.id, undefined);
      planner.performed(first, 1);
      const companies = new Set([1]);
      for (let step = 0; step < 10; step++) {
        const action = planner.next();
        if (action.action === 'create-person') break;
        assert.notEqual(action.action, 'change-job-title', `seed ${seed}: no person to edit yet`);
        const id = action.id ?? 2 + step;
        assert.ok(action.id === undefined || companies.has(action.id), `seed ${seed}: edits a known company`);
        companies.add(id);
        planner.performed(action, id);
      }
    }
  });

  it('gives names a web address without umlauts or legal form', () => {
    assert.equal(websiteOf('Hunsrück Brauerei GmbH & Co. KG'), 'https://www.hunsrueck-brauerei.example');
    assert.equal(websiteOf('Spreewald Straßenbau AG'), 'https://www.spreewald-strassenbau.example');
  });
});
