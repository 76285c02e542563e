/**
 * The connector kinds and flow types this build knows. Config validation and the app both read these maps,
 * so a kind is registered in exactly one place.
 */
import { advowareConnector } from '../connectors/advoware/index.ts';
import { espocrmConnector } from '../connectors/espocrm/index.ts';
import { genericConnector } from '../connectors/generic/index.ts';
import { superofficeConnector } from '../connectors/superoffice/index.ts';
import { createEnrichFlowHandler } from './enrich-flow.ts';
import { createSyncFlowHandler } from './sync-flow.ts';
import { syncOptionsSchema } from '../engine/flows/sync/index.ts';
import { enrichOptionsSchema } from '../engine/flows/enrich/index.ts';
import { createInspectHandler, inspectOptionsSchema } from '../engine/flows/inspect.ts';
import type { ConnectorFactory } from '../ports/connector.ts';
import type { FlowType } from './flow-type.ts';

/** Connector kinds by name. */
export const connectorFactories: ReadonlyMap<string, ConnectorFactory<unknown>> = new Map<
  string,
  ConnectorFactory<unknown>
>([
  [genericConnector.kind, genericConnector],
  [superofficeConnector.kind, superofficeConnector],
  [espocrmConnector.kind, espocrmConnector],
  [advowareConnector.kind, advowareConnector],
]);

/** Flow types by name. */
export const flowTypes: ReadonlyMap<string, FlowType> = new Map<string, FlowType>([
  [
    'inspect',
    { type: 'inspect', optionsSchema: inspectOptionsSchema, createHandler: () => createInspectHandler() },
  ],
  [
    'enrich',
    {
      type: 'enrich',
      optionsSchema: enrichOptionsSchema,
      createHandler: createEnrichFlowHandler,
    },
  ],
  [
    'sync',
    {
      type: 'sync',
      optionsSchema: syncOptionsSchema,
      createHandler: createSyncFlowHandler,
    },
  ],
]);
