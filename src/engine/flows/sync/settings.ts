/**
 * What a sync run is configured with: the flow, both sides' connectors, the store, the locks and where
 * operator notices go. Shared by the run (./run.ts) and its parts (failures, soft deletes).
 */
import type { Connector } from '../../../ports/connector.ts';
import type { Locks } from '../../../ports/locks.ts';
import type { Store } from '../../../ports/store.ts';
import type { CompiledSyncFlow } from './mapping.ts';
import type { SyncOptions } from './options.ts';

/** Where operator notices go: a connector that can notify, and the recipient. */
export interface SyncNotifier {
  readonly connector: Pick<Connector, 'notify'>;
  readonly recipient?: string;
}

/** What a sync run needs besides the job. */
export interface SyncRunSettings {
  /** The flow's name (links and lock keys are per flow). */
  readonly flow: string;
  /** The flow's validated options (sides, match rules). */
  readonly options: SyncOptions;
  /** The same options compiled (`compileSyncFlow`). */
  readonly compiled: CompiledSyncFlow;
  /** The connectors of side a and side b. */
  readonly connectors: { readonly a: Connector; readonly b: Connector };
  readonly store: Pick<Store, 'links' | 'ledger' | 'conflicts'>;
  readonly locks: Locks;
  /** Where notices of runs that failed for good (and of deletions) go; absent: they are only logged. */
  readonly notifier?: SyncNotifier;
  /** How long the per-link lock is held at most (default 60 s; the run releases it when its outcome landed). */
  readonly lockTtlMs?: number;
  /** How long a run waits for a link's lock another run holds before it gives up and retries (default 5 s). */
  readonly lockWaitMs?: number;
}
