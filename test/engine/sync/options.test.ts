// The sync flow's options schema: valid configs with their defaults, and every kind of problem with its path,
// also through the config loader (paths under flows.<name>).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { validateConfig } from '../../../src/config/index.ts';
import type { FlowTypeSchema } from '../../../src/config/index.ts';
import { ConfigError } from '../../../src/core/errors.ts';
import { beteiligteFlowDefaults, syncOptionsSchema } from '../../../src/engine/flows/sync/index.ts';
import type { MappingModule, SyncOptionsInput } from '../../../src/engine/flows/sync/index.ts';
import type { ConnectorFactory } from '../../../src/ports/connector.ts';

const minimal = {
  a: { connection: 'espo', entityType: 'Account' },
  b: { connection: 'so', entityType: 'contact' },
  fields: { companyName: { a: 'name', b: 'Name' } },
};

/** Every problem of `options` as `path: message`, sorted by path. */
function problemsOf(options: unknown): { path: string; message: string }[] {
  const result = syncOptionsSchema.safeParse(options);
  assert.ok(!result.success, 'options were accepted');
  return result.error.issues
    .map((issue) => ({ path: issue.path.join('.'), message: issue.message }))
    .sort((left, right) => left.path.localeCompare(right.path));
}

function pathsOf(options: unknown): string[] {
  return problemsOf(options).map((problem) => problem.path);
}

/** `minimal` with `fields` replaced and `extra` options added. */
function withFields(fields: Record<string, unknown>, extra: Record<string, unknown> = {}): unknown {
  return { ...minimal, fields, ...extra };
}

describe('sync flow options: valid configs', () => {
  it('fills every default of a minimal config', () => {
    const options = syncOptionsSchema.parse(minimal);
    assert.deepEqual(options.fields.companyName, {
      a: { field: 'name' },
      b: { field: 'Name' },
      direction: 'both',
    });
    assert.deepEqual(options.conflict, { kind: 'a-wins' }, 'side a wins by default');
    assert.deepEqual(options.match, { keys: [] });
    assert.equal(options.status, undefined, 'status fields are opt-in');
  });

  it('accepts the Beteiligte defaults with the seed status fields', () => {
    const options = syncOptionsSchema.parse(beteiligteFlowDefaults({ espocrm: 'espo', advoware: 'advo' }));
    assert.deepEqual(Object.keys(options.fields), ['firstName', 'lastName', 'companyName']);
    assert.deepEqual(options.match.foreignKey, { side: 'a', field: 'advowareId' });
    assert.equal(options.status?.errorMessageMaxLength, 2_000);
    assert.equal(options.status?.versionToken, 'advowareRowId');
  });

  it('accepts transforms by name and as functions, chains, policies and one-way fields', () => {
    const upper = { toCanonical: (value: unknown) => value, toVendor: (value: unknown) => value };
    const options = syncOptionsSchema.parse(
      withFields(
        {
          email: {
            a: { field: 'emailAddress', transform: ['trim', 'lowercase'] },
            b: { field: 'mail', transform: upper },
          },
          birthDate: { a: { field: 'birthday', transform: 'date' }, b: 'geburtsdatum', direction: 'b-to-a' },
          note: { a: 'description', b: 'bemerkung', conflict: { kind: 'newest-wins', onTie: 'b' } },
        },
        { conflict: 'manual', match: { keys: [['email'], ['note', 'birthDate']] } },
      ),
    );
    assert.deepEqual(options.fields.email?.a.transform, ['trim', 'lowercase']);
    assert.equal(options.fields.email?.b.transform?.[0], upper, 'a single transform becomes a chain of one');
    assert.deepEqual(options.fields.note?.conflict, { kind: 'newest-wins', onTie: 'b' });
    assert.deepEqual(options.conflict, { kind: 'manual' });
  });

  it('accepts a mapping module object from a TS config', () => {
    const module: MappingModule = {
      name: 'full-name',
      fields: ['fullName'],
      vendorFields: ['full'],
      toCanonical: (record) => ({ fullName: record.full ?? null }),
      toVendor: (values) => ({ full: values.fullName ?? null }),
    };
    const options = syncOptionsSchema.parse(withFields({ fullName: { a: 'name', b: { module } } }));
    assert.equal(options.fields.fullName?.b.module, module);
  });
});

