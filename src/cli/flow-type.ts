/**
 * What a flow type is and what its handler may use. Kept apart from the registry so that flow modules can
 * depend on these types without importing the registry that imports them.
 */
import type { ZodType } from 'zod';
import type { FlowConfig } from '../config/index.ts';
import type { FlowHandler } from '../engine/handlers.ts';
import type { ScheduleDefinition } from '../engine/scheduler.ts';
import type { Backend } from '../ports/backend.ts';
import type { Clock } from '../ports/clock.ts';
import type { Connector } from '../ports/connector.ts';
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
  /** The `requestsPerSecond` a connection is configured with, or undefined (scans size their budget by it). */
  requestsPerSecond(connection: string): number | undefined;
}

/** A kind of flow: the schema of its options and how to build its handler for one configured flow. */
export interface FlowType {
  readonly type: string;
  readonly optionsSchema: ZodType<Record<string, unknown>>;
  createHandler(flow: FlowConfig, deps: FlowDependencies): FlowHandler;
}
