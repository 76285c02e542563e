/**
 * What every command needs: the global options, the validated config, and an open backend that is closed
 * again whatever happens.
 */
import { openBackend } from '../adapters/index.ts';
import { loadConfig } from '../config/index.ts';
import type { Config } from '../config/index.ts';
import type { Backend } from '../ports/backend.ts';
import { systemClock } from '../ports/clock.ts';
import { connectorFactories, flowTypes } from './registry.ts';

/** Options every command accepts (declared on the root program). */
export interface GlobalOptions {
  /** Path of the config file. */
  readonly config?: string;
}

/** Loads and validates the config named by the global options (or found by the default rules). */
export function loadCliConfig(globals: GlobalOptions): Promise<Config> {
  return loadConfig({ file: globals.config, connectors: connectorFactories, flowTypes });
}

/** Runs `action` with the config and an open backend; closes the backend afterwards. */
export async function withBackend<T>(
  globals: GlobalOptions,
  action: (context: { config: Config; backend: Backend }) => Promise<T>,
): Promise<T> {
  const config = await loadCliConfig(globals);
  const backend = await openBackend(config, systemClock);
  try {
    return await action({ config, backend });
  } finally {
    await backend.close();
  }
}
