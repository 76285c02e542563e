/**
 * CPU time of processes and of the whole machine, read from /proc (Linux), so that bench/ingest.ts can show
 * whether the server or its load generator was the bottleneck, and how busy the rest of the machine was.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's counters (100 on every common Linux). */
const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

function ticksToMs(ticks: number): number {
  return (ticks * 1000) / TICKS_PER_SECOND;
}

/** User + system CPU time of process `pid`, all its threads (libuv pool, GC) included, in milliseconds. */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces; the fields after its closing parenthesis are fixed.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
  return ticksToMs(Number(fields[11]) + Number(fields[12]));
}

/** CPU time of the whole machine, summed over its cores: busy and total, in milliseconds. */
export interface MachineCpu {
  readonly busyMs: number;
  readonly totalMs: number;
}

/** Reads the machine's CPU counters (the `cpu` line of /proc/stat). */
export function machineCpu(): MachineCpu {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  // user nice system idle iowait irq softirq steal (guest time is already counted in user).
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line
    .split(/\s+/)
    .slice(1, 9)
    .map(Number);
  const busy = user + nice + system + irq + softirq + steal;
  return { busyMs: ticksToMs(busy), totalMs: ticksToMs(busy + idle + iowait) };
}
