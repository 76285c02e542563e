/**
 * The EspoCRM simulator: a real HTTP server that behaves like EspoCRM 10.0 as described in
 * `reference/espocrm-api.md` (auth modes, record CRUD with the e-mail/phone semantics, lists with `where`,
 * optimistic concurrency, the duplicate check, webhooks with the vendor's queue and signatures,
 * notifications, the stream) for Account, Contact and the seed's custom `CBeteiligte`, plus an admin API
 * under `/_sim/` (reset, seed, act as a user, faults, quirks, request counts, the webhook job).
 *
 * ```ts
 * const sim = await startEspoCrmSimulator({ webhookIntervalMs: 50 });
 * // fetch(`${sim.url}/api/v1/Account`, { headers: { 'X-Api-Key': sim.credentials.apiKey } }) ...
 * await sim.close();
 * ```
 */
import { startServer } from './server.ts';
import type { EspoCrmSimulator, EspoCrmSimulatorOptions } from './server.ts';

export type { EspoCrmSimulator, EspoCrmSimulatorOptions } from './server.ts';
export type { EspoCrmQuirks, QuirksInput } from './quirks.ts';
export type { DeliveryRecord } from './state.ts';
export type { EntityType } from './entity-defs.ts';
export { ENTITY_TYPES } from './entity-defs.ts';
export { DEMO_COUNTS, DEMO_FIRST_ADVOWARE_ID, DEMO_SEED } from './seed.ts';
export { API_USER_NAME, DEFAULT_API_KEY, DEFAULT_SECRET_KEY, HUMAN_USERS } from './users.ts';
export { phpJsonEncode } from './php-json.ts';

/** Starts a simulator, listening once the promise resolves. Close it with `close()`. */
export function startEspoCrmSimulator(options: EspoCrmSimulatorOptions = {}): Promise<EspoCrmSimulator> {
  return startServer(options);
}
