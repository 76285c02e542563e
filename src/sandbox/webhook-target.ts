/** Where a simulator in the sandbox delivers its webhooks: crmsync's own webhook route of a connection. */

/**
 * The URL the simulator delivers to: crmsync's own address, with a wildcard bind address (`0.0.0.0`, `::`)
 * replaced by loopback, since the simulator runs on the same machine.
 */
export function webhookTargetUrl(serverUrl: string, connection: string): string {
  const url = new URL(`/webhooks/${encodeURIComponent(connection)}`, serverUrl);
  if (url.hostname === '0.0.0.0') url.hostname = '127.0.0.1';
  if (url.hostname === '[::]') url.hostname = '[::1]';
  return url.toString();
}
