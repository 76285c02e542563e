/**
 * The duplicate shield (seed 001): SuperOffice sometimes delivers several `contact.created` webhooks for the
 * same new company within seconds, with different event ids, and people double-click "save". A
 * `contact.created` for a company name that another job processed or is processing within the window is
 * SKIPPED as a duplicate.
 *
 * A claim is a lock on the normalised name with the window as TTL, so exactly one job wins even when two run
 * at the same time on different instances, and claims expire by themselves. The winning job remembers its
 * token, so its own retries (after an enricher outage, say) are not mistaken for duplicates.
 */
import type { ConnectorStateRepository } from '../../../ports/store.ts';
import type { Clock } from '../../../ports/clock.ts';
import type { Locks } from '../../../ports/locks.ts';

/** What the shield needs. */
export interface DuplicateShieldOptions {
  readonly flow: string;
  readonly windowMs: number;
  readonly locks: Locks;
  /** Where a job's claim token is kept for its retries. */
  readonly state: ConnectorStateRepository;
  readonly clock: Clock;
}

/** Lower case, accents kept, runs of space and punctuation folded, so "ACME  GmbH" equals "acme gmbh". */
export function normalizeCompanyName(name: string): string {
  return name
    .normalize('NFC')
    .toLowerCase()
    .replace(/[\s.,;:'"()\-_/]+/g, ' ')
    .trim();
}

/** Claims company names for a window. */
export class DuplicateShield {
  readonly #options: DuplicateShieldOptions;

  constructor(options: DuplicateShieldOptions) {
    this.#options = options;
  }

  /** True when `jobId` may process `companyName` (it claimed it now or earlier); false for a duplicate. */
  async claim(jobId: string, companyName: string): Promise<boolean> {
    const { flow, windowMs, locks, state, clock } = this.#options;
    const name = normalizeCompanyName(companyName);
    if (windowMs <= 0 || name === '') return true;
    const lockKey = `enrich-duplicate|${flow}|${name}`;
    const stateScope = `flow:${flow}`;
    const stateKey = `duplicate-claim:${jobId}`;
    const token = await locks.acquire(lockKey, windowMs);
    if (token !== null) {
      await state.set(stateScope, stateKey, token, clock.now() + windowMs);
      return true;
    }
    const ours = await state.get(stateScope, stateKey);
    return typeof ours === 'string' && (await locks.extend(lockKey, ours, windowMs));
  }
}
