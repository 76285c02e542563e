/**
 * The optional persist file of the simulator: the whole state and the quirks as JSON, kept by the
 * simulator kit's {@link SnapshotFile} (written after changes and on close, write-then-rename, read on start).
 */
import { SnapshotFile } from '../kit/index.ts';
import type { EspoCrmQuirks } from './quirks.ts';
import type { StateData } from './state.ts';

/** What the file holds. */
export interface PersistedSimulator {
  readonly version: 1;
  readonly state: StateData;
  readonly quirks: EspoCrmQuirks;
}

/** The simulator's snapshot file at `path` (none: state in memory only); `snapshot` is called at write time. */
export function simulatorSnapshotFile(
  path: string | undefined,
  snapshot: () => PersistedSimulator,
): SnapshotFile<PersistedSimulator> {
  return new SnapshotFile({
    path,
    owner: 'EspoCRM simulator',
    version: 1,
    requiredKeys: ['state', 'quirks'],
    snapshot,
  });
}
