/**
 * Time as the engine sees it. Adapters and the engine read the time only through this port, so that tests
 * can move time forward without sleeping.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

/** The real wall clock. */
export const systemClock: Clock = { now: () => Date.now() };
