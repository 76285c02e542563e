/**
 * The traffic generator: every `intervalMs` one human action in the SuperOffice simulator, as the users of
 * the shared tenant would make it in the UI (through `/_sim/act/:user/:entity[/:id]`, so the simulator's
 * webhooks carry that user as `ChangedByAssociateId`). What is done is decided by {@link TrafficPlanner}.
 * Each action is logged at info level:
 * `{"component":"traffic","action":"create-company","entity":"Contact","id":31,"user":"RKAB",...}`.
 */
import { z } from 'zod';
import type { Logger } from '../ports/logger.ts';
import { ActionLoop } from './action-loop.ts';
import { SandboxError } from './errors.ts';
import { callSimulator } from './simulator-http.ts';
import { TrafficPlanner } from './traffic-plan.ts';
import type { PlannedAction } from './traffic-plan.ts';

/** Options of {@link TrafficGenerator}. */
export interface TrafficGeneratorOptions {
  /** The simulator's base URL (its admin API is under `/_sim/`). */
  readonly simulatorUrl: string;
  /** Short names of the acting users; each must exist in the simulated tenant. */
  readonly users: readonly string[];
  /** Seed of the choices: the same seed on the same starting data gives the same actions. */
  readonly seed: number;
  /** Pause between the end of one action and the start of the next. */
  readonly intervalMs: number;
  readonly logger: Logger;
}

/** An action the simulator carried out: the plan and the id of the record it created or changed. */
export interface PerformedAction extends PlannedAction {
  readonly id: number;
}

/** The part of `/_sim/state` the generator reads: who may act, and which records exist. */
const tenantSchema = z.object({
  tenant: z.object({
    associates: z.array(z.object({ name: z.string() })),
    contacts: z.array(
      z.object({
        contactId: z.number(),
        name: z.string(),
        department: z.string(),
        urls: z.array(z.object({ value: z.string() })),
      }),
    ),
    persons: z.array(z.object({ personId: z.number(), title: z.string() })),
  }),
});

/** Generates simulated user activity; see the module comment. */
export class TrafficGenerator {
  readonly #options: TrafficGeneratorOptions;
  readonly #logger: Logger;
  readonly #loop: ActionLoop;
  #planner: TrafficPlanner | undefined;

  constructor(options: TrafficGeneratorOptions) {
    this.#options = options;
    this.#logger = options.logger.child({ component: 'traffic' });
    this.#loop = new ActionLoop({
      intervalMs: options.intervalMs,
      action: () => this.step(),
      logger: this.#logger,
    });
  }

  /**
   * Reads the tenant (the users must exist: a SandboxError names the unknown ones) and schedules the first
   * action one interval from now. Starting a started generator does nothing.
   */
  async start(): Promise<void> {
    await this.#prepare();
    if (this.#loop.running) return;
    this.#loop.start();
    this.#logger.info(
      { users: this.#options.users, intervalMs: this.#options.intervalMs, seed: this.#options.seed },
      'traffic: simulated users start working',
    );
  }

  /** Performs the next action now and returns it (tests drive the generator this way, without a timer). */
  async step(): Promise<PerformedAction> {
    const planner = await this.#prepare();
    const planned = planner.next();
    const path = planned.id === undefined ? planned.entity : `${planned.entity}/${planned.id}`;
    const answer = await callSimulator({
      method: 'POST',
      url: `${this.#options.simulatorUrl}/_sim/act/${encodeURIComponent(planned.user)}/${path}`,
      body: planned.body,
    });
    const id = (answer as { id?: unknown } | undefined)?.id;
    if (typeof id !== 'number')
      throw new SandboxError('SANDBOX_SIMULATOR_FAILED', `/_sim/act/.../${path} answered without an id.`);
    planner.performed(planned, id);
    const performed: PerformedAction = { ...planned, id };
    this.#logger.info(
      { action: performed.action, entity: performed.entity, id, user: performed.user },
      `traffic: ${performed.user} ${performed.summary}`,
    );
    return performed;
  }

  /** Stops scheduling and waits for an action in progress. Safe to call twice. */
  stop(): Promise<void> {
    return this.#loop.stop();
  }

  async #prepare(): Promise<TrafficPlanner> {
    if (this.#planner !== undefined) return this.#planner;
    const url = `${this.#options.simulatorUrl}/_sim/state`;
    const parsed = tenantSchema.safeParse(await callSimulator({ method: 'GET', url }));
    if (!parsed.success)
      throw new SandboxError('SANDBOX_SIMULATOR_FAILED', `GET ${url}: ${z.prettifyError(parsed.error)}`);
    const { associates, contacts, persons } = parsed.data.tenant;
    const known = new Set(associates.map((associate) => associate.name));
    const unknown = this.#options.users.filter((user) => !known.has(user));
    if (unknown.length > 0)
      throw new SandboxError(
        'SANDBOX_UNKNOWN_USER',
        `sandbox.superoffice.traffic.users: the simulated tenant has no user ${unknown.join(', ')}; its users are ${[...known].join(', ')}.`,
      );
    this.#planner ??= new TrafficPlanner({
      seed: this.#options.seed,
      users: this.#options.users,
      companies: contacts.map((contact) => ({
        id: contact.contactId,
        name: contact.name,
        department: contact.department,
        website: contact.urls[0]?.value ?? '',
      })),
      persons: persons.map((person) => ({ id: person.personId, jobTitle: person.title })),
    });
    return this.#planner;
  }
}
