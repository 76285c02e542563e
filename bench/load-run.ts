/**
 * One measurement of bench/ingest.ts: starts the load generators (./load-generator.ts, child processes) against
 * a server, lets them warm up, opens the measuring window, and samples the CPU time of the server, of the
 * generators and of the whole machine at its edges (./cpu.ts), so the figures show which one was the
 * bottleneck. This process only sleeps meanwhile.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { machineCpu, processCpuMs } from './cpu.ts';
import type { MachineCpu } from './cpu.ts';
import type { FromGenerator, LoadResult, LoadSettings, ToGenerator } from './load-generator.ts';

/** The server under load: where it listens, and its pid for /proc. */
export interface Target {
  readonly host: string;
  readonly port: number;
  readonly pid: number;
}

/** How to load it. */
export interface LoadOptions {
  readonly connections: number;
  readonly pipelining: number;
  /** Load-generator processes; the connections are spread over them. */
  readonly clients: number;
  readonly warmupMs: number;
  readonly durationMs: number;
}

/** Hooks run at the edges of the measuring window (after the CPU is sampled). */
export interface WindowHooks {
  readonly atOpen?: () => Promise<void>;
  readonly atClose?: () => Promise<void>;
}

/** What one target did under load. */
export interface Measurement {
  readonly label: string;
  readonly windowMs: number;
  /** Responses 2xx inside the window. */
  readonly acceptedInWindow: number;
  /** Responses 2xx over the whole run (warm-up and the end included), for the queue check. */
  readonly acceptedTotal: number;
  readonly unanswered: number;
  readonly socketErrors: number;
  /** Non-2xx responses by status, over the whole run. */
  readonly refused: Readonly<Record<string, number>>;
  /** Latencies of the responses inside the window, in milliseconds. */
  readonly latenciesMs: readonly number[];
  /** CPU time in the window: the server process (all threads), the load generators, everything else. */
  readonly serverCpuMs: number;
  readonly generatorsCpuMs: number;
  readonly restCpuMs: number;
}

const GENERATOR_SCRIPT = new URL('./load-generator.ts', import.meta.url).pathname;

/** A load-generator child process, with its `ready` and `result` answers. */
class Generator {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  readonly result: Promise<LoadResult>;

  constructor(settings: LoadSettings) {
    this.child = fork(GENERATOR_SCRIPT, [], {
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const failed = new Promise<never>((_resolve, reject) => {
      this.child.on('message', (message: FromGenerator) => {
        if (message.type === 'failed') reject(new Error(`load generator failed: ${message.message}`));
      });
      this.child.once('exit', (code) => reject(new Error(`load generator exited (${code}) early`)));
    });
    this.ready = Promise.race([this.#answer('ready').then(() => undefined), failed]);
    this.result = Promise.race([this.#answer('result').then((message) => message.result), failed]);
    // Awaited later; a failure meanwhile must not crash this process before it has stopped its servers.
    this.ready.catch(() => undefined);
    this.result.catch(() => undefined);
    this.send({ type: 'start', settings });
  }

  send(message: ToGenerator): void {
    if (this.child.connected) this.child.send(message);
  }

  cpuMs(): number {
    return processCpuMs(this.child.pid!);
  }

  #answer<T extends FromGenerator['type']>(type: T): Promise<Extract<FromGenerator, { type: T }>> {
    return new Promise((resolve) => {
      const onMessage = (message: FromGenerator) => {
        if (message.type !== type) return;
        this.child.off('message', onMessage);
        resolve(message as Extract<FromGenerator, { type: T }>);
      };
      this.child.on('message', onMessage);
    });
  }
}

/** CPU counters at one moment. */
interface CpuSample {
  readonly atMs: number;
  readonly serverMs: number;
  readonly generatorsMs: number;
  readonly machine: MachineCpu;
  readonly selfMs: number;
}

function sampleCpu(serverPid: number, generators: readonly Generator[]): CpuSample {
  const self = process.cpuUsage();
  return {
    atMs: performance.now(),
    serverMs: processCpuMs(serverPid),
    generatorsMs: generators.reduce((sum, generator) => sum + generator.cpuMs(), 0),
    machine: machineCpu(),
    selfMs: (self.user + self.system) / 1000,
  };
}

function sumCounts(records: readonly Readonly<Record<string, number>>[]): Record<string, number> {
  const sums: Record<string, number> = {};
  for (const record of records)
    for (const [status, count] of Object.entries(record)) sums[status] = (sums[status] ?? 0) + count;
  return sums;
}

function accepted(statuses: Readonly<Record<string, number>>): number {
  return Object.entries(statuses).reduce(
    (sum, [status, count]) => sum + (status.startsWith('2') ? count : 0),
    0,
  );
}

/** Loads `target` for the warm-up and the window, then lets every request in flight finish. */
export async function measureLoad(
  label: string,
  target: Target,
  options: LoadOptions,
  hooks: WindowHooks = {},
): Promise<Measurement> {
  const generators = Array.from(
    { length: options.clients },
    (_, index) =>
      new Generator({
        host: target.host,
        port: target.port,
        // The connections spread over the generators; the first ones take the remainder.
        connections:
          Math.floor(options.connections / options.clients) +
          (index < options.connections % options.clients ? 1 : 0),
        pipelining: options.pipelining,
        // Record ids of different generators never meet: each has a range of a billion.
        firstKey: 1 + index * 1_000_000_000,
      }),
  );
  // A generator that ends before it was told to stop ends the measurement.
  const early = Promise.race(
    generators.map((generator) =>
      generator.result.then(() => {
        throw new Error('load generator ended before it was stopped');
      }),
    ),
  );
  early.catch(() => undefined);
  const broadcast = (type: 'window-open' | 'window-close' | 'stop') => {
    for (const generator of generators) generator.send({ type });
  };
  try {
    await Promise.race([Promise.all(generators.map((generator) => generator.ready)), early]);
    await Promise.race([sleep(options.warmupMs), early]);
    broadcast('window-open');
    const before = sampleCpu(target.pid, generators);
    await hooks.atOpen?.();
    await Promise.race([sleep(options.durationMs - (performance.now() - before.atMs)), early]);
    broadcast('window-close');
    const after = sampleCpu(target.pid, generators);
    await hooks.atClose?.();
    broadcast('stop');
    const results = await Promise.all(generators.map((generator) => generator.result));
    const totalStatuses = sumCounts(results.map((result) => result.totalStatuses));
    const serverCpuMs = after.serverMs - before.serverMs;
    const generatorsCpuMs = after.generatorsMs - before.generatorsMs;
    const machineBusyMs = after.machine.busyMs - before.machine.busyMs;
    return {
      label,
      windowMs: after.atMs - before.atMs,
      acceptedInWindow: accepted(sumCounts(results.map((result) => result.windowStatuses))),
      acceptedTotal: accepted(totalStatuses),
      unanswered: results.reduce((sum, result) => sum + result.unanswered, 0),
      socketErrors: results.reduce((sum, result) => sum + result.socketErrors, 0),
      refused: Object.fromEntries(
        Object.entries(totalStatuses).filter(([status]) => !status.startsWith('2')),
      ),
      latenciesMs: results.flatMap((result) => [...result.windowLatenciesMs]),
      serverCpuMs,
      generatorsCpuMs,
      restCpuMs: Math.max(0, machineBusyMs - serverCpuMs - generatorsCpuMs - (after.selfMs - before.selfMs)),
    };
  } finally {
    for (const generator of generators)
      if (generator.child.exitCode === null) generator.child.kill('SIGKILL');
  }
}
