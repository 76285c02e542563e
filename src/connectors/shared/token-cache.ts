/**
 * Caching what a vendor's auth host answered (access tokens, discovered API hosts) in memory and in the
 * connector state, so that a restart, or another instance sharing the store, reuses what is still valid
 * instead of asking the auth host again; and one shared request when many callers need a new token at once.
 */
import type { JsonObject } from '../../core/types.ts';
import type { Clock } from '../../ports/clock.ts';
import type { ConnectorStateRepository } from '../../ports/store.ts';
import { isObject } from './casing.ts';

/** A cacheable value: plain JSON data that is valid until `expiresAt` (epoch ms). */
export interface Expiring {
  readonly expiresAt: number;
}

/** Where and how a {@link StateCache} keeps its value. */
export interface StateCacheOptions<T extends Expiring> {
  readonly connection: string;
  readonly state: ConnectorStateRepository;
  readonly clock: Clock;
  /** The state key, e.g. `auth.session`. */
  readonly key: string;
  /** Whether a stored value has the shape of `T` (stored data can outlive the code that wrote it). */
  readonly isValid: (value: Record<string, unknown>) => value is Record<string, unknown> & T;
  /**
   * The account the value belongs to (a fingerprint without secrets). Stored along with the value; a stored
   * value of another account is ignored, so a changed config never reuses the old account's token.
   */
  readonly account?: string;
}

/** One value of a connection, cached in memory and in the connector state until it expires. */
export class StateCache<T extends Expiring> {
  readonly #options: StateCacheOptions<T>;
  #value: T | null = null;
  /** Bumped by set() and delete(), so a read that started before them cannot bring back what they replaced. */
  #generation = 0;

  constructor(options: StateCacheOptions<T>) {
    this.#options = options;
  }

  /** The value in memory, expired or not, without reading the store. */
  peek(): T | null {
    return this.#value;
  }

  /** The unexpired value: from memory, else from the connector state (a restart reuses it), else null. */
  async get(): Promise<T | null> {
    const { state, connection, key, clock, isValid, account } = this.#options;
    const now = clock.now();
    if (this.#value !== null && this.#value.expiresAt > now) return this.#value;
    const generation = this.#generation;
    const stored = await state.get(connection, key);
    // A set() or delete() while reading decided the value; what was read before it is stale.
    if (generation !== this.#generation) return this.#value;
    const usable =
      isObject(stored) &&
      (account === undefined || stored['account'] === account) &&
      isValid(stored) &&
      stored.expiresAt > now;
    this.#value = usable ? stored : null;
    return this.#value;
  }

  /** Keeps `value` in memory and in the connector state until it expires. */
  async set(value: T): Promise<void> {
    const { state, connection, key, account } = this.#options;
    this.#generation += 1;
    this.#value = value;
    const stored: JsonObject = {
      ...(value as unknown as JsonObject),
      ...(account !== undefined && { account }),
    };
    await state.set(connection, key, stored, value.expiresAt);
  }

  /** Forgets the value, in memory at once and then in the connector state. */
  async delete(): Promise<void> {
    this.#generation += 1;
    this.#value = null;
    await this.#options.state.delete(this.#options.connection, this.#options.key);
  }
}

/** Runs one task at a time: whoever asks while it runs shares its result instead of starting another. */
export class SingleFlight<T> {
  #running: Promise<T> | null = null;

  /** The running task's result, or `task`'s when none runs. */
  run(task: () => Promise<T>): Promise<T> {
    this.#running ??= task().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }
}
