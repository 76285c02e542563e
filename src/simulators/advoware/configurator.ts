/**
 * Base-URL discovery (reference §2): `GET /AdvonetConfigurator/api/Url?Kanzlei=<kennung>` answers
 * `{relayUrl, connectorUrl, securityGateway}`, each with a trailing slash; `connectorUrl` may be null, and
 * when set it must be the API base. The simulator serves the relay and the connector under distinct path
 * prefixes of one host (both serve the same API), so request counts show which one a client picked.
 */
import type { FastifyInstance } from 'fastify';
import { sameName } from './credentials.ts';
import { badRequest, notFound } from './errors.ts';

/** Path of the configurator endpoint. */
export const CONFIGURATOR_PATH = '/AdvonetConfigurator/api/Url';

/** Path prefixes of the three services on the simulator's host (each with the trailing slash). */
export const SERVICE_PREFIXES = {
  relay: '/relay/',
  connector: '/connector/',
  securityGateway: '/security/',
} as const;

/** The configurator's answer. */
export interface ConfiguratorAnswer {
  readonly relayUrl: string;
  /** Null when the firm has no direct connector address (quirk `connectorUrl` off). */
  readonly connectorUrl: string | null;
  readonly securityGateway: string;
}

/** The answer for a simulator reachable at `origin` (e.g. `http://127.0.0.1:4000`). */
export function configuratorAnswer(origin: string, withConnectorUrl: boolean): ConfiguratorAnswer {
  return {
    relayUrl: `${origin}${SERVICE_PREFIXES.relay}`,
    connectorUrl: withConnectorUrl ? `${origin}${SERVICE_PREFIXES.connector}` : null,
    securityGateway: `${origin}${SERVICE_PREFIXES.securityGateway}`,
  };
}

/** What the configurator route needs. */
export interface ConfiguratorRouteOptions {
  /** The one Kanzleikennung the simulator knows. */
  readonly kanzlei: string;
  /** The answer for the known firm (read per request: the quirk and the port may change). */
  readonly answer: () => ConfiguratorAnswer;
}

/** Registers the configurator endpoint. */
export function registerConfiguratorRoute(app: FastifyInstance, options: ConfiguratorRouteOptions): void {
  app.get<{ Querystring: { Kanzlei?: string; kanzlei?: string } }>(CONFIGURATOR_PATH, (request) => {
    // [INF] ASP.NET binds query parameters case-insensitively.
    const kanzlei = request.query.Kanzlei ?? request.query.kanzlei;
    if (kanzlei === undefined || kanzlei.trim() === '')
      throw badRequest('The Kanzlei query parameter is required (?Kanzlei=<Kanzleikennung>).');
    // [UNCONFIRMED] The vendor's answer for an unknown firm is not documented; a 404 with the
    // "ist nicht registriert" fragment public code matches elsewhere (reference §7).
    if (!sameName(kanzlei.trim(), options.kanzlei))
      throw notFound(`Die Kanzlei ${kanzlei} ist nicht registriert.`);
    return options.answer();
  });
}
