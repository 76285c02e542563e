/**
 * Composes the simulator: one fastify server on one port serving the auth host, the tenant status endpoint,
 * the tenant API (behind the 421 host check and the bearer check), the webhook hub's routes and the admin
 * API; state in memory, optionally persisted to a JSON file after every change and loaded on start.
 * `index.ts` supplies the real webhook hub; tests may supply a stand-in.
 */
import { fastify } from 'fastify';
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
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
  persistAfterWrites,
  requestRoute,
} from '../kit/index.ts';
import { registerAdminRoutes } from './admin-routes.ts';
import type { CoreQuirks } from './admin-routes.ts';
import { TokenStore, bearerCheck, registerAuthRoutes, registerCodeRoute } from './auth.ts';
import type { AuthSettings, TokenData } from './auth.ts';
import { DEFAULT_SIDE_TABLE_QUIRKS } from './entity-columns.ts';
import { SimHttpError, netServerErrorBody } from './errors.ts';
import type { ErrorBodyBuilder } from './errors.ts';
import { SimState } from './model.ts';
import type { TenantData } from './model.ts';
import { Mutations } from './mutations.ts';
import { seedDemoTenant } from './seed.ts';
import { registerTenantRoutes } from './tenant-routes.ts';
import type { WebhookHub } from './webhooks.ts';

/** Options of the webhook hub's constructor. */
export type WebhookHubOptions = ConstructorParameters<typeof WebhookHub>[0];

/** Options of {@link startSuperOfficeSimulator}. */
export interface SuperOfficeSimulatorOptions {
  /** Default 0 (any free port). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 'Cust12345'. */
  contextIdentifier?: string;
  /** Default 'crmsync-sim-client'. */
  clientId?: string;
  /** Default 'crmsync-sim-secret'. */
  clientSecret?: string;
  /** The API user's long-lived refresh token; default 'crmsync-sim-refresh-token'. */
  refreshToken?: string;
  /** Default 3600 (reference §2.1). */
  accessTokenTtlSeconds?: number;
  /** The API user's associate id; default 528 (seeds). */
  apiAssociateId?: number;
  /** Demo records (companies, persons, sales); default true. Users, lists and UDF definitions always exist. */
  seed?: boolean;
  /** JSON file the state is written to after every change and loaded from on start. */
  persistFile?: string;
  /** Every time read (token expiry, UpdatedDate); default the system clock. */
  clock?: Clock;
  /** Passed to the webhook hub (tests use small delays). */
  webhookDelivery?: { retryDelaysMs?: number[]; timeoutMs?: number };
  /** Largest archive page (reference §4: [UNCONFIRMED]); default 200. Also settable via `/_sim/quirks`. */
  archivePageSize?: number;
  /** Body of error answers; the vendor's is [UNCONFIRMED] (default: NetServer-like `{Error, ErrorType, Message}`). */
  errorBody?: ErrorBodyBuilder;
  /** Logger for the webhook hub and for unexpected simulator errors. */
  logger?: Logger;
  /** Builds the webhook hub; default the real one. Tests may pass a stand-in. */
  createHub?: (options: WebhookHubOptions) => WebhookHub;
}

/** A running simulator. */
export interface SuperOfficeSimulator {
  /** http://127.0.0.1:PORT: the auth host, the tenant status endpoint and the admin API. */
  readonly url: string;
  /** The tenant's current endpoint, e.g. http://127.0.0.1:PORT/Cust12345 (changes after `/_sim/tenant/move`). */
  readonly tenantUrl: string;
  /** `tenantUrl + '/api/'`, the id_token's `webapi_url` claim. */
  readonly webapiUrl: string;
  readonly credentials: {
    readonly clientId: string;
    readonly clientSecret: string;
    readonly refreshToken: string;
    readonly contextIdentifier: string;
  };
  readonly hub: WebhookHub;
  close(): Promise<void>;
}

/** What the persist file holds. */
interface PersistedState {
  readonly version: 1;
  readonly tenant: TenantData;
  readonly tokens: TokenData;
  readonly hub: unknown;
  readonly quirks: CoreQuirks;
}

/** Parses JSON bodies of the media types the WebAPI accepts; an empty body is no body. */
function installBodyParsers(app: FastifyInstance): void {
  app.addContentTypeParser(
    ['application/merge-patch+json', 'application/json-patch+json', 'text/json'],
    { parseAs: 'string' },
    (_request, body, done) => {
      try {
        done(null, body === '' ? undefined : JSON.parse(body as string));
      } catch (error) {
        (error as FastifyError).statusCode = 400;
        done(error as FastifyError, undefined);
      }
    },
  );
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    },
  );
}

