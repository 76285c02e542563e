/**
 * The Advoware simulator: a real HTTP server that behaves like the advoware REST API as the reference and
 * seeds 003/004 describe it (configurator, security gateway with the HMAC-SHA512 token request, Beteiligte
 * and Kommunikationen with the seeds' quirks, each switchable), plus the `/_sim/` admin API.
 *
 * ```ts
 * const sim = await startAdvowareSimulator({ seed: 50 });
 * // GET `${sim.configuratorUrl}?Kanzlei=${sim.credentials.kanzlei}`, then the token, then the API ...
 * await sim.close();
 * ```
 */
export { startAdvowareSimulator } from './server.ts';
export type { AdvowareSimulator, AdvowareSimulatorOptions } from './server.ts';
export { DEFAULT_SIM_CREDENTIALS } from './credentials.ts';
export type { AdvowareCredentials } from './credentials.ts';
export { initialQuirks } from './quirks.ts';
export type { AdvowareQuirks } from './quirks.ts';
export { DEFAULT_EXTRA_FIELDS } from './schema.ts';
export { DEFAULT_DEMO_COUNT, DEMO_SEED } from './seed.ts';
export { CONFIGURATOR_PATH, SERVICE_PREFIXES } from './configurator.ts';
export type { ConfiguratorAnswer } from './configurator.ts';
export { EVENT_HEADER, SIGNATURE_HEADER, signChangeWebhook } from './webhooks.ts';
export type { DeliveryAttempt } from './webhooks.ts';
export type { ChangeEventName, SimChange } from './mutations.ts';
export type { ErrorBodyBuilder } from './errors.ts';
