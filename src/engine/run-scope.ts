/**
 * The run a piece of code works for, carried through async calls. Connectors report every vendor API call
 * to one recorder (the metrics); the run that caused the call is found here, so each run's history counts its
 * own calls (token refreshes and list lookups included) without threading a counter through every client.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** What code inside a run can report to it. */
export interface RunScope {
  /** Counts one vendor API call. */
  countApiCall(): void;
}

const storage = new AsyncLocalStorage<RunScope>();

/** Runs `work` inside `scope`: API calls made by it, however deep, count for that run. */
export function withinRun<T>(scope: RunScope, work: () => Promise<T>): Promise<T> {
  return storage.run(scope, work);
}

/** Counts one vendor API call for the run the caller works for, if any (calls outside runs count nowhere). */
export function countApiCallInCurrentRun(): void {
  storage.getStore()?.countApiCall();
}
