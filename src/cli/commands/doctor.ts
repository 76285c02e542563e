/**
 * `crmsync doctor`: checks the config, the store, every connection and every enrich flow's enricher, one
 * verdict per line, and exits non-zero when anything failed. It is the first thing to run when something does
 * not work.
 */
import type { Command } from 'commander';
import { openBackend } from '../../adapters/index.ts';
import { ConfigError } from '../../core/errors.ts';
import type { Config } from '../../config/index.ts';
import { configFolder, isLoopback } from '../../config/index.ts';
import { systemClock } from '../../ports/clock.ts';
import type { GlobalOptions } from '../context.ts';
import { loadCliConfig } from '../context.ts';
import { createConnectors } from '../app.ts';
import { silentLogger } from '../logging.ts';
import { printJson, redact } from '../output.ts';
import { createEnricher } from '../../enrichment/index.ts';
import type { EnrichOptions } from '../../engine/flows/enrich/index.ts';

/** One line of the doctor's report. */
export interface DoctorCheck {
  readonly name: string;
  readonly verdict: 'ok' | 'warn' | 'fail';
  readonly message: string;
}

const MARK = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL' } as const;

/** Runs every check; never throws. */
export async function runDoctor(globals: GlobalOptions): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  checks.push({
    name: 'node',
    verdict: major > 22 || (major === 22 && minor >= 13) ? 'ok' : 'fail',
    message: `Node.js ${process.versions.node} (needs >= 22.13; npm scripts use the project's Node 24)`,
  });

  let config: Config;
  try {
    config = await loadCliConfig(globals);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems)
      checks.push({ name: 'config', verdict: 'fail', message: `${problem.path}: ${problem.message}` });
    return checks;
  }
  checks.push({
    name: 'config',
    verdict: 'ok',
    message: `${config.source}: ${config.connections.size} connection(s), ${config.flows.size} flow(s)`,
  });
  const unfed = [...config.connections.keys()].filter(
    (name) => ![...config.flows.values()].some((flow) => flow.connections.includes(name)),
  );
  for (const name of unfed) {
    checks.push({
      name: `connection ${name}`,
      verdict: 'warn',
      message: 'no flow uses this connection: its webhooks are accepted and ignored',
    });
  }
  checks.push({
    name: 'server',
    verdict: 'ok',
    message: `${config.server.host}:${config.server.port}, ${isLoopback(config.server.host) ? 'loopback (no token needed)' : 'token required for the control API and /metrics'}`,
  });

  let backend;
  try {
    backend = await openBackend(config, systemClock);
    await backend.store.ping();
  } catch (error) {
    checks.push({
      name: 'store',
      verdict: 'fail',
      message: `${config.store.path}: ${error instanceof Error ? error.message : String(error)}`,
    });
    return checks;
  }
  try {
    const counts = await backend.queue.counts();
    checks.push({
      name: 'store',
      verdict: 'ok',
      message: `sqlite ${config.store.path} (durability: ${config.store.durability}); jobs: ${counts.PENDING} pending, ${counts.PROCESSING} processing, ${counts.FAILED} retrying, ${counts.DEAD} dead`,
    });
    if (counts.DEAD > 0) {
      checks.push({
        name: 'queue',
        verdict: 'warn',
        message: `${counts.DEAD} DEAD job(s): inspect with "crmsync jobs list --state DEAD", replay with "crmsync jobs replay"`,
      });
    }
    const connectors = createConnectors(config, {
      backend,
      clock: systemClock,
      logger: silentLogger,
      apiCalls: { record: () => undefined },
    });
    for (const [name, connector] of connectors) {
      const result = await connector.check();
      checks.push({
        name: `connection ${name}`,
        verdict: result.ok ? 'ok' : 'fail',
        message: redact(`${connector.kind}: ${result.message}`, config.secrets),
      });
      await connector.close();
    }
    for (const flow of config.flows.values()) {
      if (flow.type !== 'enrich') continue;
      const enricher = createEnricher((flow.options as EnrichOptions).enricher, {
        logger: silentLogger,
        cwd: configFolder(config),
      });
      const result = await enricher.check();
      checks.push({
        name: `enricher of ${flow.name}`,
        verdict: result.ok ? 'ok' : 'fail',
        message: redact(`${enricher.provider}: ${result.message}`, config.secrets),
      });
      await enricher.close();
    }
  } finally {
    await backend.close();
  }
  return checks;
}

/** Registers `crmsync doctor`. */
export function registerDoctorCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('doctor')
    .description('check the config, the store and every connection')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const checks = await runDoctor(globals());
      const failed = checks.some((check) => check.verdict === 'fail');
      if (options.json) printJson({ ok: !failed, checks });
      else {
        for (const check of checks)
          process.stdout.write(`${MARK[check.verdict]}  ${check.name.padEnd(20)} ${check.message}\n`);
        process.stdout.write(failed ? '\nSome checks failed.\n' : '\nAll checks passed.\n');
      }
      if (failed) process.exitCode = 1;
    });
}
