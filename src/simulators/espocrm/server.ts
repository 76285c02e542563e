/**
 * Composes the EspoCRM simulator: one fastify server with the API under `/api/v1` (records, webhooks,
 * notifications, stream, `App/user`) behind faults, request counting and authentication, and the admin API
 * under `/_sim/`; state in memory, optionally persisted to a JSON file; the webhook job on a timer.
 */
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { fastify } from 'fastify';
import { z } from 'zod';
import type { Clock } from '../../ports/clock.ts';
import { systemClock } from '../../ports/clock.ts';
import type { Logger } from '../../ports/logger.ts';
import {
  FaultInjector,
  RequestStats,
  SimHttpError,
  listenOnPort,
  originOf,
  persistAfterWrites,
} from '../kit/index.ts';
import { registerAdminRoutes } from './admin-routes.ts';
import { EspoHttpError, badRequest, sendEspoError } from './errors.ts';
import { registerNotificationRoutes } from './notifications.ts';
import { simulatorSnapshotFile } from './persistence.ts';
import { applyQuirks, defaultQuirks, quirksInputSchema } from './quirks.ts';
import type { QuirksInput } from './quirks.ts';
import { registerRecordRoutes } from './record-routes.ts';
import { RecordService } from './records.ts';
import type { RecordChange } from './records.ts';
import { installRequestHooks } from './request-hooks.ts';
import { seedDemoData } from './seed.ts';
import { SimState } from './state.ts';
import { recordStreamNotes, registerStreamRoutes } from './stream.ts';
import { DEFAULT_API_KEY, DEFAULT_SECRET_KEY, UserDirectory, buildUsers } from './users.ts';
import { IdGenerator } from './values.ts';
import { WebhookQueue } from './webhook-queue.ts';
import { registerWebhookRoutes } from './webhook-routes.ts';

/** Options of {@link startEspoCrmSimulator}. */
export interface EspoCrmSimulatorOptions {
  /** Default 0 (any free port). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Record times, retry times and relative date filters; default the system clock. */
  clock?: Clock;
  /** Demo data (50 Accounts, 100 Contacts, 300 CBeteiligte); default true. Users always exist. */
  seed?: boolean;
  /** Unexpected simulator errors and failed webhook runs are logged here. */
  logger?: Logger;
  /** JSON file the state is written to after changes and loaded from on start. */
  persistFile?: string;
  /** Period of the webhook job; default 120 000 ms (the vendor's `*\/2 * * * *`); 0 runs it only on demand. */
  webhookIntervalMs?: number;
  /** Wait before a failed delivery is retried; default 600 000 ms (`webhookFailAttemptPeriod`). */
  webhookRetryDelayMs?: number;
  /** The API user's API key; default {@link DEFAULT_API_KEY}. */
  apiKey?: string;
  /** The API user's HMAC secret; default {@link DEFAULT_SECRET_KEY}. */
  secretKey?: string;
  /** Initial quirks (also settable through `POST /_sim/quirks`). */
  quirks?: QuirksInput;
}

/** A running simulator. */
export interface EspoCrmSimulator {
  /** `http://127.0.0.1:PORT`; the API is under `${url}/api/v1/`, the admin API under `${url}/_sim/`. */
  readonly url: string;
  /** The API user. */
  readonly credentials: {
    readonly apiKey: string;
    readonly secretKey: string;
    readonly userId: string;
    readonly userName: string;
  };
  /** One run of the vendor's scheduled webhook job, now (after a run in progress). */
  processWebhookQueue(): Promise<void>;
  close(): Promise<void>;
}

/** Parses JSON bodies whatever their declared type; an empty body is no body. */
function installBodyParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    const text = (body as string).trim();
    if (text === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      // [UNCONFIRMED] the vendor's reason for a body that is not JSON.
      done(badRequest('Invalid JSON.'), undefined);
    }
  });
}

/** Any error as the vendor's answer: simulated faults keep their status and headers, bugs become 500. */
function asEspoError(error: unknown, logger: Logger | undefined): EspoHttpError {
  if (error instanceof EspoHttpError) return error;
  if (error instanceof SimHttpError) return new EspoHttpError(error.status, '', { headers: error.headers });
  const status = (error as Partial<FastifyError>).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500)
    return new EspoHttpError(400, 'Bad request.');
  logger?.error({ err: error }, 'espocrm simulator: unexpected error');
  return new EspoHttpError(500, 'Simulator error.');
}

