/**
 * The configuration schema (zod). Unknown keys are errors, so a typo never silently falls back to a default.
 * Connector options and flow options are validated in a second step by the connector's or flow type's own
 * schema (see load.ts), with paths that point into this file's structure.
 */
import { z } from 'zod';
import { DEFAULTS } from './defaults.ts';

const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/i;
const nameMessage = 'use letters, digits, "-" and "_" only (it appears in URLs and job keys)';

const backoffSchema = z.strictObject({
  baseMs: z.number().int().positive().default(DEFAULTS.queue.backoff.baseMs),
  maxMs: z.number().int().positive().default(DEFAULTS.queue.backoff.maxMs),
  jitter: z.number().min(0).max(1).default(DEFAULTS.queue.backoff.jitter),
});

const serverSchema = z.strictObject({
  host: z.string().min(1).default(DEFAULTS.server.host),
  port: z.number().int().min(0).max(65_535).default(DEFAULTS.server.port),
  bodyLimitBytes: z.number().int().positive().default(DEFAULTS.server.bodyLimitBytes),
  /** Bearer token for the control API and /metrics; required when host is not loopback. */
  token: z.string().min(16, 'use at least 16 characters').optional(),
  timeouts: z
    .strictObject({
      headersMs: z.number().int().min(100).default(DEFAULTS.server.timeouts.headersMs),
      requestMs: z.number().int().min(100).default(DEFAULTS.server.timeouts.requestMs),
      keepAliveMs: z.number().int().min(100).default(DEFAULTS.server.timeouts.keepAliveMs),
    })
    // Node refuses a headers timeout longer than the request timeout.
    .refine((timeouts) => timeouts.headersMs <= timeouts.requestMs, {
      message: 'headersMs must not exceed requestMs',
      path: ['headersMs'],
    })
    .prefault({}),
  ingest: z
    .strictObject({
      maxBatch: z.number().int().positive().max(10_000).default(DEFAULTS.server.ingest.maxBatch),
      maxWaitMs: z.number().min(0).max(1_000).default(DEFAULTS.server.ingest.maxWaitMs),
    })
    .prefault({}),
});

const sqliteStoreSchema = z.strictObject({
  kind: z.literal('sqlite'),
  path: z.string().min(1).default(DEFAULTS.store.path),
  durability: z.enum(['process', 'power']).default(DEFAULTS.store.durability),
});

const queueSchema = z.strictObject({
  maxAttempts: z.number().int().min(1).max(100).default(DEFAULTS.queue.maxAttempts),
  backoff: backoffSchema.prefault({}),
  maxPayloadsPerJob: z.number().int().min(1).max(10_000).default(DEFAULTS.queue.maxPayloadsPerJob),
  leaseMs: z.number().int().min(1_000).default(DEFAULTS.queue.leaseMs),
});

const workerSchema = z.strictObject({
  concurrency: z.number().int().min(1).max(256).default(DEFAULTS.worker.concurrency),
  pollMs: z.number().int().min(10).default(DEFAULTS.worker.pollMs),
  shutdownTimeoutMs: z.number().int().min(0).default(DEFAULTS.worker.shutdownTimeoutMs),
});

const retentionSchema = z.strictObject({
  cron: z.string().min(1).default(DEFAULTS.retention.cron),
  jobsDays: z.number().positive().default(DEFAULTS.retention.jobsDays),
  runsDays: z.number().positive().default(DEFAULTS.retention.runsDays),
  ledgerDays: z.number().positive().default(DEFAULTS.retention.ledgerDays),
});

const sandboxWebhookSchema = z.strictObject({
  /** The `superoffice` connection the simulator delivers to (`POST /webhooks/<connection>`). */
  connection: z.string().regex(NAME, nameMessage),
  /** Events of the registration. */
  events: z
    .array(z.string().min(1))
    .min(1)
    .default([...DEFAULTS.sandbox.superoffice.webhook.events]),
});

const sandboxTrafficSchema = z.strictObject({
  enabled: z.boolean().default(DEFAULTS.sandbox.superoffice.traffic.enabled),
  intervalMs: z.number().int().min(10).default(DEFAULTS.sandbox.superoffice.traffic.intervalMs),
  /** Short names of the simulated users who act (the simulator knows RKAB, RCGO and WACK). */
  users: z
    .array(z.string().min(1))
    .min(1)
    .default([...DEFAULTS.sandbox.superoffice.traffic.users]),
  seed: z.number().int().default(DEFAULTS.sandbox.superoffice.traffic.seed),
});

