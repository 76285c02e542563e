/**
 * The first items of a stably sorted list without sorting all of it. A list page needs `offset + maxSize`
 * records in order out of every match; sorting every match for every page made paging through a type cost
 * n log n per page. The answer is exactly `[...items].sort(compare).slice(0, count)` (the sort is stable).
 */

/** Where `item` goes in the sorted `prefix`: after every entry not greater (ties keep input order). */
function insertionIndex<T>(prefix: readonly T[], item: T, compare: (a: T, b: T) => number): number {
  let low = 0;
  let high = prefix.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compare(prefix[middle] as T, item) <= 0) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** The first `count` items of `items` stably sorted by `compare`. */
export function sortedPrefix<T>(items: readonly T[], count: number, compare: (a: T, b: T) => number): T[] {
  // Keeping a sorted prefix costs a shift per kept item; once it is a fair share of the list, sort it all.
  if (count * 4 >= items.length) return [...items].sort(compare).slice(0, count);
  const prefix: T[] = [];
  if (count <= 0) return prefix;
  for (const item of items) {
    // An item that ties with the last kept one comes later in the input, so a stable sort puts it after.
    if (prefix.length === count && compare(item, prefix[count - 1] as T) >= 0) continue;
    prefix.splice(insertionIndex(prefix, item, compare), 0, item);
    if (prefix.length > count) prefix.pop();
  }
  return prefix;
}
