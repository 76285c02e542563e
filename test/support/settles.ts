/**
 * "Resolves at once" without a stopwatch: with the test's timers mocked (`t.mock.timers.enable()`), no
 * timer fires unless the test advances it, so whatever happens while the event loop only turns did not wait
 * for any timer (a poll interval, a batch window, a deadline).
 */

/** True when `condition` holds within `turns` turns of the event loop (timers mocked by the caller). */
export async function holdsWithoutTimers(condition: () => boolean, turns = 100): Promise<boolean> {
  for (let turn = 0; turn < turns && !condition(); turn++) {
    await new Promise((resolve) => setImmediate(resolve));
  }
  return condition();
}

/** True when `promise` settles within `turns` turns of the event loop (timers mocked by the caller). */
export function settlesWithoutTimers(promise: Promise<unknown>, turns = 100): Promise<boolean> {
  let settled = false;
  const mark = () => {
    settled = true;
  };
  promise.then(mark, mark);
  return holdsWithoutTimers(() => settled, turns);
}
