/**
 * Opens the storage backend the config asks for. Backends load only when configured, so a SQLite deployment
 * never loads the PostgreSQL or Redis drivers.
 */
import type { Config } from '../config/index.ts';
import type { Backend } from '../ports/backend.ts';
import type { Clock } from '../ports/clock.ts';

/** Opens (and migrates) the configured backend. */
export async function openBackend(config: Pick<Config, 'store' | 'queue'>, clock: Clock): Promise<Backend> {
  const { openSqliteBackend } = await import('./sqlite/index.ts');
  return openSqliteBackend({
    path: config.store.path,
    durability: config.store.durability,
    clock,
    queue: {
      maxAttempts: config.queue.maxAttempts,
      backoff: config.queue.backoff,
      maxPayloadsPerJob: config.queue.maxPayloadsPerJob,
    },
  });
}
