/**
 * The vendor-neutral pieces of the vendor simulators (SuperOffice, EspoCRM, Advoware): the simulated HTTP
 * error and its handlers, switchable faults, request counts and their `/_sim/` admin routes, the webhook
 * delivery lane and single POST, the persist file, and listening. What differs per vendor (error body
 * shapes, route naming, headers, signatures) stays in the vendor's `simulator/` folder and is passed in.
 */
export { SimHttpError, sendSimError } from './http-error.ts';
export type { ErrorBodyBuilder } from './http-error.ts';
export { installSimErrorHandlers } from './error-handlers.ts';
export type { SimErrorHandlerOptions } from './error-handlers.ts';
export { FaultInjector, faultSettingsSchema } from './faults.ts';
export type { FaultRule, FaultSettings } from './faults.ts';
export { RequestStats } from './request-stats.ts';
export type { RequestCounts } from './request-stats.ts';
export { SIM_ADMIN_PREFIX, installFaultsAndStats, isSimAdminRequest, requestRoute } from './traffic-hooks.ts';
export type { FaultsAndStatsOptions } from './traffic-hooks.ts';
export { registerFaultRoutes, registerRequestCountRoutes } from './admin-routes.ts';
export type { BadRequestFactory } from './admin-routes.ts';
export { DeliveryLane, shuffleInPlace } from './delivery-lane.ts';
export type { DeliveryLaneOptions, LaneOutcome } from './delivery-lane.ts';
export { postWebhook, redactTargetUrl } from './webhook-post.ts';
export type { AttemptOutcome, WebhookPostOptions } from './webhook-post.ts';
export { SnapshotFile, persistAfterWrites } from './snapshot-file.ts';
export type { SnapshotFileOptions, VersionedSnapshot } from './snapshot-file.ts';
export { listenOnPort, originOf } from './listen.ts';
export type { ListenOptions } from './listen.ts';
