/**
 * The Beteiligte demo's traffic generator: every `intervalMs` one human action in the EspoCRM or the Advoware
 * simulator (through their `/_sim/act/:user/...` routes, as a user of the vendor's UI), or a same-field edit
 * on both sides at once. What is done is decided by {@link BeteiligtePlanner} on the records both simulators
 * hold right now (the sync creates and changes records too). Each action is logged at info level:
 * `{"component":"beteiligte-traffic","action":"edit-in-advoware","ids":["1001"],...}`.
 */
import { z } from 'zod';
import type { Logger } from '../ports/logger.ts';
import { ActionLoop } from './action-loop.ts';
import { BeteiligtePlanner } from './beteiligte-traffic-plan.ts';
import type { BeteiligteAction, BeteiligteEdit, BeteiligteWorld } from './beteiligte-traffic-plan.ts';
import { SandboxError } from './errors.ts';
import { callSimulator } from './simulator-http.ts';

/** Options of {@link BeteiligteTrafficGenerator}. */
export interface BeteiligteTrafficOptions {
  /** The EspoCRM simulator's base URL and an API key it accepts (the records are read through its API). */
  readonly espocrm: { readonly url: string; readonly apiKey: string };
  /** The Advoware simulator's base URL (its records are read from `/_sim/state`). */
  readonly advoware: { readonly url: string };
  /** Seed of the choices: the same seed on the same records gives the same actions. */
  readonly seed: number;
  /** Chance (0..1) of a same-field edit on both sides of a linked pair. */
  readonly conflictChance: number;
  /** Pause between the end of one action and the start of the next. */
  readonly intervalMs: number;
  readonly logger: Logger;
}

/** An action the simulators carried out: the plan and the ids of the records created or changed. */
export interface PerformedBeteiligteAction extends BeteiligteAction {
  /** Per edit, in order: the CBeteiligte id or the betNr. */
  readonly ids: readonly string[];
}

/** The newest records the planner looks at per side (a long-running demo keeps growing). */
const WORLD_SIZE = 200;

const espoListSchema = z.object({
  list: z.array(
    z.object({
      id: z.string(),
      firstName: z.string().nullish(),
      lastName: z.string().nullish(),
      firmenname: z.string().nullish(),
      advowareId: z.number().nullish(),
    }),
  ),
});

const advoStateSchema = z.object({
  data: z.object({
    beteiligte: z.array(
      z.object({
        betNr: z.number(),
        fields: z.record(z.string(), z.string().nullable()),
      }),
    ),
  }),
});

const actAnswerSchema = z.object({ id: z.union([z.string(), z.number()]) });

/** Generates simulated user activity in EspoCRM and Advoware; see the module comment. */
export class BeteiligteTrafficGenerator {
  readonly #options: BeteiligteTrafficOptions;
  readonly #logger: Logger;
  readonly #planner: BeteiligtePlanner;
  readonly #loop: ActionLoop;

  constructor(options: BeteiligteTrafficOptions) {
    this.#options = options;
    this.#logger = options.logger.child({ component: 'beteiligte-traffic' });
    this.#planner = new BeteiligtePlanner({ seed: options.seed, conflictChance: options.conflictChance });
    this.#loop = new ActionLoop({
      intervalMs: options.intervalMs,
      action: () => this.step(),
      logger: this.#logger,
    });
  }

  /** Schedules the first action one interval from now. Starting a started generator does nothing. */
  start(): void {
    if (this.#loop.running) return;
    this.#loop.start();
    const { intervalMs, seed, conflictChance } = this.#options;
    this.#logger.info(
      { intervalMs, seed, conflictChance },
      'traffic: simulated users start working in EspoCRM and Advoware',
    );
  }

  /** Performs the next action now and returns it (tests drive the generator this way, without a timer). */
  async step(): Promise<PerformedBeteiligteAction> {
    const planned = this.#planner.next(await this.readWorld());
    const ids: string[] = [];
    // In order and back to back: a both-sides edit lands in Advoware right after EspoCRM, well before
    // EspoCRM's webhook reaches crmsync, so the run reads both changes.
    for (const edit of planned.edits) ids.push(await this.#perform(edit));
    const performed: PerformedBeteiligteAction = { ...planned, ids };
    this.#logger.info({ action: performed.action, ids }, `traffic: ${performed.summary}`);
    return performed;
  }

  /** Stops scheduling and waits for an action in progress. Safe to call twice. */
  stop(): Promise<void> {
    return this.#loop.stop();
  }

  /** The newest records of both simulators. */
  async readWorld(): Promise<BeteiligteWorld> {
    const { espocrm, advoware } = this.#options;
    const query = new URLSearchParams({
      maxSize: String(WORLD_SIZE),
      orderBy: 'createdAt',
      order: 'desc',
      select: 'firstName,lastName,firmenname,advowareId',
    });
    const espoUrl = `${espocrm.url}/api/v1/CBeteiligte?${query.toString()}`;
    const espoList = parse(
      espoListSchema,
      await callSimulator({ method: 'GET', url: espoUrl, headers: { 'x-api-key': espocrm.apiKey } }),
      espoUrl,
    );
    const advoUrl = `${advoware.url}/_sim/state`;
    const advoState = parse(advoStateSchema, await callSimulator({ method: 'GET', url: advoUrl }), advoUrl);
    return {
      espocrm: espoList.list.map((record) => ({
        id: record.id,
        firstName: record.firstName ?? null,
        lastName: record.lastName ?? null,
        firmenname: record.firmenname ?? null,
        advowareId: record.advowareId ?? null,
      })),
      advoware: advoState.data.beteiligte.slice(-WORLD_SIZE).map((record) => ({
        betNr: record.betNr,
        name: record.fields['name'] ?? '',
        vorname: record.fields['vorname'] ?? null,
      })),
    };
  }

  async #perform(edit: BeteiligteEdit): Promise<string> {
    const base = edit.side === 'espocrm' ? this.#options.espocrm.url : this.#options.advoware.url;
    const entity = edit.side === 'espocrm' ? 'CBeteiligte' : 'Beteiligte';
    const path = `${encodeURIComponent(edit.user)}/${entity}${edit.id === undefined ? '' : `/${encodeURIComponent(edit.id)}`}`;
    const url = `${base}/_sim/act/${path}`;
    const answer = parse(actAnswerSchema, await callSimulator({ method: 'POST', url, body: edit.body }), url);
    return String(answer.id);
  }
}

function parse<T>(schema: z.ZodType<T>, value: unknown, url: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw new SandboxError(
      'SANDBOX_SIMULATOR_FAILED',
      `${url} answered unexpectedly: ${z.prettifyError(parsed.error)}`,
    );
  return parsed.data;
}
