/**
 * A connector's whole webhook intake as the server runs it (verify, then parse unless it was a handshake),
 * for connector tests that look at one connector without a server.
 */
import type { Connector, WebhookRequest, WebhookResult } from '../../src/ports/connector.ts';

/** Verifies `request` with `connector` and parses it; a handshake comes back as its reply with no events. */
export async function receiveWebhook(connector: Connector, request: WebhookRequest): Promise<WebhookResult> {
  const verification = await connector.verifyWebhook(request);
  if (verification.kind === 'handshake') return { events: [], reply: verification.reply };
  return connector.parseWebhook(verification.webhook);
}
