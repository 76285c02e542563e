/**
 * The `crmsync` command. Each command lives in commands/; this file wires them and turns errors into a clear
 * message and a non-zero exit code: 2 for bad input or configuration (fix and rerun), 1 for anything else.
 */
import { Command, CommanderError } from 'commander';
import { ConfigError, CrmsyncError, InputError } from '../core/errors.ts';
import { registerDoctorCommand } from './commands/doctor.ts';
import { registerEspoCrmCommands } from './commands/espocrm.ts';
import { registerJobsCommands } from './commands/jobs.ts';
import { registerRunsCommands } from './commands/runs.ts';
import { registerSandboxCommand } from './commands/sandbox.ts';
import { registerServeCommand } from './commands/serve.ts';
import { registerSuperOfficeCommands } from './commands/superoffice.ts';
import { registerSyncCommands } from './commands/sync.ts';
import { registerWebhookCommands } from './commands/webhook.ts';
import type { GlobalOptions } from './context.ts';

/** Builds the program (exported for tests, which run it in-process). */
export function buildProgram(): Command {
  const program = new Command('crmsync')
    .description('Keeps CRM systems in sync and enriches their records.')
    .option('-c, --config <file>', 'config file (default: $CRMSYNC_CONFIG or ./crmsync.config.ts)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  const globals = (): GlobalOptions => program.opts<GlobalOptions>();
  registerServeCommand(program, globals);
  registerJobsCommands(program, globals);
  registerRunsCommands(program, globals);
  registerSyncCommands(program, globals);
  registerDoctorCommand(program, globals);
  registerWebhookCommands(program, globals);
  registerSuperOfficeCommands(program, globals);
  registerEspoCrmCommands(program, globals);
  registerSandboxCommand(program, globals);
  return program;
}

/** Runs the CLI with `argv` and returns the exit code (does not call process.exit). */
export async function runCli(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    // Commands that report a failure without throwing (doctor) set process.exitCode.
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    return reportError(error);
  }
}

function reportError(error: unknown): number {
  if (error instanceof CommanderError) {
    // Commander printed its message already; --help and --version exit 0.
    return error.exitCode;
  }
  if (error instanceof ConfigError || error instanceof InputError) {
    process.stderr.write(`crmsync: ${error.message}\n`);
    return 2;
  }
  if (error instanceof CrmsyncError) {
    process.stderr.write(`crmsync: [${error.code}] ${error.message}\n`);
    return 1;
  }
  process.stderr.write(
    `crmsync: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  return 1;
}

/**
 * Node 24 still flags `node:sqlite` as experimental on first load. crmsync chose it deliberately (no native
 * addon to build); the warning would only alarm operators, so it alone is dropped. Other warnings print.
 */
export function silenceSqliteExperimentalWarning(): void {
  const printers = process.listeners('warning');
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    if (warning.name === 'ExperimentalWarning' && warning.message.includes('SQLite')) return;
    for (const print of printers) print(warning);
  });
}

/**
 * `crmsync jobs list | head` closes stdout early; that is the reader's choice, not a failure, so the command
 * ends quietly instead of crashing with an unhandled EPIPE.
 */
function exitQuietlyOnClosedStdout(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

if (import.meta.main) {
  silenceSqliteExperimentalWarning();
  exitQuietlyOnClosedStdout();
  process.exitCode = await runCli(process.argv.slice(2));
}
