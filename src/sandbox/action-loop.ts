/**
 * The timer of a traffic generator: one action, then a pause of `intervalMs`, then the next, until stopped.
 * The pause starts when an action ends, so a slow simulator never gets actions piling up.
 */
import type { Logger } from '../ports/logger.ts';

/** Runs `action` every `intervalMs` after the previous one ended; see the module comment. */
export class ActionLoop {
  readonly #intervalMs: number;
  readonly #action: () => Promise<unknown>;
  readonly #logger: Logger;
  #timer: NodeJS.Timeout | undefined;
  #current: Promise<void> | undefined;
  /** True until start() and after stop(): nothing is scheduled. */
  #stopped = true;

  constructor(options: {
    readonly intervalMs: number;
    readonly action: () => Promise<unknown>;
    /** Where a failed action is logged. */
    readonly logger: Logger;
  }) {
    this.#intervalMs = options.intervalMs;
    this.#action = options.action;
    this.#logger = options.logger;
  }

  /** Whether actions are scheduled. */
  get running(): boolean {
    return !this.#stopped;
  }

  /** Schedules the first action one interval from now. Starting a started loop does nothing. */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#schedule();
  }

  /** Stops scheduling and waits for an action in progress. Safe to call twice. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#current;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#current = this.#action().then(
        () => undefined,
        // A failed action (the simulator is busy with a fault, say) is logged; the users keep working.
        (error: unknown) => this.#logger.warn({ err: error }, 'traffic: action failed'),
      );
      void this.#current.then(() => this.#schedule());
    }, this.#intervalMs);
  }
}
