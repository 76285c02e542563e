/** Configuration: `defineConfig` and `env` for config files, `loadConfig` for the CLI. */
export { DEFAULTS } from './defaults.ts';
export { configFolder, findConfigFile, isLoopback, loadConfig, loadDotEnv, validateConfig } from './load.ts';
export type { FlowTypeSchema, LoadConfigOptions } from './load.ts';
export { configSchema, defineConfig } from './schema.ts';
export type {
  Config,
  ConfigInput,
  ConnectionConfig,
  FlowConfig,
  SandboxConfig,
  SuperOfficeSandboxConfig,
  BeteiligteSandboxConfig,
  BeteiligteTrafficConfig,
  TrafficConfig,
} from './schema.ts';
export { env } from './secrets.ts';
export type { EnvRef } from './secrets.ts';
