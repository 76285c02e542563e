/** The connector contract against the SuperOffice simulator (Contacts), through the `Connector` port. */
import { superofficeConnector } from '../../src/connectors/superoffice/index.ts';
import { getField } from '../../src/connectors/shared/casing.ts';
import {
  simulatorConnectionOptions,
  startSuperOfficeSimulator,
} from '../../src/simulators/superoffice/index.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { defineConnectorContract, simulatorSubject } from './connector.contract.ts';

defineConnectorContract('superoffice', async () => {
  const clock = new ManualClock(Date.UTC(2026, 2, 2, 8, 0, 0));
  const sim = await startSuperOfficeSimulator({ port: 0, clock, seed: false });
  return simulatorSubject({
    factory: superofficeConnector,
    connection: 'so',
    options: simulatorConnectionOptions(sim),
    clock,
    simulator: sim,
    entityType: 'Contact',
    missingId: '999999',
    // Name on the entity surface, `name` in archive rows (keys are case-insensitive).
    fields: (label) => ({ Name: label }),
    nameOf: (record) => getField(record.fields, 'Name'),
  });
});
