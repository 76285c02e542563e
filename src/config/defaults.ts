/**
 * Every default of the configuration, in one place. The schema (schema.ts) applies them; docs/configuration.md
 * lists them. Change a default here and nowhere else.
 */
import { DEFAULT_BACKOFF } from '../core/backoff.ts';

export const DEFAULTS = {
  /** Config file looked up when neither --config nor CRMSYNC_CONFIG names one. */
  configFile: 'crmsync.config.ts',
  server: {
    /** Loopback by default: the control API and /metrics need no token there. */
    host: '127.0.0.1',
    port: 8787,
    /** Largest accepted webhook body; larger ones are answered 413. */
    bodyLimitBytes: 1_048_576,
    /** How long a client may take; slower connections are answered 408 and closed. */
    timeouts: {
      /** A request's line and headers must arrive within this. */
      headersMs: 10_000,
      /** The whole request, body included, must arrive within this. */
      requestMs: 30_000,
      /** An idle kept-alive connection is closed after this. */
      keepAliveMs: 5_000,
    },
    ingest: {
      /** Most inputs one group commit holds. */
      maxBatch: 512,
      /** Longest a webhook waits for its group commit to fill, in milliseconds. */
      maxWaitMs: 2,
    },
  },
  store: {
    kind: 'sqlite',
    path: './data/crmsync.db',
    /** `process`: survives a crash of crmsync; `power`: also survives power loss (fsync per commit). */
    durability: 'process',
  },
  queue: {
    /** The seeds' poison pill: after 5 attempts a job is DEAD. */
    maxAttempts: 5,
    backoff: DEFAULT_BACKOFF,
    maxPayloadsPerJob: 100,
    /** A worker that stops heartbeating loses its job after this long. */
    leaseMs: 30_000,
  },
  worker: {
    concurrency: 4,
    /** Idle poll interval; webhooks wake idle workers at once, so this only bounds delayed jobs and retries. */
    pollMs: 500,
    /** On SIGTERM, in-flight jobs get this long to finish before they are released to other instances. */
    shutdownTimeoutMs: 10_000,
  },
  retention: {
    /** When finished jobs, old runs and old ledger entries are pruned (one instance does it). */
    cron: '17 3 * * *',
    jobsDays: 7,
    runsDays: 30,
    ledgerDays: 7,
  },
  log: {
    level: 'info',
  },
  /** Simulated vendors started inside `crmsync serve` for demos and development (never in production). */
  sandbox: {
    superoffice: {
      /** Next to the server's 8787; 0 picks a free port. */
      port: 8788,
      /** Start with the demo companies, persons and sales. */
      seed: true,
      webhook: {
        /** The events the enrichment flows of the seeds listen to. */
        events: ['contact.created', 'contact.changed', 'person.created', 'person.changed'],
      },
      traffic: {
        enabled: true,
        /** One simulated human action per interval. */
        intervalMs: 3_000,
        /** The team of the shared tenant (seed 001) and its foreign owner WACK. */
        users: ['RKAB', 'RCGO', 'WACK'],
        /** Seed of the traffic's random choices: the same seed gives the same actions. */
        seed: 1,
      },
    },
    beteiligte: {
      /** After SuperOffice's 8788. */
      espocrm: { port: 8789, webhookIntervalMs: 1_000 },
      advoware: { port: 8790 },
      traffic: {
        enabled: true,
        /** One simulated human action per interval, in EspoCRM or in Advoware. */
        intervalMs: 4_000,
        seed: 1,
        conflictChance: 0.15,
      },
    },
  },
} as const;