/** Starts the simulator with the hub built by `createHub`. */
export async function startSimulator(
  options: SuperOfficeSimulatorOptions,
  createHub: (options: WebhookHubOptions) => WebhookHub,
): Promise<SuperOfficeSimulator> {
  const clock = options.clock ?? systemClock;
  const settings: AuthSettings = {
    contextIdentifier: options.contextIdentifier ?? 'Cust12345',
    clientId: options.clientId ?? 'crmsync-sim-client',
    clientSecret: options.clientSecret ?? 'crmsync-sim-secret',
    refreshToken: options.refreshToken ?? 'crmsync-sim-refresh-token',
    accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 3600,
    apiAssociateId: options.apiAssociateId ?? 528,
  };
  const ctx = settings.contextIdentifier;
  const errorBody = options.errorBody ?? netServerErrorBody;
  const defaultQuirks = (): CoreQuirks => ({
    ...DEFAULT_SIDE_TABLE_QUIRKS,
    archivePageSize: options.archivePageSize ?? 200,
  });
  const quirks = defaultQuirks();
  const state = new SimState();
  const tokens = new TokenStore(settings, clock);
  const faults = new FaultInjector();
  const stats = new RequestStats();
  // The snapshot is built at write time, when the hub (created next) exists.
  const persist = new SnapshotFile<PersistedState>({
    path: options.persistFile,
    owner: 'SuperOffice simulator',
    version: 1,
    // The hub is pluggable (tests pass stand-ins), so its part is not required.
    requiredKeys: ['tenant', 'tokens', 'quirks'],
    snapshot: () => ({
      version: 1,
      tenant: state.toJSON(),
      tokens: tokens.toJSON(),
      hub: hub.toJSON(),
      quirks,
    }),
  });
  const hub = createHub({
    contextIdentifier: ctx,
    clock,
    ...options.webhookDelivery,
    ...(options.logger !== undefined && { logger: options.logger }),
    // Error counters and TooManyErrors survive a restart when persisted.
    onChange: () => persist.schedule(),
  });

  const seedFresh = (records: boolean) => {
    state.clear();
    seedDemoTenant(state, settings.apiAssociateId, records);
  };
  const saved = persist.read();
  if (saved !== undefined) {
    state.load(saved.tenant);
    tokens.load(saved.tokens);
    hub.load(saved.hub);
    Object.assign(quirks, saved.quirks);
  } else {
    seedFresh(options.seed ?? true);
  }

  const app = fastify({ logger: false, forceCloseConnections: true });
  installBodyParsers(app);
  installSimErrorHandlers(app, {
    errorBody,
    name: 'superoffice simulator',
    logger: options.logger,
    internalErrorMessage: 'Simulator error.',
    notFoundMessage: (request) => `No route ${request.method} ${request.url.split('?')[0] ?? ''}.`,
  });
  // Route templates name the tenant `{ctx}`, so fault rules and counts do not depend on the tenant.
  const routeOf = (request: FastifyRequest) => requestRoute(request).replace(`/${ctx}/`, '/{ctx}/');
  installFaultsAndStats(app, { faults, stats, routeOf });

  // The port is known only after listen; routes read the hosts through these variables.
  let primaryHost = '';
  let alternateHost = '';
  let tenantHost = '';
  const url = () => `http://${primaryHost}`;
  const tenantUrl = () => `http://${tenantHost}/${ctx}`;

  // 421 when the request did not come through the tenant's current cluster host (reference §2.2).
  app.addHook('onRequest', (request, _reply, done) => {
    const misdirected =
      request.url.startsWith(`/${ctx}/`) && (request.headers.host ?? '').toLowerCase() !== tenantHost;
    done(
      misdirected
        ? new SimHttpError(
            421,
            'MisdirectedRequest',
            `Tenant ${ctx} is served at ${tenantUrl()}; rediscover it via /api/state/${ctx} or the id_token's webapi_url.`,
          )
        : undefined,
    );
  });
  persistAfterWrites(app, persist);

  const mutations = new Mutations({
    state,
    clock,
    emit: (event) => hub.emit(event),
    onChange: () => persist.schedule(),
    quirks: () => quirks,
  });
  const authenticate = bearerCheck(tokens);
  const authOptions = { settings, tokens, state, clock, authUrl: url, tenantUrl };
  registerAuthRoutes(app, authOptions);
  registerCodeRoute(app, authOptions);
  const prefix = `/${ctx}/api/v1`;
  registerTenantRoutes(app, {
    state,
    mutations,
    prefix,
    tenantUrl,
    authenticate,
    archivePageSize: () => quirks.archivePageSize,
  });
  hub.registerRoutes(app, prefix, authenticate);
  registerAdminRoutes(app, {
    state,
    mutations,
    tokens,
    faults,
    stats,
    hub,
    quirks,
    apiAssociateId: settings.apiAssociateId,
    tenantUrl,
    reset: (records) => {
      seedFresh(records);
      tokens.reset();
      faults.clear();
      stats.clear();
      hub.reset();
      Object.assign(quirks, defaultQuirks());
      tenantHost = primaryHost;
    },
    moveTenant: (host) => {
      if (host !== undefined && ![primaryHost, alternateHost, '127.0.0.1', 'localhost'].includes(host))
        throw new SimHttpError(400, 'BadRequest', `host must be 127.0.0.1 or localhost, got "${host}".`);
      if (host === undefined) tenantHost = tenantHost === primaryHost ? alternateHost : primaryHost;
      else tenantHost = host.startsWith('localhost') ? alternateHost : primaryHost;
      return tenantUrl();
    },
  });
  const port = await listenOnPort(app, options);
  primaryHost = `127.0.0.1:${port}`;
  alternateHost = `localhost:${port}`;
  tenantHost = primaryHost;

  return {
    url: url(),
    get tenantUrl() {
      return tenantUrl();
    },
    get webapiUrl() {
      return `${tenantUrl()}/api/`;
    },
    credentials: {
      clientId: settings.clientId,
      clientSecret: settings.clientSecret,
      refreshToken: settings.refreshToken,
      contextIdentifier: ctx,
    },
    hub,
    close: async () => {
      faults.close();
      persist.flush();
      await hub.close();
      await app.close();
    },
  };
}
