/** The connector contract against the SuperOffice simulator (Contacts), through the `Connector` port. */
import { openSqliteBackend } from '../../src/adapters/sqlite/index.ts';
import { superofficeConnector } from '../../src/connectors/superoffice/index.ts';
import { getField } from '../../src/connectors/shared/casing.ts';
import {
  simulatorConnectionOptions,
  startSuperOfficeSimulator,
} from '../../src/simulators/superoffice/index.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { silentLogger } from '../connectors/superoffice/support.ts';
import { defineConnectorContract, signalRecorder } from './connector.contract.ts';

defineConnectorContract('superoffice', async () => {
  const clock = new ManualClock(Date.UTC(2026, 2, 2, 8, 0, 0));
  const sim = await startSuperOfficeSimulator({ port: 0, clock, seed: false });
  const backend = openSqliteBackend({ path: ':memory:', durability: 'process', clock });
  const apiCalls = signalRecorder();
  const connector = superofficeConnector.create({
    connection: 'so',
    options: superofficeConnector.optionsSchema.parse(simulatorConnectionOptions(sim)),
    clock,
    logger: silentLogger,
    apiCalls,
    state: backend.store.connectorState,
  });
  return {
    connector,
    clock,
    entityType: 'Contact',
    missingId: '999999',
    // Name on the entity surface, `name` in archive rows (keys are case-insensitive).
    fields: (label) => ({ Name: label }),
    nameOf: (record) => getField(record.fields, 'Name'),
    callSignals: apiCalls.signals,
    callMethods: apiCalls.methods,
    close: async () => {
      await connector.close();
      await sim.close();
      await backend.close();
    },
  };
});
