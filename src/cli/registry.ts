/**
 * The connector kinds and flow types this build knows. Config validation and the app both read these maps,
 * so a kind is registered in exactly one place.
 */
import type { ZodType } from 'zod';
import type { FlowConfig } from '../config/index.ts';
import { advowareConnector } from '../connectors/advoware/index.ts';
import { espocrmConnector } from '../connectors/espocrm/index.ts';
import { genericConnector } from '../connectors/generic/index.ts';
import { superofficeConnector } from '../connectors/superoffice/index.ts';
import { createEnrichFlowHandler } from './enrich-flow.ts';
import { enrichOptionsSchema } from '../engine/flows/enrich/index.ts';
import type { FlowHandler } from '../engine/handlers.ts';
import type { ScheduleDefinition } from '../engine/scheduler.ts';
import { createInspectHandler, inspectOptionsSchema } from '../engine/flows/inspect.ts';
import type { Backend } from '../ports/backend.ts';
import type { Clock } from '../ports/clock.ts';
import type { Connector, ConnectorFactory } from '../ports/connector.ts';
import type { Logger } from '../ports/logger.ts';

/** What a flow type's handler may use. */
export interface FlowDependencies {
  readonly connectors: ReadonlyMap<string, Connector>;
  readonly backend: Backend;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Folder relative paths in the flow's options are resolved against: the config file's folder. */
  readonly configDir: string;
  /** Registers what must be closed when the app stops (an enricher's HTTP connections). */
  onStop(close: () => Promise<void>): void;
  /** Adds a periodic task of the flow (a reconciler) to the app's lock-guarded scheduler. */
  schedule(definition: ScheduleDefinition): void;
}

/** A kind of flow: the schema of its options and how to build its handler for one configured flow. */
export interface FlowType {
  readonly type: string;
  readonly optionsSchema: ZodType<Record<string, unknown>>;
  createHandler(flow: FlowConfig, deps: FlowDependencies): FlowHandler;
}

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
]);
