/**
 * Public entry point of the `crmsync` package, for config files and programmatic use:
 * `import { defineConfig, env, superOfficeEnv } from 'crmsync'` (also `espoCrmEnv`, `advowareEnv`).
 */
export { defineConfig, env } from './config/index.ts';
export type { Config, ConfigInput } from './config/index.ts';
export { advowareEnv } from './connectors/advoware/options.ts';
export { espoCrmEnv } from './connectors/espocrm/options.ts';
export { superOfficeEnv } from './connectors/superoffice/options.ts';
export * from './core/errors.ts';
export type * from './core/types.ts';
export type * from './ports/index.ts';
export {
  accountContactFlowDefaults,
  beteiligteFlowDefaults,
  type MappingModule,
  type SyncOptionsInput,
  type ValueTransform,
} from './engine/flows/sync/index.ts';
