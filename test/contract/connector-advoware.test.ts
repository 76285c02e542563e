/** The connector contract against the Advoware simulator (Beteiligte), through the `Connector` port. */
import { openSqliteBackend } from '../../src/adapters/sqlite/index.ts';
import { advowareConnector } from '../../src/connectors/advoware/index.ts';
import { startAdvowareSimulator } from '../../src/simulators/advoware/index.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { silentLogger } from '../connectors/superoffice/support.ts';
import { defineConnectorContract, signalRecorder } from './connector.contract.ts';

defineConnectorContract('advoware', async () => {
  const clock = new ManualClock(Date.UTC(2026, 2, 2, 8, 0, 0));
  const sim = await startAdvowareSimulator({ port: 0, clock, seed: false });
  const backend = openSqliteBackend({ path: ':memory:', durability: 'process', clock });
  const apiCalls = signalRecorder();
  const connector = advowareConnector.create({
    connection: 'advo',
    options: advowareConnector.optionsSchema.parse({
      configuratorUrl: sim.configuratorUrl,
      ...sim.credentials,
      requestsPerSecond: 1_000,
    }),
    clock,
    logger: silentLogger,
    apiCalls,
    state: backend.store.connectorState,
  });
  return {
    connector,
    clock,
    entityType: 'Beteiligte',
    missingId: '999999',
    fields: (label) => ({ name: label }),
    nameOf: (record) => record.fields['name'],
    callSignals: apiCalls.signals,
    callMethods: apiCalls.methods,
    close: async () => {
      await connector.close();
      await sim.close();
      await backend.close();
    },
  };
});
