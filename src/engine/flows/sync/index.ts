/**
 * The `sync` flow's configuration and mapping (issue 10, item 1): options schema, transforms, mapping modules
 * and the mapping layer. The engine that runs a sync flow is not built yet, so the flow type is not
 * registered: a config with `type: 'sync'` is refused as an unknown flow type until it is.
 */
export { beteiligteFlowDefaults } from './beteiligte-flow.ts';
export type { BeteiligteConnections } from './beteiligte-flow.ts';
export { compileSyncFlow } from './mapping.ts';
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
export { BUILT_IN_TRANSFORMS, BUILT_IN_TRANSFORM_NAMES, NORMALISERS, chainTransforms } from './transforms.ts';
export type { BuiltInTransformName, NormaliserName, ValueTransform } from './transforms.ts';
