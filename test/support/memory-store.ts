/**
 * Our real store for tests that need one but no file: the SQLite backend on `:memory:`. Tests never fake our
 * own ports; an in-memory database behaves as the file does (same migrations, same SQL), and it goes away
 * with the process, so there is nothing to clean up.
 */
import { openSqliteBackend } from '../../src/adapters/sqlite/index.ts';
import type { Backend } from '../../src/ports/backend.ts';
import type { Clock } from '../../src/ports/clock.ts';
import type { ConnectorStateRepository } from '../../src/ports/store.ts';

/** A fresh SQLite backend in memory; `clock` drives expiries (default the system clock). */
export function memoryBackend(clock?: Clock): Backend {
  return openSqliteBackend({ path: ':memory:', durability: 'process', ...(clock && { clock }) });
}

/** The connector state of a fresh in-memory SQLite store, honouring expiry by `clock`. */
export function memoryConnectorState(clock?: Clock): ConnectorStateRepository {
  return memoryBackend(clock).store.connectorState;
}
