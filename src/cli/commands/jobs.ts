/**
 * `crmsync jobs list|show|replay`: what is queued, what ran, and a way to send DEAD jobs back to work.
 * Operators fix records, not runs: `show` prints every run of the job with its record, outcome and reason.
 */
import type { Command } from 'commander';
import { InputError } from '../../core/errors.ts';
import { JOB_STATES } from '../../ports/queue.ts';
import type { Job, JobState } from '../../ports/queue.ts';
import { withBackend } from '../context.ts';
import type { GlobalOptions } from '../context.ts';
import { formatTime, printJson, printTable } from '../output.ts';

function parseStates(value: string | undefined): JobState[] | undefined {
  if (value === undefined) return undefined;
  const states = value.split(',').map((state) => state.trim().toUpperCase());
  const unknown = states.filter((state) => !(JOB_STATES as readonly string[]).includes(state));
  if (unknown.length > 0) {
    throw new InputError(
      'CLI_BAD_STATE',
      `--state: unknown state ${unknown.join(', ')}; use ${JOB_STATES.join(', ')}`,
    );
  }
  return states as JobState[];
}

/** Parses `--limit`: a whole number from 1 to 10000. */
export function parseLimit(value: string): number {
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
    throw new InputError('CLI_BAD_LIMIT', `--limit: expected a whole number from 1 to 10000, got "${value}"`);
  }
  return limit;
}

function jobRow(job: Job): unknown[] {
  return [
    job.id,
    job.state,
    job.flow,
    job.recordKey.slice(job.flow.length + 1),
    `${job.attempts}/${job.maxAttempts}`,
    job.inputCount,
    formatTime(job.state === 'FAILED' || job.state === 'PENDING' ? job.runAt : job.updatedAt),
    job.lastError ? `${job.lastError.code}: ${job.lastError.message}` : null,
  ];
}

/** Registers the `jobs` command group. */
export function registerJobsCommands(program: Command, globals: () => GlobalOptions): void {
  const jobs = program.command('jobs').description('list, inspect and replay queued jobs');

  jobs
    .command('list')
    .description('list jobs, newest first')
    .option('--state <states>', `comma-separated states (${JOB_STATES.join(', ')})`)
    .option('--flow <flow>', 'only jobs of this flow')
    .option('--limit <n>', 'most jobs to show', '50')
    .option('--before <id>', 'only jobs older than this id (paging)')
    .option('--json', 'print JSON')
    .action(
      async (options: { state?: string; flow?: string; limit: string; before?: string; json?: boolean }) => {
        const states = parseStates(options.state);
        const limit = parseLimit(options.limit);
        await withBackend(globals(), async ({ backend }) => {
          const list = await backend.queue.list({
            states,
            flow: options.flow,
            limit,
            beforeId: options.before,
          });
          if (options.json) return printJson(list);
          if (list.length === 0) return void process.stdout.write('No jobs match.\n');
          printTable(
            ['ID', 'STATE', 'FLOW', 'RECORD', 'ATTEMPTS', 'EVENTS', 'WHEN', 'LAST ERROR'],
            list.map(jobRow),
          );
        });
      },
    );

  jobs
    .command('show <id>')
    .description('show one job with its payloads and every run')
    .option('--json', 'print JSON')
    .action(async (id: string, options: { json?: boolean }) => {
      await withBackend(globals(), async ({ backend }) => {
        const job = await backend.queue.get(id);
        if (job === null)
          throw new InputError(
            'JOB_NOT_FOUND',
            `No job with id ${id}. List jobs with: crmsync jobs list`,
            404,
          );
        const runs = await backend.store.runs.list({ jobId: id, limit: 100 });
        if (options.json) return printJson({ job, runs });
        printTable(
          ['ID', 'STATE', 'FLOW', 'RECORD', 'ATTEMPTS', 'EVENTS', 'WHEN', 'LAST ERROR'],
          [jobRow(job)],
        );
        process.stdout.write(`\nPayloads (${job.payloads.length} kept of ${job.inputCount}):\n`);
        for (const payload of job.payloads) process.stdout.write(`  ${JSON.stringify(payload)}\n`);
        process.stdout.write(`\nRuns (${runs.length}):\n`);
        if (runs.length === 0) return;
        printTable(
          ['RUN', 'ATTEMPT', 'OUTCOME', 'RECORD', 'NAME', 'STARTED', 'MS', 'API', 'REASON / ERROR'],
          runs.map((run) => [
            run.id,
            run.attempt,
            run.outcome ?? 'RUNNING',
            `${run.ref.connection}/${run.ref.entityType}/${run.ref.id}`,
            run.displayName,
            formatTime(run.startedAt),
            run.durationMs,
            run.apiCalls,
            run.error ? `${run.error.code}: ${run.error.message}` : run.reason,
          ]),
        );
      });
    });

  jobs
    .command('replay [ids...]')
    .description('send DEAD jobs back to the queue with fresh attempts')
    .option('--all-dead', 'replay every DEAD job (optionally of --flow)')
    .option('--flow <flow>', 'with --all-dead: only this flow')
    .option('--json', 'print JSON')
    .action(async (ids: string[], options: { allDead?: boolean; flow?: string; json?: boolean }) => {
      if (ids.length === 0 && !options.allDead) {
        throw new InputError('CLI_NOTHING_TO_REPLAY', 'Name job ids to replay, or pass --all-dead.');
      }
      await withBackend(globals(), async ({ backend }) => {
        const targets = options.allDead
          ? (await backend.queue.list({ states: ['DEAD'], flow: options.flow, limit: 10_000 })).map(
              (job) => job.id,
            )
          : ids;
        const replayed: Job[] = [];
        for (const id of targets) replayed.push(await backend.queue.replay(id));
        if (options.json) return printJson(replayed);
        process.stdout.write(
          `Replayed ${replayed.length} job(s)${replayed.length ? `: ${replayed.map((job) => job.id).join(', ')}` : ''}.\n`,
        );
      });
    });
}
