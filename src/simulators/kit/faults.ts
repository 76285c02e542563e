/**
 * Switchable faults (DESIGN.md "Simulators"): latency, 429 with Retry-After, 5xx, hanging requests and
 * answers lost after the request was applied, each on every n-th matching request or with a probability drawn
 * from a seeded PRNG (so a failing run can be repeated), optionally limited to route templates and to a number
 * of times. The vendors' throttling is mostly [UNCONFIRMED], which is why all of this is opt-in.
 */
import { z } from 'zod';
import { seededRandom } from '../../core/random.ts';
import { SimHttpError } from './http-error.ts';

const faultRuleShape = {
  everyNth: z.number().int().positive().optional(),
  probability: z.number().min(0).max(1).optional(),
  /** Route templates as `/_sim/requests` names them (e.g. `GET /{ctx}/api/v1/Contact/:id`); default all. */
  routes: z.array(z.string()).optional(),
  /** Fires at most this many times (counted since the faults were set); default without limit. */
  times: z.number().int().positive().optional(),
};

/**
 * Faults to inject (`POST /_sim/faults`). A rule fires on every n-th matching request, or with a
 * probability, or (with neither) on every matching request.
 */
export const faultSettingsSchema = z.strictObject({
  /** Added to every request (except the admin API). */
  latencyMs: z.number().int().min(0).optional(),
  status429: z
    .strictObject({ ...faultRuleShape, retryAfterSeconds: z.number().int().min(0).optional() })
    .optional(),
  status5xx: z
    .strictObject({ ...faultRuleShape, status: z.number().int().min(500).max(599).optional() })
    .optional(),
  /** Requests that are never answered: the connection is dropped after `hangMs` (default 30 s) or at close. */
  timeout: z.strictObject({ ...faultRuleShape, hangMs: z.number().int().min(0).optional() }).optional(),
  /** Shorthand: every request of these route templates hangs. */
  timeoutRoutes: z.array(z.string()).optional(),
  /**
   * Requests that are applied but never answered: the route runs (a POST creates its record), then the
   * connection is closed instead of sending the answer, as when a connection resets after the vendor
   * committed. Counted with status 0. What clients must survive without repeating a create.
   */
  dropAnswer: z.strictObject(faultRuleShape).optional(),
  /** Seed of the probability draws (default 1). */
  seed: z.number().int().optional(),
});

/** Faults to inject; see {@link faultSettingsSchema}. */
export type FaultSettings = z.output<typeof faultSettingsSchema>;

/** One fault's trigger. */
export interface FaultRule {
  readonly everyNth?: number | undefined;
  readonly probability?: number | undefined;
  readonly routes?: readonly string[] | undefined;
  readonly times?: number | undefined;
}

/** Holds the active faults and decides, per request, which one fires. */
export class FaultInjector {
  #settings: FaultSettings = {};
  #random = seededRandom(1);
  readonly #counters = new Map<string, number>();
  readonly #hanging = new Set<() => void>();

  /** Replaces the active faults (and restarts their counters and random sequence). */
  set(settings: FaultSettings): void {
    this.#settings = settings;
    this.#random = seededRandom(settings.seed ?? 1);
    this.#counters.clear();
  }

  /** The active faults. */
  get settings(): FaultSettings {
    return this.#settings;
  }

  /** Switches every fault off. */
  clear(): void {
    this.set({});
  }

  #fires(name: string, rule: FaultRule | undefined, route: string): boolean {
    if (rule === undefined) return false;
    if (rule.routes !== undefined && !rule.routes.includes(route)) return false;
    const count = this.#count(name);
    const fired = this.#counters.get(`${name} fired`) ?? 0;
    if (rule.times !== undefined && fired >= rule.times) return false;
    const fires =
      rule.everyNth !== undefined
        ? count % rule.everyNth === 0
        : rule.probability === undefined || this.#random() < rule.probability;
    if (fires) this.#count(`${name} fired`);
    return fires;
  }

  #count(name: string): number {
    const count = (this.#counters.get(name) ?? 0) + 1;
    this.#counters.set(name, count);
    return count;
  }

  /** Whether the answer to this request of `route` is to be dropped once the route has run. */
  dropsAnswer(route: string): boolean {
    return this.#fires('dropAnswer', this.#settings.dropAnswer, route);
  }

  /** Applies the faults to one request of `route`: waits, hangs (then calls `destroy`), or throws the answer. */
  async apply(route: string, destroy: () => void): Promise<void> {
    const settings = this.#settings;
    if (settings.latencyMs !== undefined && settings.latencyMs > 0) await this.#wait(settings.latencyMs);
    const hangs =
      settings.timeoutRoutes?.includes(route) === true || this.#fires('timeout', settings.timeout, route);
    if (hangs) {
      await this.#wait(settings.timeout?.hangMs ?? 30_000);
      destroy();
      return;
    }
    const throttle = settings.status429;
    if (this.#fires('429', throttle, route)) {
      const seconds = throttle?.retryAfterSeconds ?? 1;
      throw new SimHttpError(429, 'TooManyRequests', 'Simulated throttling: too many requests.', {
        'retry-after': String(seconds),
      });
    }
    const failure = settings.status5xx;
    if (this.#fires('5xx', failure, route))
      throw new SimHttpError(failure?.status ?? 503, 'ServerError', 'Simulated server failure.');
  }

  /** A wait that {@link close} cuts short, so a closing simulator never waits for a hanging request. */
  #wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#hanging.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#hanging.add(done);
    });
  }

  /** Ends every pending wait. */
  close(): void {
    for (const done of [...this.#hanging]) done();
  }
}
