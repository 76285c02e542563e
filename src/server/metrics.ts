/**
 * Prometheus metrics of one crmsync process, on a registry of its own (not prom-client's global one), so
 * that several apps in one process (tests) do not collide. Served by the server at `GET /metrics`.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ApiCallRecorder } from '../ports/connector.ts';
import type { Queue } from '../ports/queue.ts';

/**
 * What happened to one webhook request. `accepted`: stored (or a ping with nothing to store); `duplicate`:
 * every event was a redelivery; `unrouted`: verified, but no flow reads the connection; `dead_letter`:
 * verified, but its content could not be taken, so it was stored as a DEAD job for replay.
 */
export type WebhookOutcome =
  | 'accepted'
  | 'duplicate'
  | 'unauthorized'
  | 'malformed'
  | 'unknown_connection'
  | 'too_large'
  | 'unrouted'
  | 'dead_letter'
  | 'error';

/** One finished run, as reported by the worker pool. */
export interface RunObservation {
  readonly flow: string;
  /** The run's outcome (COMPLETED, SKIPPED, FAILED, CONFLICT, ...). */
  readonly outcome: string;
  readonly durationMs: number;
}

/** The metrics of one process. Implements {@link ApiCallRecorder} for connectors. */
export interface Metrics extends ApiCallRecorder {
  /** The registry to scrape. */
  readonly registry: Registry;
  /** Counts one webhook request. */
  countWebhook(connection: string, outcome: WebhookOutcome): void;
  /** Records the size of one ingest group commit (inputs written by one `enqueueMany`). */
  observeIngestBatch(inputs: number): void;
  /** Records one run of a job (called by the worker pool). */
  runFinished(run: RunObservation): void;
}

/** Options of {@link createMetrics}. */
export interface MetricsOptions {
  /** Node process metrics (CPU, memory, event loop lag, GC). Default true. */
  readonly processMetrics?: boolean;
}

/** Seconds; runs call vendor APIs, so the buckets reach a minute. */
const RUN_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const API_CALL_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

/**
 * Creates the metrics. `queue` is read at scrape time for `crmsync_jobs{state}`; a scrape while the store is
 * unavailable leaves that gauge empty rather than failing the whole scrape (/readyz reports the store).
 */
export function createMetrics(queue: Pick<Queue, 'counts'>, options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });

  const webhooks = new Counter({
    name: 'crmsync_webhooks_total',
    help: 'Webhook requests by connection and outcome.',
    labelNames: ['connection', 'outcome'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'crmsync_jobs',
    help: 'Jobs in the queue by state (read from the queue at scrape time).',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      try {
        const counts = await queue.counts();
        for (const [state, count] of Object.entries(counts)) this.set({ state }, count);
      } catch {
        // Leave the gauge empty: a missing series says "unknown", a zero would lie.
      }
    },
  });
  const ingestBatches = new Histogram({
    name: 'crmsync_ingest_batch_size',
    help: 'Inputs per ingest group commit (one enqueueMany).',
    buckets: BATCH_BUCKETS,
    registers: [registry],
  });
  const runs = new Histogram({
    name: 'crmsync_job_duration_seconds',
    help: 'Duration of job runs by flow and outcome.',
    labelNames: ['flow', 'outcome'] as const,
    buckets: RUN_BUCKETS,
    registers: [registry],
  });
  const apiCalls = new Counter({
    name: 'crmsync_vendor_api_calls_total',
    help: 'Vendor API calls by connection, route template, method and status (or "error").',
    labelNames: ['connection', 'route', 'method', 'status'] as const,
    registers: [registry],
  });
  const apiCallDurations = new Histogram({
    name: 'crmsync_vendor_api_call_duration_seconds',
    help: 'Duration of vendor API calls by connection, route template and method.',
    labelNames: ['connection', 'route', 'method'] as const,
    buckets: API_CALL_BUCKETS,
    registers: [registry],
  });

  return {
    registry,
    countWebhook: (connection, outcome) => webhooks.inc({ connection, outcome }),
    observeIngestBatch: (inputs) => ingestBatches.observe(inputs),
    runFinished: ({ flow, outcome, durationMs }) => runs.observe({ flow, outcome }, durationMs / 1000),
    record: ({ connection, route, method, status, durationMs }) => {
      apiCalls.inc({ connection, route, method, status: String(status) });
      apiCallDurations.observe({ connection, route, method }, durationMs / 1000);
    },
  };
}
