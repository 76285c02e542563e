/**
 * What happens to every request outside the admin API before the simulator kit's faults and counting
 * (which name requests by method and route template, `GET /relay/api/v1/advonet/Beteiligte/:betnr`, so a
 * test can see which base URL a client used): the optional request budget (quirk
 * `requestBudgetPerSecond`, [INF] the vendor documents no limit, reference §8).
 */
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../ports/clock.ts';
import { isSimAdminRequest } from '../kit/index.ts';
import { SimHttpError } from './errors.ts';

/** Counts requests per second of the simulator's clock. */
export class RequestBudget {
  readonly #clock: Clock;
  #second = Number.NaN;
  #used = 0;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Takes one request from the current second's budget; the seconds until the next one when none is left. */
  take(perSecond: number): { ok: true } | { ok: false; retryAfterSeconds: number } {
    const now = this.#clock.now();
    const second = Math.floor(now / 1000);
    if (second !== this.#second) {
      this.#second = second;
      this.#used = 0;
    }
    if (this.#used >= perSecond) return { ok: false, retryAfterSeconds: 1 };
    this.#used++;
    return { ok: true };
  }
}

/** What {@link installRequestBudget} needs. */
export interface RequestBudgetOptions {
  readonly budget: RequestBudget;
  /** The current budget per second; 0 = unlimited. */
  readonly budgetPerSecond: () => number;
}

/**
 * Answers 429 with Retry-After once the second's budget is used up. Install it before the kit's faults
 * and counting: a refused request is still counted (with its 429), and no fault applies to it.
 */
export function installRequestBudget(app: FastifyInstance, options: RequestBudgetOptions): void {
  app.addHook('onRequest', (request, _reply, done) => {
    const perSecond = options.budgetPerSecond();
    if (isSimAdminRequest(request) || perSecond <= 0) return done();
    const taken = options.budget.take(perSecond);
    if (taken.ok) return done();
    done(
      new SimHttpError(429, 'TooManyRequests', 'Zu viele Anfragen: the request budget is used up.', {
        'retry-after': String(taken.retryAfterSeconds),
      }),
    );
  });
}
