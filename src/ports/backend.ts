import type { Locks } from './locks.ts';
import type { Queue } from './queue.ts';
import type { Store } from './store.ts';

/**
 * One storage backend: the store, the queue and the locks it serves. SQLite serves all three from one file;
 * a scale-out deployment may combine PostgreSQL (store) with Redis (queue, locks).
 */
export interface Backend {
  readonly store: Store;
  readonly queue: Queue;
  readonly locks: Locks;
  /** Closes connections and files. Safe to call twice. */
  close(): Promise<void>;
}
