/** The connector contract against the Advoware simulator (Beteiligte), through the `Connector` port. */
import { advowareConnector } from '../../src/connectors/advoware/index.ts';
import { startAdvowareSimulator } from '../../src/simulators/advoware/index.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { defineConnectorContract, simulatorSubject } from './connector.contract.ts';

defineConnectorContract('advoware', async () => {
  const clock = new ManualClock(Date.UTC(2026, 2, 2, 8, 0, 0));
  const sim = await startAdvowareSimulator({ port: 0, clock, seed: false });
  return simulatorSubject({
    factory: advowareConnector,
    connection: 'advo',
    options: { configuratorUrl: sim.configuratorUrl, ...sim.credentials, requestsPerSecond: 1_000 },
    clock,
    simulator: sim,
    entityType: 'Beteiligte',
    missingId: '999999',
    fields: (label) => ({ name: label }),
    nameOf: (record) => record.fields['name'],
  });
});
