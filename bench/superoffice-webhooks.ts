/**
 * The webhooks bench/ingest.ts sends: SuperOffice `contact.changed` deliveries of about 1 KB, serialised and
 * signed as the SuperOffice simulator sends them (its own HMAC code, not the connector's verifier), each with
 * a new EventId and a new PrimaryKey, so that neither dedup nor coalescing short-cuts the server's work.
 *
 * A load generator builds millions of them, so the JSON is serialised once with placeholders and only the
 * unique parts are spliced in per request; the HMAC is computed per request, as it must be.
 */
import { randomUUID } from 'node:crypto';
import { deliveryHeaders, formatWebhookTimestamp } from '../src/simulators/superoffice/webhook-delivery.ts';
import type { WebhookPayload } from '../src/simulators/superoffice/webhook-delivery.ts';

/** The connection name the bench configures, so the path is `/webhooks/so`. */
export const BENCH_CONNECTION = 'so';
/** The webhook secret of that connection (bench only). */
export const BENCH_WEBHOOK_SECRET = 'bench-webhook-secret-0123456789abcdef';

/** Placeholders of the serialised template: no real id or key looks like them. */
const EVENT_ID = '@@EVENT_ID@@';
const PRIMARY_KEY = 9_876_543_210_123;

/** A contact change in a mid-sized tenant, with the columns the vendor puts in FieldValues. */
function payloadOf(eventId: string, primaryKey: number): WebhookPayload {
  return {
    EventId: eventId,
    Timestamp: formatWebhookTimestamp(Date.UTC(2026, 2, 2, 7, 50, 50, 681)),
    Changes: ['contact_id', 'updated_associate_id', 'soundEx', 'updated', 'name', 'department', 'number2'],
    Event: 'contact.changed',
    PrimaryKey: primaryKey,
    Entity: 'contact',
    ContextIdentifier: 'Cust26720',
    ChangedByAssociateId: 485,
    WebhookName: 'crmsync-enrichment',
    FieldValues: {
      contact_id: primaryKey,
      name: 'Hanse Logistik Nord GmbH & Co. KG',
      department: 'Zentrale Disposition und Einkauf',
      number1: 'K-004711',
      number2: 'DE 812 345 678',
      orgnr: 'HRB 123456 HH',
      soundEx: 'H524',
      xstop: false,
      nomailings: false,
      associate_id: 485,
      group_idx: 2,
      business_idx: 3,
      category_idx: 4,
      country_id: 276,
      postalAddress_city: 'Hamburg',
      postalAddress_zipcode: '20457',
      postalAddress_address1: 'Am Sandtorkai 54',
      phone: '+49 40 1234567-0',
      email: 'zentrale@hanse-logistik-nord.example',
      url: 'https://www.hanse-logistik-nord.example',
      registered: '2019-04-11T09:12:44+02:00',
      registered_associate_id: 17,
      updated: '2026-03-02T08:50:50+01:00',
      updated_associate_id: 485,
      activeErpLinks: 0,
      deleted: 0,
    },
  };
}

const TEMPLATE = payloadOf(EVENT_ID, PRIMARY_KEY);
const [BEFORE_ID = '', AFTER_ID = ''] = JSON.stringify(TEMPLATE).split(EVENT_ID);
const TEMPLATE_AFTER_ID = AFTER_ID.split(String(PRIMARY_KEY));

/** One signed delivery as raw HTTP/1.1: the request line and headers, and the body. */
export interface SignedRequest {
  readonly head: string;
  readonly body: Buffer;
}

/** One signed delivery for record `primaryKey` (a positive integer), to be sent to `host`. */
export function signedWebhookRequest(primaryKey: number, host: string): SignedRequest {
  const eventId = randomUUID();
  const body = Buffer.from(BEFORE_ID + eventId + TEMPLATE_AFTER_ID.join(String(primaryKey)), 'utf8');
  const headers = deliveryHeaders({
    // deliveryHeaders reads the event's name and id from the payload; the HMAC covers the body above.
    payload: { ...TEMPLATE, EventId: eventId, PrimaryKey: primaryKey },
    body,
    secret: BENCH_WEBHOOK_SECRET,
    retry: 0,
  });
  let head = `POST /webhooks/${BENCH_CONNECTION} HTTP/1.1\r\nHost: ${host}\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  head += `Content-Length: ${body.length}\r\n\r\n`;
  return { head, body };
}

/** The body size of one delivery in bytes (for the report). */
export function webhookBodyBytes(): number {
  return signedWebhookRequest(1_000_000, 'localhost').body.length;
}
