/** The connector contract against the EspoCRM simulator (Accounts), through the `Connector` port. */
import { openSqliteBackend } from '../../src/adapters/sqlite/index.ts';
import { espocrmConnector } from '../../src/connectors/espocrm/index.ts';
import { startEspoCrmSimulator } from '../../src/simulators/espocrm/index.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { silentLogger } from '../connectors/superoffice/support.ts';
import { defineConnectorContract, signalRecorder } from './connector.contract.ts';

defineConnectorContract('espocrm', async () => {
  const clock = new ManualClock(Date.UTC(2026, 2, 2, 8, 0, 0));
  const sim = await startEspoCrmSimulator({ port: 0, clock, seed: false, logger: silentLogger });
  const backend = openSqliteBackend({ path: ':memory:', durability: 'process', clock });
  const apiCalls = signalRecorder();
  const { apiKey, secretKey } = sim.credentials;
  const connector = espocrmConnector.create({
    connection: 'espo',
    options: espocrmConnector.optionsSchema.parse({
      baseUrl: sim.url,
      auth: { mode: 'hmac', apiKey, secretKey },
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
    // Account has optimistic concurrency control (versionNumber) in EspoCRM's defaults.
    entityType: 'Account',
    missingId: '0123456789abcdef0',
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
