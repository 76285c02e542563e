/**
 * Composes the Advoware simulator: one fastify server on one port serving the configurator, the security
 * gateway (token endpoint), the API under the relay and the connector prefix, and the `/_sim/` admin API;
 * state in memory, optionally persisted to a JSON file after every change and loaded on start.
 */
import { fastify } from 'fastify';
import { systemClock } from '../../ports/clock.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Logger } from '../../ports/logger.ts';
import {
  FaultInjector,
  RequestStats,
  SnapshotFile,
  installFaultsAndStats,
  installSimErrorHandlers,
  listenOnPort,
  originOf,
  persistAfterWrites,
} from '../kit/index.ts';
import { registerAdminRoutes } from './admin-routes.ts';
import { registerApiRoutes } from './api-routes.ts';
import { TOKEN_PATH, TokenStore, registerTokenRoute } from './auth.ts';
import type { TokenData } from './auth.ts';
import {
  CONFIGURATOR_PATH,
  SERVICE_PREFIXES,
  configuratorAnswer,
  registerConfiguratorRoute,
} from './configurator.ts';
import { resolveCredentials } from './credentials.ts';
import type { AdvowareCredentials } from './credentials.ts';
import { aspNetErrorBody } from './errors.ts';
import type { ErrorBodyBuilder } from './errors.ts';
import { SimState } from './model.ts';
import type { StateData } from './model.ts';
import { Mutations } from './mutations.ts';
import { initialQuirks } from './quirks.ts';
import type { AdvowareQuirks } from './quirks.ts';
import { buildSchema } from './schema.ts';
import { DEFAULT_DEMO_COUNT, addDemoBeteiligte } from './seed.ts';
import { RequestBudget, installRequestBudget } from './traffic.ts';
import { ChangeWebhooks } from './webhooks.ts';
import type { WebhookRegistration } from './webhooks.ts';

/** Options of {@link startAdvowareSimulator}. */
export interface AdvowareSimulatorOptions {
  /** Default 0 (any free port). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Every time read (token expiry, clock skew, request budget, change times); default the system clock. */
  clock?: Clock;
  /** Demo data on a fresh start: true = 300 Beteiligte (default), a number = that many, false = none. */
  seed?: boolean | number;
  /** Seed of the demo data's random choices (default `DEMO_SEED`). */
  seedRandom?: number;
  /** For unexpected simulator errors and given-up webhook deliveries. */
  logger?: Logger;
  /** JSON file the state is written to after every change and loaded from on start. */
  persistFile?: string;
  /** Lifetime of issued tokens; default 3600 ([INF] undocumented, reference §3). */
  tokenTtlSeconds?: number;
  /** Whether the configurator answers a `connectorUrl` (default true) or null; also quirk `connectorUrl`. */
  connectorUrl?: boolean;
  /** Overrides of {@link DEFAULT_SIM_CREDENTIALS}. */
  credentials?: Partial<AdvowareCredentials>;
  /** [UNCONFIRMED] JSON name of a Beteiligter's id; default `betNr`. */
  idField?: string;
  /** [UNCONFIRMED] Top-level text fields besides `name` and `vorname`; default `DEFAULT_EXTRA_FIELDS`. */
  fields?: readonly string[];
  /** Quirks differing from the defaults (see `quirks.ts`). */
  quirks?: Partial<AdvowareQuirks>;
  /** Body of error answers; default ASP.NET's `{Message}` ([UNCONFIRMED]). */
  errorBody?: ErrorBodyBuilder;
  /** Users `/_sim/act/:user/...` accepts; default `admin`, `anna`, `ben`. */
  humanUsers?: readonly string[];
  /** Waits before the retries of a failed change-webhook delivery; default [1000, 5000]. */
  webhookRetryDelaysMs?: readonly number[];
  /** Timeout of one change-webhook delivery; default 5000. */
  webhookTimeoutMs?: number;
}