describe('sync flow options: every problem with its path', () => {
  it('reports missing sides, blank names and unknown keys', () => {
    assert.deepEqual(
      pathsOf({ a: { connection: ' ', entityType: 'X', extra: 1 }, fields: minimal.fields, typo: 1 }),
      ['', 'a', 'a.connection', 'b'],
    );
  });

  it('reports unknown transforms, directions, policies and modules at their paths', () => {
    const problems = problemsOf(
      withFields({
        email: { a: { field: 'mail', transform: ['trim', 'upcase'] }, b: 'mail', direction: 'sideways' },
        note: { a: 'note', b: 'note', conflict: 'loudest-wins' },
        tie: { a: 'tie', b: 'tie', conflict: { kind: 'a-wins', onTie: 'b' } },
        name: { a: 'name', b: { module: 'no-such-module' } },
      }),
    );
    assert.deepEqual(
      problems.map((problem) => problem.path),
      [
        'fields.email.a.transform.1',
        'fields.email.direction',
        'fields.name.b.module',
        'fields.note.conflict.kind',
        'fields.tie.conflict.onTie',
      ],
    );
    assert.match(problems[0]!.message, /"upcase" is not a transform; use one of trim, lowercase/);
    assert.match(problems[2]!.message, /beteiligte-advoware/);
  });

  it('reports an unknown transform, module or normaliser together with the cross-field problems', () => {
    assert.deepEqual(
      pathsOf(
        withFields(
          {
            email: { a: { field: 'mail', transform: 'upcase' }, b: { module: 'nope' } },
            phones: { a: 'phones', b: 'phones', collection: { normalise: 'soundex' } },
          },
          { match: { keys: [['fax']] } },
        ),
      ),
      [
        'fields.email.a.transform.0',
        'fields.email.b.module',
        'fields.phones.a.field',
        'fields.phones.b.field',
        'fields.phones.collection.normalise',
        'match.keys.0.0',
      ],
    );
  });

  it('reports a side mapped to neither or both of a field and a module, and transforms on a module', () => {
    assert.deepEqual(
      pathsOf(
        withFields({
          firstName: { a: {}, b: { module: 'beteiligte-advoware', transform: 'trim' } },
          lastName: { a: { field: 'x', module: 'beteiligte-espocrm' }, b: { module: 'beteiligte-advoware' } },
          companyName: { a: 'company', b: { module: 'beteiligte-advoware' } },
        }),
      ),
      ['fields.firstName.a', 'fields.firstName.b.transform', 'fields.lastName.a'],
    );
  });

  it('reports a module whose fields are not all mapped to it, and a field the module does not map', () => {
    const problems = problemsOf(
      withFields({
        firstName: { a: 'first', b: { module: 'beteiligte-advoware' } },
        lastName: { a: 'last', b: { module: 'beteiligte-advoware' } },
        nickname: { a: 'nick', b: { module: 'beteiligte-advoware' } },
      }),
    );
    assert.deepEqual(
      problems.map((problem) => problem.path),
      [
        'fields.firstName.b.module',
        'fields.lastName.b.module',
        'fields.nickname.b.module',
        'fields.nickname.b.module',
      ],
    );
    assert.ok(
      problems.some((problem) =>
        /also maps companyName: map it to the module on side b/.test(problem.message),
      ),
    );
    assert.ok(problems.some((problem) => /does not map "nickname"/.test(problem.message)));
  });

  it('reports fields of one module with different directions or conflict policies', () => {
    const names = { a: { module: 'beteiligte-espocrm' }, b: { module: 'beteiligte-advoware' } };
    const problems = problemsOf(
      withFields({
        firstName: names,
        lastName: { ...names, conflict: 'b-wins' },
        companyName: { ...names, direction: 'a-to-b' },
      }),
    );
    assert.deepEqual(
      problems.map((problem) => problem.path),
      ['fields.companyName', 'fields.firstName', 'fields.lastName'],
    );
    assert.match(
      problems[0]!.message,
      /companyName has a-to-b, "flow default", firstName has both, "flow default"/,
    );
  });

  it('reports a vendor field written twice on one side, by fields, modules, the foreign key or a status field', () => {
    const problems = problemsOf(
      withFields(
        {
          firstName: { a: { module: 'beteiligte-espocrm' }, b: 'first' },
          lastName: { a: { module: 'beteiligte-espocrm' }, b: 'last' },
          companyName: { a: { module: 'beteiligte-espocrm' }, b: 'company' },
          display: { a: 'name', b: 'first' },
          owner: { a: 'advowareId', b: 'owner' },
        },
        {
          match: { foreignKey: { side: 'a', field: 'advowareId' } },
          status: { side: 'a', syncStatus: 'name' },
        },
      ),
    );
    assert.deepEqual(
      problems.map((problem) => problem.path),
      ['fields.display.a.field', 'fields.display.b.field', 'match.foreignKey.field', 'status.syncStatus'],
    );
    assert.match(problems[0]!.message, /"name" of side a is already mapped by module "beteiligte-espocrm"/);
  });

  it('reports a conflict policy on a one-way field, match keys that are not mapped, and no fields', () => {
    assert.deepEqual(
      pathsOf(
        withFields(
          { note: { a: 'note', b: 'note', direction: 'a-to-b', conflict: 'b-wins' } },
          { match: { keys: [['note', 'email'], []] } },
        ),
      ),
      ['fields.note.conflict', 'match.keys.0.1', 'match.keys.1'],
    );
    assert.deepEqual(pathsOf(withFields({})), ['fields']);
    assert.deepEqual(pathsOf(withFields({ 'bad name': { a: 'x', b: 'y' } })), ['fields.bad name']);
  });

  it('reports status field problems at their paths', () => {
    assert.deepEqual(
      pathsOf({ ...minimal, status: { side: 'c', errorMessageMaxLength: 0, syncStatus: '' } }),
      ['status.errorMessageMaxLength', 'status.side', 'status.syncStatus'],
    );
  });
});

