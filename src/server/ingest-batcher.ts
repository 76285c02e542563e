/**
 * Group commit for webhook ingest. A durable commit per request would cap ingest at the storage's commit
 * rate; instead, the inputs of concurrent requests are collected for at most `maxWaitMs` (or until
 * `maxBatch` inputs are waiting) and written with one `queue.enqueueMany`, which is one durable commit.
 * Every request is answered only after the commit that holds its inputs succeeded, so a 2xx still means
 * "stored". When a group commit fails, its requests are committed again one by one, so that one input that
 * cannot be stored fails alone; a request whose own commit fails gets the error (a 503 the vendor retries,
 * unless the input itself was refused).
 */
import { CrmsyncError, StorageError } from '../core/errors.ts';
import type { Logger } from '../ports/logger.ts';
import type { EnqueueResult, JobInput, Queue } from '../ports/queue.ts';

/** Group commit settings. */
export interface IngestSettings {
  /** Most inputs one commit holds (a single larger request still commits alone). */
  readonly maxBatch: number;
  /** Longest an input waits for its batch to fill, in milliseconds; 0 batches what arrives in one tick. */
  readonly maxWaitMs: number;
}

/** The inputs of one request, waiting for their commit. */
interface Entry {
  readonly inputs: readonly JobInput[];
  resolve(results: EnqueueResult[]): void;
  reject(error: unknown): void;
}

/** Collects inputs of concurrent requests into group commits. One commit is in flight at a time. */
export class IngestBatcher {
  readonly #queue: Pick<Queue, 'enqueueMany'>;
  readonly #settings: IngestSettings;
  readonly #logger: Logger;
  readonly #onCommit: (inputs: number) => void;
  #pending: Entry[] = [];
  #pendingInputs = 0;
  #timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  /** True while #drain runs; a flag rather than the promise, because a drain can finish synchronously. */
  #draining = false;
  #drained: Promise<void> = Promise.resolve();
  #closing = false;

  constructor(options: {
    queue: Pick<Queue, 'enqueueMany'>;
    settings: IngestSettings;
    logger: Logger;
    /** Called after each successful commit with its number of inputs (metrics). */
    onCommit?: (inputs: number) => void;
  }) {
    this.#queue = options.queue;
    this.#settings = options.settings;
    this.#logger = options.logger;
    this.#onCommit = options.onCommit ?? (() => {});
  }

  /**
   * Stores `inputs` durably with the next group commit. Resolves with one result per input, in order, once
   * the commit succeeded; rejects with {@link StorageError} when it failed.
   */
  submit(inputs: readonly JobInput[]): Promise<EnqueueResult[]> {
    if (inputs.length === 0) return Promise.resolve([]);
    return new Promise<EnqueueResult[]>((resolve, reject) => {
      this.#pending.push({ inputs, resolve, reject });
      this.#pendingInputs += inputs.length;
      this.#schedule();
    });
  }

  /** Commits what is waiting at once and resolves when no commit is left; later submits commit at once. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#schedule();
    while (this.#draining) await this.#drained;
  }

  #schedule(): void {
    // A running drain picks the waiting entries up when its commit ends.
    if (this.#draining || this.#pending.length === 0) return;
    if (this.#closing || this.#pendingInputs >= this.#settings.maxBatch) {
      this.#cancelTimer();
      this.#startDrain();
    } else if (this.#timer === undefined) {
      const flush = () => {
        this.#timer = undefined;
        if (!this.#draining) this.#startDrain();
      };
      this.#timer =
        this.#settings.maxWaitMs > 0 ? setTimeout(flush, this.#settings.maxWaitMs) : setImmediate(flush);
    }
  }

  #cancelTimer(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer as NodeJS.Timeout);
    clearImmediate(this.#timer as NodeJS.Immediate);
    this.#timer = undefined;
  }

  #startDrain(): void {
    this.#draining = true;
    this.#drained = this.#drain();
  }

  /**
   * Commits batches until nothing waits. Entries that arrived during a commit have waited for it already,
   * so they go straight into the next one instead of waiting another maxWaitMs.
   */
  async #drain(): Promise<void> {
    try {
      while (this.#pending.length > 0) await this.#commit(this.#takeBatch());
    } finally {
      this.#draining = false;
    }
  }

  /** Takes whole entries up to maxBatch inputs (at least one entry, however large). */
  #takeBatch(): Entry[] {
    let count = 0;
    let taken = 0;
    for (const entry of this.#pending) {
      if (taken > 0 && count + entry.inputs.length > this.#settings.maxBatch) break;
      count += entry.inputs.length;
      taken += 1;
    }
    this.#pendingInputs -= count;
    return this.#pending.splice(0, taken);
  }

  /** Commits `batch`; when that fails, its entries one by one (see {@link #isolate}). */
  async #commit(batch: readonly Entry[]): Promise<void> {
    const error = await this.#tryCommit(batch);
    if (error === undefined) return;
    if (batch.length > 1) return this.#isolate(batch, error);
    this.#logger.error(
      { err: error, inputs: batch[0]!.inputs.length },
      'ingest commit failed; its webhook is refused',
    );
    batch[0]!.reject(refusal(error));
  }

  /**
   * One bad input must not fail the webhooks that share its commit: each request of a failed group commit
   * commits alone, so only the one that cannot be stored is refused. Once a request fails for a reason that
   * is not its own (the store is unavailable: a retryable error), the rest are refused without trying, so an
   * outage costs one more commit rather than one per request.
   */
  async #isolate(batch: readonly Entry[], groupError: unknown): Promise<void> {
    this.#logger.warn(
      { err: groupError, requests: batch.length },
      'ingest group commit failed; committing its requests one by one',
    );
    let outage: unknown;
    for (const entry of batch) {
      const error = outage ?? (await this.#tryCommit([entry]));
      if (error === undefined) continue;
      const refused = refusal(error);
      if (refused.retryable) outage = error;
      entry.reject(refused);
    }
    if (outage !== undefined) {
      this.#logger.error(
        { err: outage, requests: batch.length },
        'ingest commit failed; webhooks are refused',
      );
    }
  }

  /** One enqueueMany for the inputs of `batch`: resolves its entries, or returns the error (undefined on success). */
  async #tryCommit(batch: readonly Entry[]): Promise<unknown> {
    const inputs = batch.length === 1 ? batch[0]!.inputs : batch.flatMap((entry) => entry.inputs);
    let results: EnqueueResult[];
    try {
      results = await this.#queue.enqueueMany(inputs);
      if (results.length !== inputs.length) {
        throw new Error(`enqueueMany returned ${results.length} results for ${inputs.length} inputs`);
      }
    } catch (error) {
      return error ?? new Error('enqueueMany failed');
    }
    this.#onCommit(inputs.length);
    let offset = 0;
    for (const entry of batch) {
      entry.resolve(results.slice(offset, offset + entry.inputs.length));
      offset += entry.inputs.length;
    }
    return undefined;
  }
}

/** A deliberate, final refusal of the input passes as is; anything else is a 503 the vendor retries. */
function refusal(error: unknown): CrmsyncError {
  if (error instanceof CrmsyncError && !error.retryable) return error;
  return new StorageError('Could not store the webhook durably; send it again later.', error);
}
