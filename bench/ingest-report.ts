/**
 * The output of bench/ingest.ts: one table row per target, what the workers did while draining, the goals of
 * issue 9, and loud warnings wherever a figure cannot be trusted (the bare route did not saturate the server,
 * the backlog ran out, answers other than 2xx, unanswered requests).
 */
import { percentile } from '../test/support/load.ts';
import type { Measurement } from './load-run.ts';

/** What the workers did around the draining window. */
export interface Drain {
  /** Jobs still to do (pending, processing, awaiting a retry) when the window opened and when it closed. */
  readonly waitingAtOpen: number;
  readonly waitingAtClose: number;
  /** Jobs finished during the window: backlog and webhook jobs alike. */
  readonly finishedInWindow: number;
}

/** Everything one run measured. */
export interface IngestRun {
  /** The bare route: the ceiling every ratio divides by. */
  readonly ceiling: Measurement;
  /** `crmsync serve --no-workers`, one per durability mode. */
  readonly serve: readonly Measurement[];
  /** The one of `serve` the goals are judged on. */
  readonly judged: Measurement;
  readonly draining: Measurement;
  readonly drain: Drain;
  /** The backlog's size, for the advice when it ran out. */
  readonly backlog: number;
}

/** Below this share of one core, the bare route did not saturate the server: the client or the machine did. */
const SATURATED_CORE_SHARE = 0.9;
const GOALS = { ratio: 0.3, rate: 5_000, drainingRatio: 0.25 };

const COLUMNS = [
  ['target', 46],
  ['webhooks/s', 10],
  ['p50 ms', 8],
  ['p99 ms', 8],
  ['ratio', 6],
  ['server CPU', 11],
  ['CPU/webhook', 12],
  ['CPU ratio', 10],
  ['generator CPU', 14],
  ['rest of machine', 16],
] as const;

function rateOf(measurement: Measurement): number {
  return (measurement.acceptedInWindow / measurement.windowMs) * 1000;
}

function coreShare(cpuMs: number, measurement: Measurement): number {
  return cpuMs / measurement.windowMs;
}

function percent(share: number): string {
  return `${Math.round(share * 100)} %`;
}

/** Server CPU time per accepted webhook in microseconds (undefined when none was accepted). */
function cpuPerWebhookUs(measurement: Measurement): number | undefined {
  return measurement.acceptedInWindow === 0
    ? undefined
    : (measurement.serverCpuMs * 1000) / measurement.acceptedInWindow;
}

function row(cells: readonly string[]): string {
  return cells
    .map((cell, index) => (index === 0 ? cell.padEnd(COLUMNS[0][1]) : cell.padStart(COLUMNS[index]![1])))
    .join(' ');
}

function format(measurement: Measurement, ceiling: Measurement): string {
  const answered = measurement.latenciesMs.length > 0;
  const cpu = cpuPerWebhookUs(measurement);
  const ceilingCpu = cpuPerWebhookUs(ceiling);
  return row([
    measurement.label,
    Math.round(rateOf(measurement)).toString(),
    answered ? percentile(measurement.latenciesMs, 50).toFixed(2) : '-',
    answered ? percentile(measurement.latenciesMs, 99).toFixed(2) : '-',
    (rateOf(measurement) / rateOf(ceiling)).toFixed(2),
    percent(coreShare(measurement.serverCpuMs, measurement)),
    cpu === undefined ? '-' : `${Math.round(cpu)} µs`,
    cpu === undefined || ceilingCpu === undefined ? '-' : (ceilingCpu / cpu).toFixed(2),
    percent(coreShare(measurement.generatorsCpuMs, measurement)),
    percent(coreShare(measurement.restCpuMs, measurement)),
  ]);
}

/** Lines about what went wrong in a measurement: refusals, lost answers, socket errors. */
function problems(measurement: Measurement): string[] {
  const lines: string[] = [];
  const refused = Object.entries(measurement.refused);
  if (refused.length > 0) {
    const list = refused.map(([status, count]) => `${count} x ${status}`).join(', ');
    lines.push(`WARNING: ${measurement.label}: answers other than 2xx: ${list}`);
  }
  if (measurement.unanswered > 0 || measurement.socketErrors > 0) {
    lines.push(
      `WARNING: ${measurement.label}: ${measurement.unanswered} requests unanswered, ${measurement.socketErrors} socket errors`,
    );
  }
  return lines;
}

/** The report, line by line. */
export function reportLines(run: IngestRun): string[] {
  const { ceiling, drain, draining } = run;
  const all = [ceiling, ...run.serve, draining];
  const lines = [
    row(COLUMNS.map(([title]) => title)),
    ...all.map((measurement) => format(measurement, ceiling)),
    '',
    '  CPU columns are shares of one core: the server (all its threads), the load generator(s), and everything',
    '  else on the machine (other processes, the kernel). CPU/webhook: server CPU time per accepted webhook;',
    "  CPU ratio: the bare route's CPU/webhook over this one, an estimate of the ratio at full load (CPU time",
    '  per webhook grows on a busy machine too, so it is no cure for noise).',
    `  draining: ${drain.waitingAtOpen} jobs waiting when the window opened, ${drain.waitingAtClose} when it closed; ` +
      `${drain.finishedInWindow} finished in it (${Math.round((drain.finishedInWindow / draining.windowMs) * 1000)}/s, backlog and webhook jobs)`,
  ];

  const warnings = all.flatMap(problems);
  const ceilingShare = coreShare(ceiling.serverCpuMs, ceiling);
  const saturated = ceilingShare >= SATURATED_CORE_SHARE;
  if (!saturated) {
    warnings.push(
      `WARNING: THE BARE ROUTE DID NOT SATURATE THE SERVER: it used ${percent(ceilingShare)} of a core (< ${percent(SATURATED_CORE_SHARE)}).`,
      '  Its rate, and so every ratio, measures the load generator or a busy machine, not the server.',
      '  See "generator CPU" and "rest of machine"; try more --connections, --pipelining or a quieter machine.',
    );
  }
  if (drain.waitingAtClose === 0) {
    warnings.push(
      `WARNING: the backlog ran out before the draining window closed, so the workers were not draining all along; raise --backlog above ${run.backlog}`,
    );
  }

  const ratio = rateOf(run.judged) / rateOf(ceiling);
  const drainingRatio = rateOf(draining) / rateOf(ceiling);
  const verdict = (met: boolean) => (met ? 'met' : 'NOT met');
  const ratioVerdict = (met: boolean) =>
    saturated ? verdict(met) : 'not judged, the ceiling was not saturated';
  lines.push(
    '',
    `goals (issue 9, for a quiet machine), ${run.judged.label}:`,
    `  ratio >= ${GOALS.ratio}: ${ratioVerdict(ratio >= GOALS.ratio)} (${ratio.toFixed(2)})`,
    `  >= ${GOALS.rate} webhooks/s: ${verdict(rateOf(run.judged) >= GOALS.rate)} (${Math.round(rateOf(run.judged))}/s)`,
    `  with workers draining, ratio >= ${GOALS.drainingRatio}: ${ratioVerdict(drainingRatio >= GOALS.drainingRatio)} (${drainingRatio.toFixed(2)})`,
  );
  if (warnings.length > 0) lines.push('', ...warnings);
  return lines;
}
