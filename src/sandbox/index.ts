/**
 * The sandbox: vendor simulators that `crmsync serve` starts in-process when the config has a `sandbox`
 * section (the demo of `npm start`), and that `crmsync sandbox` runs on their own. `sandbox.superoffice` is
 * the SuperOffice tenant of the enrich flow (superoffice-sandbox.ts), `sandbox.beteiligte` the EspoCRM and
 * Advoware simulators of a Beteiligte sync flow (beteiligte.ts); each comes with simulated users.
 *
 * In `crmsync serve` the order is:
 * 1. {@link startSandbox} starts the simulators before crmsync, so the connections bound to a simulator can
 *    be pointed at it: the returned `config` has those connections' URLs set to the simulators' addresses
 *    (which port 0 only decides now), and the EspoCRM connection's `webhookSecrets` set to the secretKeys the
 *    simulator made for its webhooks.
 * 2. crmsync starts with that config and listens.
 * 3. {@link RunningSandbox.connect} points the simulators' webhooks at crmsync's URL (the SuperOffice
 *    simulator test-posts to it, so crmsync must listen first) and starts the simulated users' traffic.
 * 4. On shutdown: {@link RunningSandbox.stopTraffic}, then crmsync drains its jobs (which may still call the
 *    simulators), then {@link RunningSandbox.close}.
 */
import type { Config, ConnectionConfig } from '../config/index.ts';
import type { Logger } from '../ports/logger.ts';
import type { AdvowareSimulator } from '../simulators/advoware/index.ts';
import type { EspoCrmSimulator } from '../simulators/espocrm/index.ts';
import type { SuperOfficeSimulator } from '../simulators/superoffice/index.ts';
import { startBeteiligteSandbox } from './beteiligte.ts';
import type { RunningBeteiligteSandbox } from './beteiligte.ts';
import { startSuperOfficeSandbox } from './superoffice-sandbox.ts';
import type { RunningSuperOfficeSandbox } from './superoffice-sandbox.ts';

export { SandboxError } from './errors.ts';
export type { SandboxErrorCode } from './errors.ts';
export { BETEILIGTE_WEBHOOK_EVENTS, startBeteiligteSandbox } from './beteiligte.ts';
export type { RunningBeteiligteSandbox } from './beteiligte.ts';
export { BeteiligteTrafficGenerator } from './beteiligte-traffic.ts';
export type { BeteiligteTrafficOptions, PerformedBeteiligteAction } from './beteiligte-traffic.ts';
export { BETEILIGTE_ACTIONS, BeteiligtePlanner } from './beteiligte-traffic-plan.ts';
export type { BeteiligteAction, BeteiligteActionKind, BeteiligteWorld } from './beteiligte-traffic-plan.ts';
export { startSandboxSimulator, superOfficeInstructions } from './superoffice.ts';
export type { SuperOfficeSimulatorSettings } from './superoffice.ts';
export { sandboxWebhookName, startSuperOfficeSandbox } from './superoffice-sandbox.ts';
export type { RunningSuperOfficeSandbox } from './superoffice-sandbox.ts';
export { TrafficGenerator } from './traffic.ts';
export type { PerformedAction, TrafficGeneratorOptions } from './traffic.ts';
export { TRAFFIC_ACTIONS, TrafficPlanner, websiteOf } from './traffic-plan.ts';
export type { PlannedAction, TrafficActionKind } from './traffic-plan.ts';
export { ensureSimulatorWebhook } from './webhook-registration.ts';
export type { SimulatorWebhook, WebhookRegistrationOutcome } from './webhook-registration.ts';
export { webhookTargetUrl } from './webhook-target.ts';

/** The running simulators of a config's `sandbox` section. */
export interface RunningSandbox {
  /** The config to start crmsync with: connections bound to a simulator point at it. */
  readonly config: Config;
  /** The SuperOffice simulator, with `sandbox.superoffice`. */
  readonly superoffice: SuperOfficeSimulator | undefined;
  /** The EspoCRM simulator, with `sandbox.beteiligte`. */
  readonly espocrm: EspoCrmSimulator | undefined;
  /** The Advoware simulator, with `sandbox.beteiligte`. */
  readonly advoware: AdvowareSimulator | undefined;
  /**
   * Once crmsync listens at `serverUrl` (e.g. `http://127.0.0.1:8787`): points the webhooks at it
   * (idempotent) and starts the traffic, as configured. A second call starts no second traffic.
   */
  connect(serverUrl: string): Promise<void>;
  /** Stops the simulated users; waits for an action in progress. */
  stopTraffic(): Promise<void>;
  /** Stops the traffic and the simulators. Safe to call twice. */
  close(): Promise<void>;
}

/** What both halves of the sandbox offer. */
type SandboxPart = RunningSuperOfficeSandbox | RunningBeteiligteSandbox;

/**
 * Starts the simulators of `config.sandbox`, or returns null when it configures none. See the module comment
 * for what happens next. If one half fails to start, the other is stopped again before the error propagates.
 */
export async function startSandbox(
  config: Config,
  deps: { readonly logger: Logger },
): Promise<RunningSandbox | null> {
  const settings = config.sandbox;
  if (settings?.superoffice === undefined && settings?.beteiligte === undefined) return null;
  const superoffice =
    settings.superoffice === undefined
      ? undefined
      : await startSuperOfficeSandbox(settings.superoffice, config, deps);
  let beteiligte: RunningBeteiligteSandbox | undefined;
  try {
    beteiligte =
      settings.beteiligte === undefined
        ? undefined
        : await startBeteiligteSandbox(settings.beteiligte, config, deps);
  } catch (error) {
    await superoffice?.close();
    throw error;
  }
  const parts: SandboxPart[] = [superoffice, beteiligte].filter((part) => part !== undefined);

  const connections = new Map<string, ConnectionConfig>(config.connections);
  for (const connection of parts.flatMap((part) => part.connections))
    connections.set(connection.name, connection);
  const stopTraffic = async () => {
    await Promise.all(parts.map((part) => part.stopTraffic()));
  };
  let closing: Promise<void> | undefined;
  return {
    config: { ...config, connections },
    superoffice: superoffice?.simulator,
    espocrm: beteiligte?.espocrm,
    advoware: beteiligte?.advoware,
    async connect(serverUrl) {
      for (const part of parts) await part.connect(serverUrl);
    },
    stopTraffic,
    close() {
      closing ??= (async () => {
        await stopTraffic();
        for (const part of parts) await part.close();
      })();
      return closing;
    },
  };
}