/** A running simulator. */
export interface AdvowareSimulator {
  /** `http://127.0.0.1:PORT`; the admin API is under `${url}/_sim/`. */
  readonly url: string;
  /** `${url}/AdvonetConfigurator/api/Url` (append `?Kanzlei=<kanzlei>`). */
  readonly configuratorUrl: string;
  /** What a client needs for a token (defaults overridden by the option `credentials`). */
  readonly credentials: AdvowareCredentials;
  /** The relay's base URL (trailing slash). */
  readonly relayUrl: string;
  /** The connector's base URL (trailing slash); served even while the configurator does not announce it. */
  readonly connectorBaseUrl: string;
  /** The security gateway's base URL (trailing slash); the token endpoint is `${securityGatewayUrl}api/v1/Token`. */
  readonly securityGatewayUrl: string;
  /** Resolves once no change-webhook delivery is queued or in flight. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** What the persist file holds. */
interface PersistedState {
  readonly version: 1;
  readonly data: StateData;
  readonly tokens: TokenData;
  readonly quirks: AdvowareQuirks;
  readonly webhooks: { nextId: number; registrations: WebhookRegistration[] };
}

/** The default users of `/_sim/act` (the same names as the EspoCRM simulator's, for shared traffic scripts). */
const DEFAULT_HUMAN_USERS = ['admin', 'anna', 'ben'];

function demoCount(seed: boolean | number): number {
  if (typeof seed === 'number') return seed;
  return seed ? DEFAULT_DEMO_COUNT : 0;
}

/** Starts a simulator (listening once the promise resolves). Close it with `close()`. */
export async function startAdvowareSimulator(
  options: AdvowareSimulatorOptions = {},
): Promise<AdvowareSimulator> {
  const clock = options.clock ?? systemClock;
  const credentials = resolveCredentials(options.credentials);
  const schema = buildSchema(options.idField, options.fields);
  const startQuirks = () =>
    initialQuirks({
      ...(options.connectorUrl !== undefined && { connectorUrl: options.connectorUrl }),
      ...options.quirks,
    });
  const quirks = startQuirks();
  const state = new SimState();
  const tokens = new TokenStore(clock, options.tokenTtlSeconds ?? 3600);
  const faults = new FaultInjector();
  const stats = new RequestStats();
  const webhooks = new ChangeWebhooks({
    clock,
    ...(options.logger !== undefined && { logger: options.logger }),
    ...(options.webhookRetryDelaysMs !== undefined && { retryDelaysMs: options.webhookRetryDelaysMs }),
    ...(options.webhookTimeoutMs !== undefined && { timeoutMs: options.webhookTimeoutMs }),
  });
  const persist = new SnapshotFile<PersistedState>({
    path: options.persistFile,
    owner: 'Advoware simulator',
    version: 1,
    requiredKeys: ['data', 'tokens', 'quirks', 'webhooks'],
    snapshot: () => ({
      version: 1,
      data: state.toJSON(),
      tokens: tokens.toJSON(),
      quirks,
      webhooks: webhooks.toJSON(),
    }),
  });
  const mutations = new Mutations({
    state,
    schema,
    clock,
    quirks: () => quirks,
    emit: (change) => webhooks.emit(change),
  });
  const seedFresh = (seed: boolean | number) => {
    state.clear();
    addDemoBeteiligte(state, schema, demoCount(seed), options.seedRandom);
  };

  const saved = persist.read();
  if (saved === undefined) seedFresh(options.seed ?? true);
  else {
    state.load(saved.data);
    tokens.load(saved.tokens);
    Object.assign(quirks, saved.quirks);
    webhooks.load(saved.webhooks);
  }

  const app = fastify({
    logger: false,
    forceCloseConnections: true,
    routerOptions: { caseSensitive: false },
  });
  installSimErrorHandlers(app, {
    errorBody: options.errorBody ?? aspNetErrorBody,
    name: 'advoware simulator',
    logger: options.logger,
    internalErrorMessage: 'An error has occurred.',
    // ASP.NET Web API's wording for a path no controller serves.
    notFoundMessage: (request) => `No HTTP resource was found that matches the request URI '${request.url}'.`,
  });
  installRequestBudget(app, {
    budget: new RequestBudget(clock),
    budgetPerSecond: () => quirks.requestBudgetPerSecond,
  });
  installFaultsAndStats(app, { faults, stats });
  persistAfterWrites(app, persist);

  // The port is known only after listen; routes read the origin through this variable.
  let origin = '';
  registerConfiguratorRoute(app, {
    kanzlei: credentials.kanzlei,
    answer: () => configuratorAnswer(origin, quirks.connectorUrl),
  });
  registerTokenRoute(app, {
    path: `${SERVICE_PREFIXES.securityGateway}${TOKEN_PATH}`,
    credentials,
    tokens,
    quirks: () => quirks,
    clock,
  });
  registerApiRoutes(app, {
    state,
    mutations,
    schema,
    tokens,
    quirks: () => quirks,
    kanzlei: credentials.kanzlei,
  });
  registerAdminRoutes(app, {
    state,
    schema,
    mutations,
    tokens,
    faults,
    stats,
    webhooks,
    quirks,
    humanUsers: options.humanUsers ?? DEFAULT_HUMAN_USERS,
    reset: (seed) => {
      seedFresh(seed);
      tokens.reset();
      faults.clear();
      stats.clear();
      webhooks.reset();
      Object.assign(quirks, startQuirks());
    },
  });

  origin = originOf(options.host ?? '127.0.0.1', await listenOnPort(app, options));

  return {
    url: origin,
    configuratorUrl: `${origin}${CONFIGURATOR_PATH}`,
    credentials,
    relayUrl: `${origin}${SERVICE_PREFIXES.relay}`,
    connectorBaseUrl: `${origin}${SERVICE_PREFIXES.connector}`,
    securityGatewayUrl: `${origin}${SERVICE_PREFIXES.securityGateway}`,
    idle: () => webhooks.idle(),
    close: async () => {
      faults.close();
      persist.flush();
      await webhooks.close();
      await app.close();
    },
  };
}
