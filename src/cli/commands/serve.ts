/**
 * `crmsync serve`: the main job. Receives webhooks, queues them durably, runs the flows, and shuts down
 * gracefully on SIGTERM/SIGINT (a second signal forces exit).
 */
import type { Command } from 'commander';
import { installShutdownHandlers } from '../../engine/worker-pool.ts';
import { systemClock } from '../../ports/clock.ts';
import { startApp } from '../app.ts';
import type { GlobalOptions } from '../context.ts';
import { loadCliConfig } from '../context.ts';
import { createLogger } from '../logging.ts';

/** Registers `crmsync serve`. */
export function registerServeCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('serve')
    .description('receive webhooks and run the configured flows until stopped')
    .option('--port <port>', 'override server.port', (value) => Number.parseInt(value, 10))
    .option(
      '--no-workers',
      'ingest only: accept and queue webhooks, run no jobs (scale-out ingest instances)',
    )
    .action(async (options: { port?: number; workers: boolean }) => {
      const loaded = await loadCliConfig(globals());
      const config =
        options.port === undefined ? loaded : { ...loaded, server: { ...loaded.server, port: options.port } };
      const logger = createLogger(config.log.level);
      const app = await startApp(config, { clock: systemClock, logger, workers: options.workers });
      await new Promise<void>((resolve) => {
        installShutdownHandlers(async () => {
          await app.stop();
          resolve();
        });
      });
    });
}
