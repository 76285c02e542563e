/**
 * The composition of an `enrich` flow: its enrich target comes through the Connector port
 * (`connector.enrichTarget`), never from a class check, so a connection whose connector offers none is refused
 * with a ConfigError and a SuperOffice connection gets its target and its reconciler.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { openSqliteBackend } from '../../src/adapters/sqlite/index.ts';
import { createEnrichFlowHandler } from '../../src/cli/enrich-flow.ts';
import type { FlowDependencies } from '../../src/cli/flow-type.ts';
import { connectorFactories } from '../../src/cli/registry.ts';
import { ConfigError } from '../../src/core/errors.ts';
import { enrichOptionsSchema } from '../../src/engine/flows/enrich/index.ts';
import type { ScheduleDefinition } from '../../src/engine/scheduler.ts';
import type { Backend } from '../../src/ports/backend.ts';
import type { Connector } from '../../src/ports/connector.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { silentLogger } from '../engine/support.ts';

const OPTIONS: Readonly<Record<string, Record<string, unknown>>> = {
  generic: { secret: 'generic-test-secret-0123456789' },
  espocrm: { baseUrl: 'http://127.0.0.1:9', auth: { mode: 'apiKey', apiKey: 'key' } },
  superoffice: {
    clientId: 'client-id',
    clientSecret: 'client-secret-value',
    refreshToken: 'refresh-token-value',
    contextIdentifier: 'Cust1',
    environment: 'sod',
    authBaseUrl: 'http://127.0.0.1:9',
  },
};

describe('enrich flow composition', () => {
  const clock = new ManualClock();
  let backend: Backend;
  let connectors: Connector[];
  beforeEach(() => {
    backend = openSqliteBackend({ path: ':memory:', durability: 'process', clock });
    connectors = [];
  });
  afterEach(async () => {
    for (const connector of connectors) await connector.close();
    await backend.close();
  });

  function compose(kind: string) {
    const factory = connectorFactories.get(kind)!;
    const connector = factory.create({
      connection: 'crm',
      options: factory.optionsSchema.parse(OPTIONS[kind]),
      clock,
      logger: silentLogger,
      apiCalls: { record: () => undefined },
      state: backend.store.connectorState,
    });
    connectors.push(connector);
    const schedules: ScheduleDefinition[] = [];
    const deps: FlowDependencies = {
      connectors: new Map([['crm', connector]]),
      backend,
      clock,
      logger: silentLogger,
      configDir: process.cwd(),
      onStop: () => undefined,
      requestsPerSecond: () => undefined,
      schedule: (definition) => schedules.push(definition),
    };
    const flow = {
      name: 'enrich',
      type: 'enrich',
      connections: ['crm'],
      options: enrichOptionsSchema.parse({}),
    };
    return { create: () => createEnrichFlowHandler(flow, deps), schedules };
  }

  for (const kind of ['generic', 'espocrm']) {
    it(`refuses the ${kind} connection, which offers no enrich target`, () => {
      assert.throws(compose(kind).create, (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, new RegExp(`is a ${kind} connection, which offers no enrich target`));
        return true;
      });
    });
  }

  it("takes a SuperOffice connection's enrich target from the port and schedules its reconciler", () => {
    const composed = compose('superoffice');
    assert.equal(typeof composed.create(), 'function');
    assert.deepEqual(
      composed.schedules.map((schedule) => schedule.name),
      ['reconcile:enrich'],
    );
  });
});
