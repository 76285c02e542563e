/**
 * What a backend adapter gives the contract suites: a factory of fresh, empty backends. The suites use only
 * the ports, so every adapter (SQLite today, PostgreSQL and Redis later) runs them unchanged.
 */
import type { TestContext } from 'node:test';
import type { JsonObject } from '../../src/core/types.ts';
import type { Backend } from '../../src/ports/backend.ts';
import type { Clock } from '../../src/ports/clock.ts';
import type { QueueSettings } from '../../src/ports/queue.ts';
import { ManualClock } from '../support/manual-clock.ts';

/** What the suites ask of a factory. */
export interface ContractBackendOptions {
  readonly clock: Clock;
  readonly queue?: Partial<QueueSettings>;
  /** Jitter source for the backoff. */
  readonly random?: () => number;
}

/**
 * How another process opens the same backend: `module` (a file URL) exports `exportName`, a function that
 * takes `options` and returns the Backend (or a promise of it). Used by the crash test's child worker.
 */
export interface BackendOpener {
  readonly module: string;
  readonly exportName: string;
  readonly options: JsonObject;
}

/** A fresh backend made by a factory. */
export interface ContractBackend {
  readonly backend: Backend;
  readonly opener: BackendOpener;
  /** Closes the backend and deletes everything it stored (files, schemas, keys). */
  cleanup(): Promise<void>;
}

/** Makes a fresh, empty backend. */
export type ContractBackendFactory = (options: ContractBackendOptions) => Promise<ContractBackend>;

/** A backend opened for one test, with the clock the test moves. */
export interface OpenedBackend<C extends Clock = ManualClock> extends ContractBackend {
  readonly clock: C;
}

/**
 * Opens a fresh backend for the test `t` and cleans it up when the test ends. The default clock is a
 * ManualClock and the default jitter source returns 0.5, which makes backoff delays exact.
 */
export async function openFor(
  t: TestContext,
  factory: ContractBackendFactory,
  options: { queue?: Partial<QueueSettings>; random?: () => number } = {},
): Promise<OpenedBackend> {
  return openWithClock(t, factory, new ManualClock(), options);
}

/** Like {@link openFor} with a clock of the caller's choice (the crash test runs on real time). */
export async function openWithClock<C extends Clock>(
  t: TestContext,
  factory: ContractBackendFactory,
  clock: C,
  options: { queue?: Partial<QueueSettings>; random?: () => number } = {},
): Promise<OpenedBackend<C>> {
  const opened = await factory({ clock, queue: options.queue, random: options.random ?? (() => 0.5) });
  t.after(() => opened.cleanup());
  return { ...opened, clock };
}
