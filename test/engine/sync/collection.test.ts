// Collection fields in a sync flow's config: keyed by a built-in normaliser, mapped by modules, merged item by
// item through both mappings.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergeRecords } from '../../../src/core/sync/merge.ts';
import type { JsonObject } from '../../../src/core/types.ts';
import { NORMALISERS, compileSyncFlow, syncOptionsSchema } from '../../../src/engine/flows/sync/index.ts';
import type { MappingModule } from '../../../src/engine/flows/sync/index.ts';

/** EspoCRM's `emailAddressData` as canonical items `{ value, attributes: { primary } }`. */
const espoEmails: MappingModule = {
  name: 'test-espo-emails',
  fields: ['emails'],
  vendorFields: ['emailAddressData'],
  toCanonical: (record) => ({
    emails: ((record.emailAddressData ?? []) as JsonObject[]).map((entry) => ({
      value: entry.emailAddress as string,
      attributes: { primary: entry.primary === true },
    })),
  }),
  toVendor: (values) => ({
    emailAddressData: (values.emails as { value: string; attributes: JsonObject }[]).map((item) => ({
      emailAddress: item.value,
      primary: item.attributes.primary === true,
    })),
  }),
};

/** A vendor with a plain list of addresses, the first one primary. */
const plainEmails: MappingModule = {
  name: 'test-plain-emails',
  fields: ['emails'],
  vendorFields: ['mails'],
  toCanonical: (record) => ({
    emails: ((record.mails ?? []) as string[]).map((value, index) => ({
      value,
      attributes: { primary: index === 0 },
    })),
  }),
  toVendor: (values) => {
    const items = values.emails as { value: string; attributes: JsonObject }[];
    const ordered = [
      ...items.filter((item) => item.attributes.primary === true),
      ...items.filter((item) => item.attributes.primary !== true),
    ];
    return { mails: ordered.map((item) => item.value) };
  },
};

const options = {
  a: { connection: 'espo', entityType: 'Contact' },
  b: { connection: 'other', entityType: 'person' },
  fields: {
    emails: {
      a: { module: espoEmails },
      b: { module: plainEmails },
      collection: { normalise: 'email', primaryAttribute: 'primary' },
    },
  },
};

describe('collection fields in a sync flow', () => {
  it('compiles to a collection field spec with the built-in normaliser', () => {
    const [spec] = compileSyncFlow(syncOptionsSchema.parse(options)).fields;
    assert.equal(spec?.kind, 'collection');
    assert.equal(spec?.kind === 'collection' && spec.normalise(' Max@Example.COM '), 'max@example.com');
    assert.equal(spec?.kind === 'collection' && spec.primaryAttribute, 'primary');
    assert.equal(NORMALISERS.phone('+49 30 1234-5'), NORMALISERS.phone('+4930 12345'));
  });

  it('refuses a collection mapped to a plain vendor field, and an unknown normaliser', () => {
    const result = syncOptionsSchema.safeParse({
      ...options,
      fields: {
        emails: { a: 'emailAddressData', b: { module: plainEmails }, collection: { normalise: 'soundex' } },
      },
    });
    assert.ok(!result.success);
    assert.deepEqual(result.error.issues.map((issue) => issue.path.join('.')).sort(), [
      'fields.emails.a.field',
      'fields.emails.collection.normalise',
    ]);
  });

  it('carries an address added on one side to the other, matched case-insensitively', () => {
    const flow = compileSyncFlow(syncOptionsSchema.parse(options));
    const espo = { emailAddressData: [{ emailAddress: 'Max@Example.com', primary: true }] };
    const other = { mails: ['max@example.com'] };
    const base = { a: flow.a.toCanonical(espo), b: flow.b.toCanonical(other) };
    const edited = { mails: ['max@example.com', 'max@kanzlei.de'] };
    const merge = mergeRecords({ fields: flow.fields, a: base.a, b: flow.b.toCanonical(edited), base });
    assert.deepEqual(flow.a.toVendor(merge.writes.a.fields, base.a), {
      emailAddressData: [
        { emailAddress: 'Max@Example.com', primary: true },
        { emailAddress: 'max@kanzlei.de', primary: false },
      ],
    });
    assert.deepEqual(merge.writes.b.fields, {});
  });
});
