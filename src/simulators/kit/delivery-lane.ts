/**
 * The delivery queue of one webhook target. Events are delivered one after the other, in the order they
 * were emitted, while different targets' lanes run concurrently. A lane drains in batches: everything
 * pending when it starts (or finishes the previous batch) is one batch, which the `reorder` option shuffles
 * (a vendor quirk, e.g. SuperOffice's reordered deliveries). The first batch starts on the next turn of the
 * event loop, so events emitted together form one batch.
 */

/** What became of one item: finished (delivered or given up), or to be tried again at the back of the queue. */
export type LaneOutcome = 'done' | 'requeue';

/** What a lane needs. */
export interface DeliveryLaneOptions<T> {
  /** Delivers one item (a whole retry cycle). Must not throw; stops early when `signal` aborts. */
  readonly deliver: (item: T, signal: AbortSignal) => Promise<LaneOutcome>;
  /** Whether to shuffle each batch (read per batch, so the quirk applies at once). */
  readonly reorder: () => boolean;
  /** Random numbers in [0, 1) for the shuffle; seeded in tests. */
  readonly random: () => number;
  /** Receives every drain, so the hub can wait for all of them (`idle()`, `close()`). */
  readonly track: (work: Promise<void>) => void;
}

/** Shuffles `items` in place (Fisher-Yates) with `random`. */
export function shuffleInPlace<T>(items: T[], random: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
}

/** One webhook target's queue. */
export class DeliveryLane<T> {
  readonly #options: DeliveryLaneOptions<T>;
  readonly #queue: T[] = [];
  #controller = new AbortController();
  #draining = false;
  #start: { immediate: NodeJS.Immediate; settle: () => void } | undefined;

  constructor(options: DeliveryLaneOptions<T>) {
    this.#options = options;
  }

  /** Queues `items` and starts draining on the next turn if the lane is not already at work. */
  push(...items: T[]): void {
    this.#queue.push(...items);
    this.#schedule();
  }

  /** Drops everything pending and aborts the delivery in flight; the lane can take new items afterwards. */
  clear(): void {
    this.#queue.length = 0;
    this.#controller.abort();
    this.#controller = new AbortController();
    if (this.#start !== undefined) {
      clearImmediate(this.#start.immediate);
      this.#start.settle();
      this.#start = undefined;
    }
  }

  #schedule(): void {
    if (this.#draining || this.#start !== undefined || this.#queue.length === 0) return;
    this.#options.track(
      new Promise<void>((settle) => {
        const immediate = setImmediate(() => {
          this.#start = undefined;
          this.#draining = true;
          void this.#drain(this.#controller.signal).finally(() => {
            this.#draining = false;
            settle();
            // Items pushed while the drain was ending, or after a clear() aborted it, start a new drain.
            this.#schedule();
          });
        });
        this.#start = { immediate, settle };
      }),
    );
  }

  async #drain(signal: AbortSignal): Promise<void> {
    while (this.#queue.length > 0 && !signal.aborted) {
      const batch = this.#queue.splice(0);
      if (this.#options.reorder()) shuffleInPlace(batch, this.#options.random);
      for (const item of batch) {
        if (signal.aborted) return;
        // After a failed cycle the item goes to the back of the queue, behind everything now pending.
        if ((await this.#options.deliver(item, signal)) === 'requeue' && !signal.aborted)
          this.#queue.push(item);
      }
    }
  }
}
