/**
 * Sends many HTTP POSTs with bounded concurrency over keep-alive connections (undici Pool) and records each
 * status and latency, for tests that need many real requests (ingest, the end-to-end crash test). Benchmarks
 * use their own lean load generator (bench/load-generator.ts), and {@link percentile} from here.
 */
import { Pool } from 'undici';

/** One request to send. */
export interface LoadRequest {
  readonly path: string;
  readonly body: Buffer;
  readonly headers: Record<string, string>;
}

/** What {@link sendAll} measured. */
export interface LoadResult {
  /** HTTP status per request, in request order (0 for a network error). */
  readonly statuses: number[];
  /** Latency per request in milliseconds, in request order. */
  readonly latenciesMs: number[];
  /** Wall time of the whole run in milliseconds. */
  readonly elapsedMs: number;
}

/** Sends every request with at most `concurrency` in flight. */
export async function sendAll(
  origin: string,
  requests: readonly LoadRequest[],
  concurrency: number,
): Promise<LoadResult> {
  const pool = new Pool(origin, { connections: concurrency, pipelining: 1, keepAliveTimeout: 30_000 });
  const statuses = new Array<number>(requests.length).fill(0);
  const latenciesMs = new Array<number>(requests.length).fill(0);
  let next = 0;
  const started = performance.now();
  const lane = async () => {
    for (let index = next++; index < requests.length; index = next++) {
      const request = requests[index];
      if (request === undefined) break;
      const sent = performance.now();
      try {
        const response = await pool.request({
          method: 'POST',
          path: request.path,
          body: request.body,
          headers: { 'content-type': 'application/json', ...request.headers },
        });
        await response.body.dump();
        statuses[index] = response.statusCode;
      } catch {
        statuses[index] = 0;
      }
      latenciesMs[index] = performance.now() - sent;
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, lane));
    return { statuses, latenciesMs, elapsedMs: performance.now() - started };
  } finally {
    await pool.close();
  }
}

/** The p-th percentile (0..100) of `values` (nearest rank). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? 0;
}
