/**
 * emailAddressData / phoneNumberData: the helpers always produce the full new set from the current one, so
 * no address is dropped by accident; keys compare case-insensitively (email) or by digits (phone); exactly
 * one primary, first.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CrmsyncError } from '../../../src/core/errors.ts';
import type { JsonObject } from '../../../src/core/types.ts';
import {
  emailAddressPatch,
  mergeEmailAddressData,
  mergePhoneNumberData,
  phoneNumberPatch,
  readEmailAddressData,
  readPhoneNumberData,
} from '../../../src/connectors/espocrm/communication.ts';

const record: JsonObject = {
  id: '66a1b2c3d4e5f6789',
  emailAddress: 'Max@Example.com',
  emailAddressData: [
    {
      emailAddress: 'Max@Example.com',
      lower: 'max@example.com',
      primary: true,
      optOut: false,
      invalid: false,
    },
    {
      emailAddress: 'office@example.com',
      lower: 'office@example.com',
      primary: false,
      optOut: true,
      invalid: false,
    },
  ],
  phoneNumber: '+49 421 123-45',
  phoneNumberData: [
    { phoneNumber: '+49 421 123-45', type: 'Office', primary: true, optOut: false, invalid: false },
    { phoneNumber: '+49 170 999', type: 'Mobile', primary: false, optOut: false, invalid: false },
  ],
};

describe('espocrm communication: email', () => {
  it('reads the current set without the read-only lower, primary first', () => {
    assert.deepEqual(readEmailAddressData(record), [
      { emailAddress: 'Max@Example.com', primary: true, optOut: false, invalid: false },
      { emailAddress: 'office@example.com', primary: false, optOut: true, invalid: false },
    ]);
  });

  it('adding one address keeps every other one (the replace-semantics trap)', () => {
    const patch = emailAddressPatch(record, { upsert: ['new@example.com'] });
    assert.deepEqual(patch, {
      emailAddressData: [
        { emailAddress: 'Max@Example.com', primary: true, optOut: false, invalid: false },
        { emailAddress: 'office@example.com', primary: false, optOut: true, invalid: false },
        { emailAddress: 'new@example.com', primary: false, optOut: false, invalid: false },
      ],
    });
  });

  it('compares case-insensitively: re-adding is no change, removing by other case works, primary moves', () => {
    assert.deepEqual(emailAddressPatch(record, { upsert: ['max@example.com'] }), {
      emailAddressData: [
        { emailAddress: 'max@example.com', primary: true, optOut: false, invalid: false },
        { emailAddress: 'office@example.com', primary: false, optOut: true, invalid: false },
      ],
    });
    assert.deepEqual(emailAddressPatch(record, { upsert: ['Max@Example.com'] }), {});
    const removed = mergeEmailAddressData(readEmailAddressData(record), { remove: ['MAX@EXAMPLE.COM'] });
    assert.deepEqual(removed, [
      { emailAddress: 'office@example.com', primary: true, optOut: true, invalid: false },
    ]);
    const moved = mergeEmailAddressData(readEmailAddressData(record), { primary: 'Office@example.com' });
    assert.deepEqual(
      moved.map((entry) => [entry.emailAddress, entry.primary]),
      [
        ['Office@example.com', true],
        ['Max@Example.com', false],
      ],
    );
  });

  it('keeps flags not mentioned, changes the ones given, and builds a set from scratch', () => {
    const flagged = mergeEmailAddressData(readEmailAddressData(record), {
      upsert: [{ emailAddress: 'office@example.com', invalid: true }],
    });
    assert.deepEqual(flagged[1], {
      emailAddress: 'office@example.com',
      primary: false,
      optOut: true,
      invalid: true,
    });
    assert.deepEqual(
      mergeEmailAddressData([], {
        upsert: ['a@example.com', { emailAddress: 'b@example.com', primary: true }],
      }),
      [
        { emailAddress: 'b@example.com', primary: true, optOut: false, invalid: false },
        { emailAddress: 'a@example.com', primary: false, optOut: false, invalid: false },
      ],
    );
    assert.deepEqual(mergeEmailAddressData([], {}), []);
  });

  it('refuses a record read without emailAddressData instead of computing a set that unlinks everything', () => {
    const { emailAddressData: _dropped, ...withoutData } = record;
    for (const partial of [withoutData, { ...withoutData, emailAddressData: null }]) {
      assert.throws(
        () => emailAddressPatch(partial, { upsert: ['new@example.com'] }),
        (error: unknown) => error instanceof CrmsyncError && error.code === 'ESPOCRM_COLLECTION_NOT_READ',
      );
    }
    assert.deepEqual(
      emailAddressPatch({ id: 'x', emailAddress: null, emailAddressData: [] }, { upsert: ['a@b.de'] }),
      {
        emailAddressData: [{ emailAddress: 'a@b.de', primary: true, optOut: false, invalid: false }],
      },
    );
  });
});

describe('espocrm communication: phone', () => {
  it('matches numbers by digits, keeps types, and adds with or without a type', () => {
    assert.deepEqual(readPhoneNumberData(record)[0], {
      phoneNumber: '+49 421 123-45',
      type: 'Office',
      primary: true,
      optOut: false,
      invalid: false,
    });
    assert.deepEqual(phoneNumberPatch(record, { upsert: ['+49 421 123-45'] }), {});
    const patch = phoneNumberPatch(record, {
      remove: ['+49170999'],
      upsert: [{ phoneNumber: '0421 555', type: 'Fax' }, '+49 160 1'],
    });
    assert.deepEqual(patch, {
      phoneNumberData: [
        { phoneNumber: '+49 421 123-45', type: 'Office', primary: true, optOut: false, invalid: false },
        { phoneNumber: '0421 555', type: 'Fax', primary: false, optOut: false, invalid: false },
        { phoneNumber: '+49 160 1', primary: false, optOut: false, invalid: false },
      ],
    });
  });

  it('makes exactly one entry primary when none is', () => {
    const merged = mergePhoneNumberData(
      [
        { phoneNumber: '1', primary: false, optOut: false, invalid: false },
        { phoneNumber: '2', primary: false, optOut: false, invalid: false },
      ],
      {},
    );
    assert.deepEqual(
      merged.map((entry) => entry.primary),
      [true, false],
    );
  });
});