const superOfficeSandboxSchema = z.strictObject({
  port: z.number().int().min(0).max(65_535).default(DEFAULTS.sandbox.superoffice.port),
  seed: z.boolean().default(DEFAULTS.sandbox.superoffice.seed),
  /** JSON file keeping the simulated tenant (and its webhook registration) across restarts. */
  persistFile: z.string().min(1).optional(),
  webhook: sandboxWebhookSchema.optional(),
  traffic: sandboxTrafficSchema.prefault({}),
});

const portSchema = z.number().int().min(0).max(65_535);

const espoCrmSandboxSchema = z.strictObject({
  port: portSchema.default(DEFAULTS.sandbox.beteiligte.espocrm.port),
  /** The `espocrm` connection it serves: the simulator takes its API key, and delivers its webhooks to it. */
  connection: z.string().regex(NAME, nameMessage),
  /** JSON file keeping the records and the webhook registrations across restarts. */
  persistFile: z.string().min(1).optional(),
  /** Period of the simulator's webhook job (the vendor's is 2 minutes; a demo wants to see changes sooner). */
  webhookIntervalMs: z.number().int().min(10).default(DEFAULTS.sandbox.beteiligte.espocrm.webhookIntervalMs),
});

const advowareSandboxSchema = z.strictObject({
  port: portSchema.default(DEFAULTS.sandbox.beteiligte.advoware.port),
  /** The `advoware` connection it serves: the simulator accepts exactly its credentials. */
  connection: z.string().regex(NAME, nameMessage),
  /** JSON file keeping the Beteiligte across restarts. */
  persistFile: z.string().min(1).optional(),
});

const beteiligteTrafficSchema = z.strictObject({
  enabled: z.boolean().default(DEFAULTS.sandbox.beteiligte.traffic.enabled),
  intervalMs: z.number().int().min(10).default(DEFAULTS.sandbox.beteiligte.traffic.intervalMs),
  seed: z.number().int().default(DEFAULTS.sandbox.beteiligte.traffic.seed),
  /** Chance that an action edits the same field of a linked record on both sides at nearly the same time. */
  conflictChance: z.number().min(0).max(1).default(DEFAULTS.sandbox.beteiligte.traffic.conflictChance),
});

/** The EspoCRM and Advoware simulators of a Beteiligte sync flow, and their simulated users. */
const beteiligteSandboxSchema = z.strictObject({
  espocrm: espoCrmSandboxSchema,
  advoware: advowareSandboxSchema,
  traffic: beteiligteTrafficSchema.prefault({}),
});

/** Simulated vendors `crmsync serve` starts in-process (demos, development; never in production). */
const sandboxSchema = z.strictObject({
  superoffice: superOfficeSandboxSchema.optional(),
  beteiligte: beteiligteSandboxSchema.optional(),
});

/**
 * Why `connection` (the raw config entry named `name`) cannot receive the SuperOffice simulator's webhook, or
 * null when it can. Connector options are validated later by the connector; only what the sandbox relies on
 * is looked at here, so that the problem is reported at the sandbox's path.
 */
function sandboxConnectionProblem(name: string, connection: unknown): string | null {
  if (typeof connection !== 'object' || connection === null) return `no connection named "${name}"`;
  const { connector, options } = connection as { connector?: unknown; options?: unknown };
  // A missing or mistyped connector is reported at the connection's own path.
  if (typeof connector !== 'string') return null;
  if (connector !== 'superoffice')
    return `connection "${name}" uses the ${connector} connector; the SuperOffice simulator delivers to a superoffice connection`;
  // A key holding undefined is an env() reference to an unset variable, reported at its own path.
  const hasSecret = typeof options === 'object' && options !== null && 'webhookSecret' in options;
  if (!hasSecret)
    return `connection "${name}" has no webhookSecret; the simulator's webhook is registered with it, e.g. webhookSecret: env('SO_WEBHOOK_SECRET')`;
  return null;
}

/**
 * Why the raw config entry `connection` named `name` is not a connection of the `connector` kind, or null
 * when it is (or when its connector is missing or mistyped, which is reported at the connection's own path).
 */
function connectorKindProblem(name: string, connection: unknown, connector: string): string | null {
  if (typeof connection !== 'object' || connection === null) return `no connection named "${name}"`;
  const kind = (connection as { connector?: unknown }).connector;
  if (typeof kind !== 'string' || kind === connector) return null;
  return `connection "${name}" uses the ${kind} connector; the ${connector} simulator serves an ${connector} connection`;
}

/** One connection; validated entry by entry so that one bad connection does not hide the others' problems. */
export const connectionSchema = z.strictObject({
  /** Connector kind: `generic`, later `superoffice`, `espocrm`, `advoware`. */
  connector: z.string().min(1),
  /** Validated by the connector's own schema. */
  options: z.unknown().optional(),
});