/** Starts the simulator. */
export async function startServer(options: EspoCrmSimulatorOptions): Promise<EspoCrmSimulator> {
  const clock = options.clock ?? systemClock;
  const users = new UserDirectory(
    buildUsers(options.apiKey ?? DEFAULT_API_KEY, options.secretKey ?? DEFAULT_SECRET_KEY),
  );
  const parsedQuirks = quirksInputSchema.safeParse(options.quirks ?? {});
  if (!parsedQuirks.success)
    throw new Error(`EspoCRM simulator option "quirks": ${z.prettifyError(parsedQuirks.error)}`);
  const initialQuirks = () => {
    const fresh = defaultQuirks();
    applyQuirks(fresh, parsedQuirks.data);
    return fresh;
  };
  const quirks = initialQuirks();
  const getQuirks = () => quirks;
  const state = new SimState();
  const ids = new IdGenerator();
  const faults = new FaultInjector();
  const stats = new RequestStats();
  const persistence = simulatorSnapshotFile(options.persistFile, () => ({
    version: 1,
    state: state.toJSON(),
    quirks,
  }));
  const queue = new WebhookQueue({
    state,
    users,
    clock,
    quirks: getQuirks,
    retryDelayMs: options.webhookRetryDelayMs ?? 600_000,
    onChange: () => persistence.schedule(),
    logger: options.logger,
  });
  const streamOptions = { state, users, clock, ids, quirks: getQuirks };
  const onChange = (change: RecordChange) => {
    queue.record(change);
    recordStreamNotes(change, streamOptions);
    persistence.schedule();
  };
  const records = new RecordService({ state, users, quirks: getQuirks, clock, ids, listener: onChange });
  const admin = users.byId('1');
  if (admin === undefined) throw new Error('The simulator has no admin user.');
  const seedDemo = () => seedDemoData({ state, users, quirks: getQuirks, clock }, admin);

  const saved = persistence.read();
  if (saved !== undefined) {
    state.load(saved.state);
    Object.assign(quirks, saved.quirks);
  } else if (options.seed ?? true) seedDemo();

  const app = fastify({ logger: false, forceCloseConnections: true });
  installBodyParser(app);
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply) => {
    const answer = asEspoError(error, options.logger);
    if (!request.url.startsWith('/_sim/')) return sendEspoError(reply, answer);
    return reply
      .code(answer.status)
      .send({ error: answer.reason || answer.message, body: answer.body ?? null });
  });
  app.setNotFoundHandler((_request, reply) => sendEspoError(reply, new EspoHttpError(404, '')));
  installRequestHooks(app, { faults, stats, auth: { users, state, quirks: getQuirks } });
  persistAfterWrites(app, persistence);

  registerRecordRoutes(app, { state, records, clock, quirks: getQuirks });
  registerWebhookRoutes(app, {
    state,
    users,
    clock,
    ids,
    quirks: getQuirks,
    dropWebhook: (id) => queue.dropWebhook(id),
  });
  registerNotificationRoutes(app, { state, users, clock, ids, quirks: getQuirks });
  registerStreamRoutes(app, { ...streamOptions, records });
  registerAdminRoutes(app, {
    state,
    users,
    records,
    faults,
    stats,
    quirks,
    reset: (seed) => {
      state.clear();
      faults.clear();
      stats.clear();
      Object.assign(quirks, initialQuirks());
      if (seed) seedDemo();
    },
    seedDemo,
    processWebhookQueue: () => queue.process(),
  });

  const port = await listenOnPort(app, options);
  queue.start(options.webhookIntervalMs ?? 120_000);
  const apiUser = users.apiUser;

  return {
    url: originOf(options.host ?? '127.0.0.1', port),
    credentials: {
      apiKey: apiUser.apiKey ?? '',
      secretKey: apiUser.secretKey ?? '',
      userId: apiUser.id,
      userName: apiUser.userName,
    },
    processWebhookQueue: () => queue.process(),
    close: async () => {
      faults.close();
      await queue.close();
      persistence.flush();
      await app.close();
    },
  };
}
