/** A Clock that tests move by hand, so that leases, backoffs and expiries are tested without sleeping. */
import type { Clock } from '../../src/ports/clock.ts';

/** A clock that stands still until told otherwise. */
export class ManualClock implements Clock {
  #now: number;

  /** Starts at `start` (epoch ms); default 2025-01-01T00:00:00Z, a fixed point so that runs are repeatable. */
  constructor(start: number = Date.UTC(2025, 0, 1)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  /** Moves time forward by `ms` and returns the new time. */
  advance(ms: number): number {
    if (ms < 0) throw new Error(`ManualClock only moves forward, got ${ms} ms`);
    this.#now += ms;
    return this.#now;
  }

  /** Jumps to `time` (epoch ms). */
  set(time: number): void {
    this.#now = time;
  }
}