/** One flow; validated entry by entry, like connections. */
export const flowSchema = z.looseObject({
  /** Flow type: `inspect`, later `sync`, `enrich`. */
  type: z.string().min(1),
  /** Connections whose change events feed this flow. */
  connections: z.array(z.string().regex(NAME, nameMessage)).min(1),
});

/** The whole config file, after env references are resolved. */
export const configSchema = z
  .strictObject({
    server: serverSchema.prefault({}),
    store: sqliteStoreSchema.prefault({ kind: 'sqlite' }),
    queue: queueSchema.prefault({}),
    worker: workerSchema.prefault({}),
    retention: retentionSchema.prefault({}),
    log: z
      .strictObject({
        level: z
          .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
          .default(DEFAULTS.log.level),
      })
      .prefault({}),
    connections: z.record(z.string().regex(NAME, nameMessage), z.unknown()).default({}),
    flows: z.record(z.string().regex(NAME, nameMessage), z.unknown()).default({}),
    sandbox: sandboxSchema.optional(),
  })
  // Runs even when other sections have problems, so that one run of the validation lists them all; the value
  // may then be partly invalid, hence the defensive reads.
  .superRefine(
    (config, context) => {
      const connections: unknown = config.connections;
      const entryOf = (name: string): unknown =>
        typeof connections === 'object' && connections !== null
          ? (connections as Record<string, unknown>)[name]
          : undefined;
      const sandbox = (
        config as {
          sandbox?: {
            superoffice?: { webhook?: { connection?: unknown } };
            beteiligte?: { espocrm?: { connection?: unknown }; advoware?: { connection?: unknown } };
          };
        }
      ).sandbox;
      const connection = sandbox?.superoffice?.webhook?.connection;
      const problem =
        typeof connection === 'string' ? sandboxConnectionProblem(connection, entryOf(connection)) : null;
      if (problem !== null)
        context.addIssue({
          code: 'custom',
          path: ['sandbox', 'superoffice', 'webhook', 'connection'],
          message: problem,
        });
      for (const vendor of ['espocrm', 'advoware'] as const) {
        const name = sandbox?.beteiligte?.[vendor]?.connection;
        const kindProblem =
          typeof name === 'string' ? connectorKindProblem(name, entryOf(name), vendor) : null;
        if (kindProblem !== null)
          context.addIssue({
            code: 'custom',
            path: ['sandbox', 'beteiligte', vendor, 'connection'],
            message: kindProblem,
          });
      }
    },
    { when: () => true },
  );

/** What a config file may contain (before defaults). `env()` references are allowed anywhere. */
export type ConfigInput = z.input<typeof configSchema>;

/** The `sandbox` section after validation (defaults applied). */
export type SandboxConfig = z.output<typeof sandboxSchema>;

/** `sandbox.superoffice` after validation. */
export type SuperOfficeSandboxConfig = z.output<typeof superOfficeSandboxSchema>;

/** `sandbox.beteiligte` after validation. */
export type BeteiligteSandboxConfig = z.output<typeof beteiligteSandboxSchema>;

/** `sandbox.beteiligte.traffic` after validation. */
export type BeteiligteTrafficConfig = z.output<typeof beteiligteTrafficSchema>;

/** `sandbox.superoffice.traffic` after validation. */
export type TrafficConfig = z.output<typeof sandboxTrafficSchema>;

/** A connection after validation; `options` is the connector's own validated options type. */
export interface ConnectionConfig {
  readonly name: string;
  readonly connector: string;
  readonly options: unknown;
}

/** A flow after validation. `options` holds the flow type's own settings. */
export interface FlowConfig {
  readonly name: string;
  readonly type: string;
  readonly connections: readonly string[];
  readonly options: Record<string, unknown>;
}

/** The validated configuration with every default applied. */
export interface Config {
  readonly server: z.output<typeof serverSchema>;
  readonly store: z.output<typeof sqliteStoreSchema>;
  readonly queue: z.output<typeof queueSchema>;
  readonly worker: z.output<typeof workerSchema>;
  readonly retention: z.output<typeof retentionSchema>;
  readonly log: { readonly level: string };
  readonly connections: ReadonlyMap<string, ConnectionConfig>;
  readonly flows: ReadonlyMap<string, FlowConfig>;
  /** Simulated vendors to start with `crmsync serve`; absent in production configs. */
  readonly sandbox?: SandboxConfig;
  /** Resolved secret values, so output can redact them. Never print this. */
  readonly secrets: readonly string[];
  /** Where the config came from (a file path, or `defaults`). */
  readonly source: string;
}

/** Types a config file's object; identity at run time. `import { defineConfig, env } from 'crmsync'`. */
export function defineConfig(config: ConfigInput): ConfigInput {
  return config;
}
