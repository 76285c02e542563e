/**
 * `crmsync serve`: the main job. Receives webhooks, queues them durably, runs the flows, and shuts down
 * gracefully on SIGTERM/SIGINT (a second signal forces exit). A config with a `sandbox` section also runs
 * the vendor simulators it names in this process (the demo of `npm start`; see src/sandbox/).
 */
import type { Command } from 'commander';
import type { Config } from '../../config/index.ts';
import { installShutdownHandlers } from '../../engine/worker-pool.ts';
import { systemClock } from '../../ports/clock.ts';
import { startSandbox } from '../../sandbox/index.ts';
import type { RunningSandbox } from '../../sandbox/index.ts';
import { startApp } from '../app.ts';
import type { AppDependencies, RunningApp } from '../app.ts';
import type { GlobalOptions } from '../context.ts';
import { loadCliConfig } from '../context.ts';
import { createLogger } from '../logging.ts';

/** crmsync and the simulators it runs, started together and stopped in the order that loses nothing. */
interface Running {
  stop(): Promise<void>;
}

/**
 * Starts the sandbox (if configured), then crmsync, then connects the sandbox to crmsync (webhook, traffic).
 * If a later step fails, what was started is stopped again before the error propagates.
 */
async function startWithSandbox(config: Config, deps: AppDependencies): Promise<Running> {
  const sandbox: RunningSandbox | null = await startSandbox(config, { logger: deps.logger });
  let app: RunningApp | undefined;
  const stop = async () => {
    // No new changes while crmsync drains; its in-flight jobs may still call the simulators.
    await sandbox?.stopTraffic();
    await app?.stop();
    await sandbox?.close();
  };
  try {
    app = await startApp(sandbox?.config ?? config, deps);
    await sandbox?.connect(app.url);
  } catch (error) {
    await stop().catch((stopError: unknown) =>
      deps.logger.error({ err: stopError }, 'stopping after a failed start failed too'),
    );
    throw error;
  }
  return { stop };
}

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
      const running = await startWithSandbox(config, {
        clock: systemClock,
        logger,
        workers: options.workers,
      });
      await new Promise<void>((resolve) => {
        installShutdownHandlers(async () => {
          await running.stop();
          resolve();
        });
      });
    });
}
