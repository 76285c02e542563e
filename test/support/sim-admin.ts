/**
 * Calls of a vendor simulator's admin API (`/_sim/...`: reset, seed, act as a user, faults, quirks,
 * request counts), shared by the tests of every simulator and connector.
 */
import assert from 'node:assert/strict';
import type { JsonObject } from '../../src/core/types.ts';

/** Anything with the simulator's base URL (every simulator handle has one). */
export interface SimTarget {
  readonly url: string;
}

/** Request counts per route template and status, as `GET /_sim/requests` lists them. */
export type RouteCounts = Record<string, Record<string, number>>;

/** Sends `METHOD /_sim/<path>` with `body` as JSON (when given) and returns the response as it is. */
export function simAdminRequest(
  sim: SimTarget,
  method: string,
  path: string,
  body?: unknown,
): Promise<Response> {
  return fetch(`${sim.url}/_sim/${path}`, {
    method,
    ...(body !== undefined && {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }),
  });
}

/**
 * Sends `METHOD /_sim/<path>`, asserts a 2xx (the failure names the call and shows the answer) and returns
 * the JSON answer (null for an empty body), typed as the caller expects it.
 */
export async function simAdmin<T = JsonObject>(
  sim: SimTarget,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const response = await simAdminRequest(sim, method, path, body);
  const text = await response.text();
  assert.ok(response.ok, `${method} /_sim/${path} answered ${response.status}: ${text}`);
  return (text === '' ? null : JSON.parse(text)) as T;
}

/** The simulator's request counts per route template and status (`GET /_sim/requests` → routes). */
export async function simRequestCounts(sim: SimTarget): Promise<RouteCounts> {
  return (await simAdmin<{ routes: RouteCounts }>(sim, 'GET', 'requests')).routes;
}

/** How many requests of `route` the counts hold, of one status or (without `status`) of all. */
export function countOf(counts: RouteCounts, route: string, status?: number): number {
  const byStatus = counts[route] ?? {};
  return status === undefined
    ? Object.values(byStatus).reduce((sum, count) => sum + count, 0)
    : (byStatus[String(status)] ?? 0);
}
