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
