/**
 * Deterministic retry timing for vendor clients under test: jitter fixed at the middle of its range, and waits
 * recorded instead of slept, so backoff and Retry-After show as numbers and no test waits in real time.
 */
export function recordedWaits(): {
  readonly waits: number[];
  readonly random: () => number;
  readonly sleep: (ms: number) => Promise<void>;
} {
  const waits: number[] = [];
  return {
    waits,
    random: () => 0.5,
    sleep: (ms) => {
      waits.push(ms);
      return Promise.resolve();
    },
  };
}
