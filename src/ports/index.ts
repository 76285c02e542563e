/** The ports: interfaces the engine depends on. Adapters in src/adapters and connectors implement them. */
export type * from './api-budget.ts';
export type * from './backend.ts';
export type * from './clock.ts';
export type * from './connector.ts';
export type * from './locks.ts';
export type * from './logger.ts';
export type * from './queue.ts';
export type * from './store.ts';
export { systemClock } from './clock.ts';
export { JOB_STATES, WAITING_STATES } from './queue.ts';
export type * from './enricher.ts';
