/**
 * The EspoCRM simulator's API over real HTTP: the auth modes (HMAC computed here with node:crypto) and their
 * failures (401 with an empty body, 400 for a bad Espo-Authorization), record CRUD with partial updates,
 * read-only input dropped, validation failures, the e-mail and phone replace semantics, optimistic
 * concurrency with the 409 `modified` rules, the duplicate check and its skip switches, and error reasons.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../../support/manual-clock.ts';
import { admin, api, body, hmacHeader, suiteSimulator } from './simulator-support.ts';
import type { ListBody, RecordBody } from './simulator-support.ts';

const ID = /^[0-9a-f]{17}$/;
const DATETIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;
const anna = { user: 'anna', password: 'anna-password' };
const adminUser = { user: 'admin', password: 'admin-password' };

describe('EspoCRM simulator: authentication', () => {
  const sim = suiteSimulator({ seed: false });

  test('X-Api-Key and HMAC (hex and legacy binary digest) identify the API user', async () => {
    for (const auth of ['apiKey', 'hmac', 'hmacLegacy'] as const) {
      const res = await api(sim, 'GET', '/App/user', { auth });
      assert.equal(res.status, 200, auth);
      const user = body<{ user: RecordBody; token: unknown }>(res).user;
      assert.equal(user.id, sim.credentials.userId);
      assert.equal(user.userName, 'crmsync-api');
      assert.equal(user.type, 'api');
    }
  });

  test('the HMAC covers METHOD and path without the query string', async () => {
    const res = await api(sim, 'GET', '/Account?maxSize=5&orderBy=name', { auth: 'hmac' });
    assert.equal(res.status, 200);
  });

  test('wrong key, wrong HMAC and no credentials give 401 with an empty body', async () => {
    const wrongKey = await api(sim, 'GET', '/Account', { auth: 'none', headers: { 'X-Api-Key': 'nope' } });
    assert.equal(wrongKey.status, 401);
    assert.equal(wrongKey.text, '');
    const forged = Buffer.from(`${sim.credentials.apiKey}:${'0'.repeat(64)}`).toString('base64');
    const wrongMac = await api(sim, 'GET', '/Account', {
      auth: 'none',
      headers: { 'X-Hmac-Authorization': forged },
    });
    assert.equal(wrongMac.status, 401);
    assert.equal(wrongMac.text, '');
    // A HMAC made for another path does not pass either.
    const otherPath = await fetch(`${sim.url}/api/v1/Contact`, {
      headers: {
        'X-Hmac-Authorization': hmacHeader(
          sim.credentials.apiKey,
          sim.credentials.secretKey,
          'GET',
          '/Account',
        ),
      },
    });
    assert.equal(otherPath.status, 401);
    const none = await api(sim, 'GET', '/Account', { auth: 'none' });
    assert.equal(none.status, 401);
    assert.equal(none.text, '');
    assert.equal(none.headers.get('www-authenticate'), 'Basic realm=""');
  });

  test('a HMAC value without a colon is 401 with X-Status-Reason: error', async () => {
    const res = await api(sim, 'GET', '/Account', {
      auth: 'none',
      headers: { 'X-Hmac-Authorization': Buffer.from('no-colon-here').toString('base64') },
    });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('x-status-reason'), 'error');
    assert.equal(res.text, '');
  });

  test('human users log in with Espo-Authorization or Basic and get a token that works as password', async () => {
    const login = await api(sim, 'GET', '/App/user', { auth: anna });
    assert.equal(login.status, 200);
    const { user, token } = body<{ user: RecordBody; token: string }>(login);
    assert.equal(user.userName, 'anna');
    assert.match(token, /^[0-9a-f]{32}$/);
    const byToken = await api(sim, 'GET', '/App/user', {
      auth: { user: 'anna', password: token },
      headers: { 'Espo-Authorization-By-Token': 'true' },
    });
    assert.equal(byToken.status, 200);
    const basic = await api(sim, 'GET', '/App/user', { auth: { ...adminUser, basic: true } });
    assert.equal(body<{ user: RecordBody }>(basic).user.id, '1');
    const wrong = await api(sim, 'GET', '/App/user', { auth: { user: 'anna', password: 'wrong' } });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.text, '');
  });

  test('an Espo-Authorization value without a colon is 400 with the vendor reason', async () => {
    const res = await api(sim, 'GET', '/Account', {
      auth: 'none',
      headers: { 'Espo-Authorization': Buffer.from('anna').toString('base64') },
    });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('x-status-reason'), 'Auth: Bad authorization string provided.');
  });

  test('the quirk apiUserAuthMethod binds the API user to one header method', async () => {
    await admin(sim, 'POST', 'quirks', { apiUserAuthMethod: 'Hmac' });
    assert.equal((await api(sim, 'GET', '/Account', { auth: 'apiKey' })).status, 401);
    assert.equal((await api(sim, 'GET', '/Account', { auth: 'hmac' })).status, 200);
    await admin(sim, 'POST', 'quirks', { apiUserAuthMethod: 'any' });
  });
});

describe('EspoCRM simulator: records', () => {
  const clock = new ManualClock(Date.UTC(2025, 5, 1, 12, 0, 0));
  const sim = suiteSimulator({ seed: false, clock });

  test('create answers 200 with the full record, a 17-hex id and UTC datetimes', async () => {
    const res = await api(sim, 'POST', '/CBeteiligte', {
      body: { name: 'Kanzlei Weber', advowareId: '4711' },
    });
    assert.equal(res.status, 200);
    const record = body(res);
    assert.match(record.id, ID);
    assert.equal(record.createdAt, '2025-06-01 12:00:00');
    assert.match(String(record.modifiedAt), DATETIME);
    assert.equal(record.createdById, sim.credentials.userId);
    assert.equal(record.createdByName, 'crmsync API');
    assert.equal(record.advowareId, 4711, 'numeric strings are cast to int');
    assert.equal(record.syncStatus, 'pending_sync');
    assert.equal(record.deleted, false);
    assert.equal('versionNumber' in record, false, 'no concurrency control on CBeteiligte by default');
  });

  test('PUT and PATCH are identical partial updates; DELETE answers true; 404 texts differ', async () => {
    const created = body(
      await api(sim, 'POST', '/CBeteiligte', { body: { name: 'A', syncErrorMessage: 'x' } }),
    );
    clock.advance(60_000);
    for (const method of ['PUT', 'PATCH']) {
      const res = await api(sim, method, `/CBeteiligte/${created.id}`, { body: { syncStatus: 'dirty' } });
      assert.equal(res.status, 200);
      const record = body(res);
      assert.equal(record.syncStatus, 'dirty');
      assert.equal(record.name, 'A', `${method} keeps what it did not send`);
      assert.equal(record.syncErrorMessage, 'x');
      assert.equal(record.modifiedAt, '2025-06-01 12:01:00');
      assert.equal(record.modifiedById, sim.credentials.userId);
    }
    const deleted = await api(sim, 'DELETE', `/CBeteiligte/${created.id}`);
    assert.equal(deleted.status, 200);
    assert.equal(deleted.text, 'true');
    const read = await api(sim, 'GET', `/CBeteiligte/${created.id}`);
    assert.equal(read.status, 404);
    assert.equal(read.headers.get('x-status-reason'), `Record ${created.id} does not exist.`);
    assert.equal(read.text, '');
    const update = await api(sim, 'PATCH', `/CBeteiligte/${created.id}`, { body: { name: 'B' } });
    assert.equal(update.status, 404);
    assert.equal(update.headers.get('x-status-reason'), `Record ${created.id} not found.`);
    const unknown = await api(sim, 'GET', '/Lead');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.headers.get('x-status-reason'), "Controller 'Lead' does not exist.");
  });

  test('read-only, foreign-name and unknown input is dropped silently', async () => {
    const res = await api(sim, 'POST', '/Account', {
      body: {
        name: 'Dropped Inputs AG',
        id: 'aaaaaaaaaaaaaaaaa',
        deleted: true,
        createdAt: '2000-01-01 00:00:00',
        modifiedAt: '2000-01-01 00:00:00',
        createdById: '1',
        versionNumber: 99,
        assignedUserId: '65a1f0c2b3d4e5f61',
        assignedUserName: 'Someone Else',
        noSuchField: 'x',
      },
    });
    assert.equal(res.status, 200);
    const record = body(res);
    assert.notEqual(record.id, 'aaaaaaaaaaaaaaaaa');
    assert.equal(record.deleted, false);
    assert.equal(record.createdAt, '2025-06-01 12:01:00');
    assert.equal(record.createdById, sim.credentials.userId);
    assert.equal(record.versionNumber, 1);
    assert.equal(record.assignedUserId, '65a1f0c2b3d4e5f61');
    assert.equal(record.assignedUserName, 'Anna Berger');
    assert.equal('noSuchField' in record, false);
  });

  test('validation failures: 400 with the reason header and the messageTranslation body', async () => {
    const missing = await api(sim, 'POST', '/Account', { body: { website: 'x' } });
    assert.equal(missing.status, 400);
    assert.equal(
      missing.headers.get('x-status-reason'),
      'Field validation failure; entityType: Account, field: name, type: required.',
    );
    assert.deepEqual(missing.json, {
      messageTranslation: {
        label: 'validationFailure',
        scope: null,
        data: { field: 'name', type: 'required' },
      },
    });
    const badEnum = await api(sim, 'POST', '/CBeteiligte', { body: { name: 'x', syncStatus: 'Clean' } });
    assert.equal(
      badEnum.headers.get('x-status-reason'),
      'Field validation failure; entityType: CBeteiligte, field: syncStatus, type: valid.',
    );
    const tooLong = await api(sim, 'POST', '/CBeteiligte', {
      body: { name: 'x', advowareRowId: 'r'.repeat(51) },
    });
    assert.match(tooLong.headers.get('x-status-reason') ?? '', /field: advowareRowId, type: maxLength/);
    const badInt = await api(sim, 'POST', '/CBeteiligte', { body: { name: 'x', advowareId: 'abc' } });
    assert.match(badInt.headers.get('x-status-reason') ?? '', /field: advowareId, type: valid/);
    const badDate = await api(sim, 'POST', '/CBeteiligte', {
      body: { name: 'x', advowareLastSync: '2025-06-01T10:00:00Z' },
    });
    assert.match(badDate.headers.get('x-status-reason') ?? '', /field: advowareLastSync, type: valid/);
    const emptied = body(await api(sim, 'POST', '/Contact', { body: { lastName: 'Krüger' } }));
    const required = await api(sim, 'PATCH', `/Contact/${emptied.id}`, { body: { lastName: '' } });
    assert.match(required.headers.get('x-status-reason') ?? '', /field: lastName, type: required/);
  });
});

describe('EspoCRM simulator: e-mail and phone fields', () => {
  const sim = suiteSimulator({ seed: false });

  test('emailAddressData: first becomes primary when none is, primary first, duplicates collapse', async () => {
    const record = body(
      await api(sim, 'POST', '/CBeteiligte', {
        body: {
          name: 'Mail Test',
          emailAddressData: [
            { emailAddress: 'one@example.org' },
            { emailAddress: 'Two@Example.org', optOut: true },
            { emailAddress: 'ONE@example.org' },
          ],
        },
      }),
    );
    assert.equal(record.emailAddress, 'one@example.org');
    assert.deepEqual(record.emailAddressData, [
      {
        emailAddress: 'one@example.org',
        lower: 'one@example.org',
        primary: true,
        optOut: false,
        invalid: false,
      },
      {
        emailAddress: 'Two@Example.org',
        lower: 'two@example.org',
        primary: false,
        optOut: true,
        invalid: false,
      },
    ]);
    const marked = body(
      await api(sim, 'PATCH', `/CBeteiligte/${record.id}`, {
        body: {
          emailAddressData: [
            { emailAddress: 'a@example.org' },
            { emailAddress: 'b@example.org', primary: true },
          ],
        },
      }),
    );
    assert.equal(marked.emailAddress, 'b@example.org');
    assert.deepEqual(
      (marked.emailAddressData as RecordBody[]).map((entry) => [entry.emailAddress, entry.primary]),
      [
        ['b@example.org', true],
        ['a@example.org', false],
      ],
      'writing the list replaces the whole set',
    );
  });

  test('writing only emailAddress replaces the primary and keeps the others', async () => {
    const record = body(
      await api(sim, 'POST', '/CBeteiligte', {
        body: {
          name: 'Primary',
          emailAddressData: [{ emailAddress: 'p@example.org' }, { emailAddress: 'o@example.org' }],
        },
      }),
    );
    const replaced = body(
      await api(sim, 'PATCH', `/CBeteiligte/${record.id}`, { body: { emailAddress: 'new@example.org' } }),
    );
    assert.deepEqual(
      (replaced.emailAddressData as RecordBody[]).map((entry) => [entry.emailAddress, entry.primary]),
      [
        ['new@example.org', true],
        ['o@example.org', false],
      ],
    );
    const promoted = body(
      await api(sim, 'PATCH', `/CBeteiligte/${record.id}`, { body: { emailAddress: 'O@example.org' } }),
    );
    assert.deepEqual(
      (promoted.emailAddressData as RecordBody[]).map((entry) => [entry.emailAddress, entry.primary]),
      [['o@example.org', true]],
      'an existing address becomes primary; the replaced primary is unlinked',
    );
    const cleared = body(
      await api(sim, 'PATCH', `/CBeteiligte/${record.id}`, { body: { emailAddress: null } }),
    );
    assert.equal(cleared.emailAddress, null);
    assert.deepEqual(cleared.emailAddressData, []);
  });

  test('phone types per entity: a missing type takes the default; Account has no Home', async () => {
    const account = body(
      await api(sim, 'POST', '/Account', {
        body: { name: 'Phone AG', phoneNumberData: [{ phoneNumber: '+49 421 1' }] },
      }),
    );
    assert.deepEqual(account.phoneNumberData, [
      { phoneNumber: '+49 421 1', type: 'Office', primary: true, optOut: false, invalid: false },
    ]);
    const contact = body(
      await api(sim, 'POST', '/Contact', { body: { lastName: 'Tel', phoneNumber: '+49 170 2' } }),
    );
    assert.equal((contact.phoneNumberData as RecordBody[])[0]?.type, 'Mobile');
    const home = await api(sim, 'POST', '/Account', {
      body: { name: 'Home AG', phoneNumberData: [{ phoneNumber: '+49 421 3', type: 'Home' }] },
    });
    assert.equal(home.status, 400);
    assert.match(home.headers.get('x-status-reason') ?? '', /field: phoneNumber, type: valid/);
    const optedOut = body(
      await api(sim, 'PATCH', `/Account/${account.id}`, { body: { phoneNumberIsOptedOut: true } }),
    );
    assert.equal(optedOut.phoneNumberIsOptedOut, true);
    const badAddress = await api(sim, 'POST', '/Account', {
      body: { name: 'x', emailAddress: 'not-an-address' },
    });
    assert.match(badAddress.headers.get('x-status-reason') ?? '', /field: emailAddress, type: valid/);
  });
});

describe('EspoCRM simulator: optimistic concurrency', () => {
  const sim = suiteSimulator({ seed: false });

  test('a stale X-Version-Number with a differing field is 409 modified with the stored values', async () => {
    const account = body(
      await api(sim, 'POST', '/Account', {
        body: { name: 'Version AG', assignedUserId: '65a1f0c2b3d4e5f61' },
      }),
    );
    assert.equal(account.versionNumber, 1);
    const second = body(
      await api(sim, 'PATCH', `/Account/${account.id}`, { body: { website: 'https://v.example' } }),
    );
    assert.equal(second.versionNumber, 2, 'every save counts');
    const stale = await api(sim, 'PATCH', `/Account/${account.id}`, {
      headers: { 'X-Version-Number': '1' },
      body: { name: 'Changed AG', assignedUserId: '65a1f0c2b3d4e5f62' },
    });
    assert.equal(stale.status, 409);
    assert.equal(stale.headers.get('x-status-reason'), 'modified');
    assert.deepEqual(stale.json, {
      values: { name: 'Version AG', assignedUserId: '65a1f0c2b3d4e5f61', assignedUserName: 'Anna Berger' },
      versionNumber: 2,
    });
  });

  test('a stale version whose submitted values equal the stored ones still proceeds', async () => {
    const account = body(await api(sim, 'POST', '/Account', { body: { name: 'Same AG' } }));
    await api(sim, 'PATCH', `/Account/${account.id}`, { body: { industry: 'Energy' } });
    const res = await api(sim, 'PATCH', `/Account/${account.id}`, {
      headers: { 'X-Version-Number': '1' },
      body: { name: 'Same AG' },
    });
    assert.equal(res.status, 200);
    assert.equal(body(res).versionNumber, 3);
    const current = await api(sim, 'PATCH', `/Account/${account.id}`, {
      headers: { 'X-Version-Number': '3' },
      body: { name: 'Renamed AG' },
    });
    assert.equal(current.status, 200, 'the current version passes');
    const none = await api(sim, 'PATCH', `/Account/${account.id}`, { body: { name: 'Last write wins AG' } });
    assert.equal(none.status, 200, 'without the header no check is made');
  });

  test('Contact has none; CBeteiligte gets it by quirk', async () => {
    const contact = body(await api(sim, 'POST', '/Contact', { body: { lastName: 'NoVersion' } }));
    assert.equal('versionNumber' in contact, false);
    const ignored = await api(sim, 'PATCH', `/Contact/${contact.id}`, {
      headers: { 'X-Version-Number': '7' },
      body: { lastName: 'X' },
    });
    assert.equal(ignored.status, 200);
    await admin(sim, 'POST', 'quirks', { optimisticConcurrency: { CBeteiligte: true } });
    const beteiligter = body(await api(sim, 'POST', '/CBeteiligte', { body: { name: 'V' } }));
    assert.equal(beteiligter.versionNumber, 1);
    await api(sim, 'PATCH', `/CBeteiligte/${beteiligter.id}`, { body: { syncStatus: 'dirty' } });
    const stale = await api(sim, 'PATCH', `/CBeteiligte/${beteiligter.id}`, {
      headers: { 'X-Version-Number': '1' },
      body: { syncStatus: 'clean' },
    });
    assert.equal(stale.status, 409);
    assert.deepEqual(stale.json, { values: { syncStatus: 'dirty' }, versionNumber: 2 });
  });
});

describe('EspoCRM simulator: duplicate check', () => {
  const sim = suiteSimulator({ seed: false });

  test('same name (any case) or a shared e-mail address is 409 duplicate with the matches', async () => {
    const first = body(
      await api(sim, 'POST', '/Account', {
        body: { name: 'Weser Werft GmbH', emailAddress: 'info@werft.example' },
      }),
    );
    const byName = await api(sim, 'POST', '/Account', { body: { name: 'weser werft gmbh' } });
    assert.equal(byName.status, 409);
    assert.equal(byName.headers.get('x-status-reason'), 'duplicate');
    const matches = body<RecordBody[]>(byName);
    assert.equal(matches.length, 1);
    assert.equal(matches[0]?.id, first.id);
    assert.equal(matches[0]?.emailAddress, 'info@werft.example', 'matches carry full attributes');
    const byEmail = await api(sim, 'POST', '/Account', {
      body: { name: 'Other', emailAddress: 'INFO@werft.example' },
    });
    assert.equal(byEmail.status, 409);
    const persons = await api(sim, 'POST', '/Contact', { body: { firstName: 'Jan', lastName: 'Peters' } });
    assert.equal(persons.status, 200);
    const samePerson = await api(sim, 'POST', '/Contact', { body: { firstName: 'jan', lastName: 'peters' } });
    assert.equal(samePerson.status, 409);
    const otherFirst = await api(sim, 'POST', '/Contact', { body: { firstName: 'Ute', lastName: 'Peters' } });
    assert.equal(otherFirst.status, 200, 'persons match on first and last name together');
  });

  test('X-Skip-Duplicate-Check and _skipDuplicateCheck skip it; CBeteiligte has none by default', async () => {
    const skipped = await api(sim, 'POST', '/Account', {
      headers: { 'X-Skip-Duplicate-Check': 'TRUE' },
      body: { name: 'Weser Werft GmbH' },
    });
    assert.equal(skipped.status, 200);
    const legacy = await api(sim, 'POST', '/Account', {
      body: { name: 'Weser Werft GmbH', _skipDuplicateCheck: true },
    });
    assert.equal(legacy.status, 200);
    assert.equal('_skipDuplicateCheck' in body(legacy), false);
    await api(sim, 'POST', '/CBeteiligte', { body: { name: 'Twin' } });
    assert.equal((await api(sim, 'POST', '/CBeteiligte', { body: { name: 'Twin' } })).status, 200);
  });

  test('on update only with updateDuplicateCheck; at most 5 matches', async () => {
    const lone = body(await api(sim, 'POST', '/Account', { body: { name: 'Lone AG' } }));
    assert.equal(
      (await api(sim, 'PATCH', `/Account/${lone.id}`, { body: { name: 'Weser Werft GmbH' } })).status,
      200,
    );
    await admin(sim, 'POST', 'quirks', { updateDuplicateCheck: { Account: true } });
    for (let i = 0; i < 4; i++)
      await api(sim, 'POST', '/Account', {
        headers: { 'X-Skip-Duplicate-Check': 'true' },
        body: { name: 'Weser Werft GmbH' },
      });
    const other = body(await api(sim, 'POST', '/Account', { body: { name: 'Other Name AG' } }));
    const res = await api(sim, 'PATCH', `/Account/${other.id}`, { body: { name: 'Weser Werft GmbH' } });
    assert.equal(res.status, 409);
    assert.equal(body<RecordBody[]>(res).length, 5);
    const list = body<ListBody>(
      await api(
        sim,
        'GET',
        '/Account?where[0][type]=equals&where[0][attribute]=name&where[0][value]=Other%20Name%20AG',
      ),
    );
    assert.equal(list.total, 1, 'the rejected update changed nothing');
  });
});