describe('sync flow options in the config loader', () => {
  const fake: ConnectorFactory<unknown> = {
    kind: 'fake',
    optionsSchema: z.strictObject({}),
    create: () => {
      throw new Error('not used');
    },
  };
  const flowTypes = new Map<string, FlowTypeSchema>([
    ['sync', { type: 'sync', optionsSchema: syncOptionsSchema }],
  ]);
  const validate = (flow: SyncOptionsInput) =>
    validateConfig(
      {
        connections: { espo: { connector: 'fake' }, advo: { connector: 'fake' } },
        flows: { beteiligte: { type: 'sync', connections: ['espo', 'advo'], ...flow } },
      },
      { connectors: new Map([['fake', fake]]), flowTypes, cwd: '/srv', environment: {} },
      'test',
    );

  it('loads a flow spread from the Beteiligte defaults', () => {
    const config = validate(beteiligteFlowDefaults({ espocrm: 'espo', advoware: 'advo' }));
    assert.equal(config.flows.get('beteiligte')?.type, 'sync');
  });

  it('lists every problem under the flow path', () => {
    const defaults = beteiligteFlowDefaults({ espocrm: 'espo', advoware: 'advo' });
    try {
      validate({ ...defaults, conflict: 'nobody-wins', match: { keys: [['email']] } });
      assert.fail('config was accepted');
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(error.problems.map((problem) => problem.path).sort(), [
        'flows.beteiligte.conflict.kind',
        'flows.beteiligte.match.keys.0.0',
      ]);
    }
  });
});
