/**
 * The `sync` flow (issue 10): options schema, transforms, mapping modules and the mapping layer; the run
 * handler (plan, execute, echo, failure, soft deletes); and the scheduled scans that find changes besides
 * webhooks (reconciler, re-check, discovery, deletion sweep). `src/cli/sync-flow.ts` composes them.
 */
export { accountContactFlowDefaults, firstListValue } from './account-contact-flow.ts';
export type { AccountContactSettings } from './account-contact-flow.ts';
export { beteiligteFlowDefaults } from './beteiligte-flow.ts';
export type { BeteiligteConnections } from './beteiligte-flow.ts';
export { changeDetectionFor } from './change-detection.ts';
export { createDeletionSweep } from './deletes.ts';
export { createDiscovery } from './discovery.ts';
export { compileSyncFlow, mappedFingerprint } from './mapping.ts';
export type { CompiledSyncFlow, SideMapper } from './mapping.ts';
export type { MappingModule, ModuleValues, VendorFields } from './mapping-module.ts';
export {
  BETEILIGTE_FIELDS,
  BUILT_IN_MODULES,
  beteiligteAdvoware,
  beteiligteEspoCrm,
} from './mappings/index.ts';
export { SYNC_STATUS_VALUES, resolveModule, syncOptionsSchema } from './options.ts';
export type { SideFieldOptions, SyncFieldOptions, SyncOptions, SyncOptionsInput } from './options.ts';
export { planSync, refOf } from './plan.ts';
export type { SideState, SyncPlan, SyncPlanSettings } from './plan.ts';
export { createRecheck, recheckStatus } from './recheck.ts';
export { createSyncReconciler } from './reconcile.ts';
export { createSyncRunHandler, syncLockKey } from './run.ts';
export type { SyncNotifier, SyncRunSettings } from './settings.ts';
export { BUILT_IN_TRANSFORMS, BUILT_IN_TRANSFORM_NAMES, NORMALISERS, chainTransforms } from './transforms.ts';
export type { BuiltInTransformName, NormaliserName, ValueTransform } from './transforms.ts';
export type { FlowHandler } from '../../handlers.ts';
