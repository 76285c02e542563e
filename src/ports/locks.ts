/** A lock taken by {@link Locks.acquireFenced}. */
export interface FencedLock {
  /** Releases and extends the lock, as the token of {@link Locks.acquire}. */
  readonly token: string;
  /** The fencing token: greater than every fence issued for the same key before. */
  readonly fence: number;
}

/** A lock key with the fence its holder was issued; what an outcome commit is checked against. */
export interface LockFence {
  readonly key: string;
  readonly fence: number;
}

/**
 * Mutual exclusion across workers and processes, e.g. "one sync of record X at a time" or "one instance runs
 * this cron tick". Locks expire on their own (TTL), so a crashed holder never blocks others for longer than
 * the TTL. Only the holder of the token can release or extend a lock.
 */
export interface Locks {
  /**
   * Tries to take the lock `key` for `ttlMs` milliseconds. Returns an opaque token on success, or null when
   * another holder has it and it has not expired. Never waits.
   */
  acquire(key: string, ttlMs: number): Promise<string | null>;

  /**
   * {@link acquire}, and on success also issues the key's next fencing token: a number greater than every
   * fence issued for `key` before (fences are never reset, not even by {@link prune}). Release and extend
   * the lock with `token` as usual. The holder passes the fence to the store with its outcome
   * (`OutcomeCommit.fence` in store.ts); the store refuses it once a newer fence was issued for the key, so a
   * holder that stalled past its TTL (a GC pause, a frozen VM) and lost the lock cannot commit after the
   * next holder took it, even though it still believes it holds the lock.
   *
   * The fence counter lives with the store that checks it: a backend whose locks are elsewhere (Redis) takes
   * the lock there and then issues the fence from its store (one increment), so the outcome commit checks it
   * in its own transaction. A crash between the two leaves a lock that expires and no fence: nothing to undo.
   */
  acquireFenced(key: string, ttlMs: number): Promise<FencedLock | null>;

  /** Releases the lock if `token` still holds it. Returns false when it had expired or was taken over. */
  release(key: string, token: string): Promise<boolean>;

  /** Extends the lock to `ttlMs` from now if `token` still holds it. Returns false when it was lost. */
  extend(key: string, token: string, ttlMs: number): Promise<boolean>;

  /**
   * Deletes expired locks (retention), in bounded batches. Nobody holds an expired lock, so this changes
   * nothing anyone can observe: `release` and `extend` of a lapsed lock return false either way. Returns
   * how many were deleted.
   */
  prune(): Promise<number>;
}
