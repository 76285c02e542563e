/**
 * The SuperOffice WebAPI simulator: a real HTTP server that behaves like SuperOffice CRM Online as described
 * in the reference (auth host, tenant status, tenant API, webhooks, admin API under `/_sim/`).
 *
 * ```ts
 * const sim = await startSuperOfficeSimulator({ clock });
 * // sim.url, sim.tenantUrl, sim.credentials ... then await sim.close();
 * ```
 */
import { startSimulator } from './server.ts';
import type { SuperOfficeSimulator, SuperOfficeSimulatorOptions } from './server.ts';
import { WebhookHub } from './webhooks.ts';

export type { SuperOfficeSimulator, SuperOfficeSimulatorOptions, WebhookHubOptions } from './server.ts';
export type { ErrorBodyBuilder, FaultRule, FaultSettings } from '../kit/index.ts';
export type { CoreQuirks } from './admin-routes.ts';
export { DEMO_SEED } from './seed.ts';

/** Starts a simulator (listening once the promise resolves). Close it with `close()`. */
export function startSuperOfficeSimulator(
  options: SuperOfficeSimulatorOptions = {},
): Promise<SuperOfficeSimulator> {
  return startSimulator(options, options.createHub ?? ((hubOptions) => new WebhookHub(hubOptions)));
}

/**
 * The options of a `superoffice` connection that talks to `sim` (its credentials, tenant and address), for
 * tests, benchmarks and demos; add webhook settings and limits as needed.
 */
export function simulatorConnectionOptions(sim: Pick<SuperOfficeSimulator, 'url' | 'credentials'>) {
  return {
    clientId: sim.credentials.clientId,
    clientSecret: sim.credentials.clientSecret,
    refreshToken: sim.credentials.refreshToken,
    contextIdentifier: sim.credentials.contextIdentifier,
    environment: 'sod',
    authBaseUrl: sim.url,
  } as const;
}
