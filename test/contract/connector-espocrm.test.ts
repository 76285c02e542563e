/** The connector contract against the EspoCRM simulator (Accounts), through the `Connector` port. */
import { espocrmConnector } from '../../src/connectors/espocrm/index.ts';
import { startEspoCrmSimulator } from '../../src/simulators/espocrm/index.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { silentLogger } from '../engine/support.ts';
import { defineConnectorContract, simulatorSubject } from './connector.contract.ts';

defineConnectorContract('espocrm', async () => {
  const clock = new ManualClock(Date.UTC(2026, 2, 2, 8, 0, 0));
  const sim = await startEspoCrmSimulator({ port: 0, clock, seed: false, logger: silentLogger });
  const { apiKey, secretKey } = sim.credentials;
  return simulatorSubject({
    factory: espocrmConnector,
    connection: 'espo',
    options: { baseUrl: sim.url, auth: { mode: 'hmac', apiKey, secretKey }, requestsPerSecond: 1_000 },
    clock,
    simulator: sim,
    // Account has optimistic concurrency control (versionNumber) in EspoCRM's defaults.
    entityType: 'Account',
    missingId: '0123456789abcdef0',
    fields: (label) => ({ name: label }),
    nameOf: (record) => record.fields['name'],
  });
});
