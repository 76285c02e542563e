/**
 * What every command needs: the global options, the validated config, and an open backend that is closed
 * again whatever happens.
 */
import { openBackend } from '../adapters/index.ts';
import { loadConfig } from '../config/index.ts';
import type { Config, ConnectionConfig } from '../config/index.ts';
import { InputError } from '../core/errors.ts';
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

/**
 * The configured connection `name`, which a command can only use with the connector `kind`. Input errors say
 * which connections exist, or which connector the named one uses.
 */
export function requireConnection(config: Config, name: string, kind: string): ConnectionConfig {
  const configured = config.connections.get(name);
  if (configured === undefined) {
    throw new InputError(
      'CONNECTION_UNKNOWN',
      `No connection "${name}" in ${config.source}; known: ${[...config.connections.keys()].join(', ')}`,
      404,
    );
  }
  if (configured.connector !== kind) {
    throw new InputError(
      'CLI_WRONG_CONNECTOR',
      `Connection "${name}" uses the ${configured.connector} connector; this command needs a ${kind} connection.`,
    );
  }
  return configured;
}
