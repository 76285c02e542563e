/**
 * EspoCRM webhook verification and parsing. Signatures are made here with node:crypto from the reference's
 * formula (§5), not with the module's own signer: valid, tampered, legacy, wrong webhook id, missing. The
 * body uses PHP's escaping (`\/`, `\u00fc`), which a re-serialising verifier would get wrong.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { CrmsyncError, WebhookAuthError, WebhookPayloadError } from '../../../src/core/errors.ts';
import type { WebhookRequest } from '../../../src/ports/connector.ts';
import {
  parseEspoCrmWebhook,
  parseEventName,
  signEspoCrmWebhook,
  signEspoCrmWebhookLegacy,
  verifyEspoCrmWebhook,
} from '../../../src/connectors/espocrm/webhook.ts';
import { WebhookEventDirectory, targetUrlFor } from '../../../src/connectors/espocrm/webhook-events.ts';
import { ManualClock } from '../../support/manual-clock.ts';
import { memoryState } from '../superoffice/support.ts';

const WEBHOOK_ID = '6651a8e2f0b1c4d7e';
const SECRET = '5f4dcc3b5aa765d61d8327deb882cf99';
const OTHER_ID = '6651a8e2f0b1c4d80';
const OTHER_SECRET = 'e99a18c428cb38d5f260853678922e03';

/** A create batch as PHP's json_encode writes it: escaped slashes and \u escapes. */
const BODY = Buffer.from(
  '[{"id":"66a1b2c3d4e5f6789","name":"M\\u00fcller & Partner","website":"https:\\/\\/mueller.example",' +
    '"createdAt":"2026-03-02 08:00:00","modifiedAt":"2026-03-02 08:00:00","createdById":"1","modifiedById":null}]',
  'utf8',
);

function referenceSignature(webhookId: string, secret: string, body: Buffer): string {
  const hex = createHmac('sha256', secret).update(body).digest('hex');
  return Buffer.from(`${webhookId}:${hex}`, 'utf8').toString('base64');
}

function referenceLegacySignature(webhookId: string, secret: string, body: Buffer): string {
  const binary = createHmac('sha256', secret).update(body).digest();
  return Buffer.concat([Buffer.from(`${webhookId}:`, 'utf8'), binary]).toString('base64');
}

function request(headers: Record<string, string | string[]>, body: Buffer = BODY): WebhookRequest {
  return { headers, rawBody: body, query: {}, receivedAt: 0 };
}

function rejectsWith(code: string) {
  return (error: unknown) => {
    assert.ok(error instanceof WebhookAuthError, String(error));
    assert.equal(error.code, code);
    assert.equal(error.httpStatus, 401);
    assert.doesNotMatch(error.message, new RegExp(`${SECRET}|${OTHER_SECRET}`));
    return true;
  };
}

const secrets = { [WEBHOOK_ID]: SECRET, [OTHER_ID]: OTHER_SECRET };
const legacyOn = { acceptLegacy: true };

describe('espocrm webhook: verification', () => {
  it('accepts a Signature computed by the reference formula; the module signs identically', () => {
    const signature = referenceSignature(WEBHOOK_ID, SECRET, BODY);
    assert.equal(signEspoCrmWebhook(WEBHOOK_ID, SECRET, BODY), signature);
    assert.deepEqual(verifyEspoCrmWebhook(request({ signature }), secrets, legacyOn), {
      webhookId: WEBHOOK_ID,
      header: 'Signature',
    });
    // One secret for every webhook also works.
    assert.equal(verifyEspoCrmWebhook(request({ signature }), SECRET, legacyOn).webhookId, WEBHOOK_ID);
  });

  it('rejects a body changed by one byte, and a body re-serialised from its parsed JSON', () => {
    const signature = referenceSignature(WEBHOOK_ID, SECRET, BODY);
    const tampered = Buffer.from(BODY);
    tampered[BODY.indexOf('Partner')] = 'p'.charCodeAt(0);
    assert.throws(
      () => verifyEspoCrmWebhook(request({ signature }, tampered), secrets, legacyOn),
      rejectsWith('WEBHOOK_SIGNATURE_INVALID'),
    );
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(BODY.toString('utf8'))), 'utf8');
    assert.notDeepEqual(reserialised, BODY);
    assert.throws(
      () => verifyEspoCrmWebhook(request({ signature }, reserialised), secrets, legacyOn),
      rejectsWith('WEBHOOK_SIGNATURE_INVALID'),
    );
  });

  it('accepts the legacy X-Signature (raw HMAC) alone, unless legacy is turned off', () => {
    const legacy = referenceLegacySignature(OTHER_ID, OTHER_SECRET, BODY);
    assert.equal(signEspoCrmWebhookLegacy(OTHER_ID, OTHER_SECRET, BODY), legacy);
    assert.deepEqual(verifyEspoCrmWebhook(request({ 'x-signature': legacy }), secrets, legacyOn), {
      webhookId: OTHER_ID,
      header: 'X-Signature',
    });
    assert.throws(
      () => verifyEspoCrmWebhook(request({ 'x-signature': legacy }), secrets, { acceptLegacy: false }),
      rejectsWith('WEBHOOK_SIGNATURE_MISSING'),
    );
  });

  it('checks Signature when both are sent, and does not fall back to a valid X-Signature', () => {
    const headers = {
      signature: referenceSignature(WEBHOOK_ID, OTHER_SECRET, BODY),
      'x-signature': referenceLegacySignature(WEBHOOK_ID, SECRET, BODY),
    };
    assert.throws(
      () => verifyEspoCrmWebhook(request(headers), secrets, legacyOn),
      rejectsWith('WEBHOOK_SIGNATURE_INVALID'),
    );
  });

  it('selects the secret by the webhook id in the header: another id fails, an unknown id says what to configure', () => {
    const signedWithOther = referenceSignature(OTHER_ID, SECRET, BODY);
    assert.throws(
      () => verifyEspoCrmWebhook(request({ signature: signedWithOther }), secrets, legacyOn),
      rejectsWith('WEBHOOK_SIGNATURE_INVALID'),
    );
    const unknown = referenceSignature('ffffffffffffffff0', SECRET, BODY);
    assert.throws(
      () => verifyEspoCrmWebhook(request({ signature: unknown }), secrets, legacyOn),
      (error: unknown) => {
        rejectsWith('WEBHOOK_SECRET_UNKNOWN')(error);
        assert.match((error as Error).message, /ffffffffffffffff0:<secretKey>/);
        return true;
      },
    );
  });

  it('rejects missing, repeated and malformed headers', () => {
    assert.throws(
      () => verifyEspoCrmWebhook(request({}), secrets, legacyOn),
      rejectsWith('WEBHOOK_SIGNATURE_MISSING'),
    );
    const signature = referenceSignature(WEBHOOK_ID, SECRET, BODY);
    assert.throws(
      () => verifyEspoCrmWebhook(request({ signature: [signature, signature] }), secrets, legacyOn),
      rejectsWith('WEBHOOK_SIGNATURE_INVALID'),
    );
    const malformed = [
      'not base64!',
      Buffer.from('no-colon-here').toString('base64'),
      Buffer.from(`${WEBHOOK_ID}:abc`).toString('base64'),
      Buffer.from(`:${'a'.repeat(64)}`).toString('base64'),
    ];
    for (const value of malformed) {
      assert.throws(
        () => verifyEspoCrmWebhook(request({ signature: value }), secrets, legacyOn),
        rejectsWith('WEBHOOK_SIGNATURE_INVALID'),
        value,
      );
    }
  });
});

describe('espocrm webhook: parsing', () => {
  it('create: the full record as data, actor from createdById, version from modifiedAt, occurredAt in ISO', () => {
    const [event, ...rest] = parseEspoCrmWebhook(BODY, { connection: 'espo', event: 'CBeteiligte.create' });
    assert.equal(rest.length, 0);
    assert.deepEqual(event, {
      ref: { connection: 'espo', entityType: 'CBeteiligte', id: '66a1b2c3d4e5f6789' },
      kind: 'created',
      vendorEvent: 'CBeteiligte.create',
      actorId: '1',
      occurredAt: '2026-03-02T08:00:00.000Z',
      version: '2026-03-02 08:00:00',
      data: (JSON.parse(BODY.toString('utf8')) as unknown[])[0],
    });
    assert.equal(event?.data?.['name'], 'Müller & Partner');
  });

  it('update: changed attributes except the ones EspoCRM maintains itself; versionNumber becomes the version; fieldUpdate is an update', () => {
    const body = Buffer.from(
      JSON.stringify([
        { id: 'a1', name: 'Neu', modifiedById: '64f0c1d2e3a4b5c6d', modifiedByName: 'Anna' },
        { id: 'a2', syncStatus: 'dirty', versionNumber: 7 },
      ]),
    );
    const events = parseEspoCrmWebhook(body, { connection: 'espo', event: 'Account.update' });
    assert.deepEqual(
      events.map((event) => [event.kind, event.ref.id, event.changedFields, event.actorId, event.version]),
      [
        ['updated', 'a1', ['name'], '64f0c1d2e3a4b5c6d', undefined],
        ['updated', 'a2', ['syncStatus'], undefined, '7'],
      ],
    );
    const [field] = parseEspoCrmWebhook(
      Buffer.from('[{"id":"a1","assignedUserId":"u2","assignedUserName":"Ben"}]'),
      {
        connection: 'espo',
        event: 'Account.fieldUpdate.assignedUser',
      },
    );
    assert.deepEqual(
      [field!.kind, field!.changedFields],
      ['updated', ['assignedUserId', 'assignedUserName']],
    );
  });

  it('delete: only the id', () => {
    assert.deepEqual(
      parseEspoCrmWebhook(Buffer.from('[{"id":"a1"}]'), { connection: 'espo', event: 'Contact.delete' }),
      [
        {
          ref: { connection: 'espo', entityType: 'Contact', id: 'a1' },
          kind: 'deleted',
          vendorEvent: 'Contact.delete',
        },
      ],
    );
  });

  it('refuses bodies that are not arrays of records with ids', () => {
    for (const body of ['{"id":"a1"}', 'not json', '[{"name":"x"}]', '[1]']) {
      assert.throws(
        () => parseEspoCrmWebhook(Buffer.from(body), { connection: 'espo', event: 'Contact.update' }),
        WebhookPayloadError,
        body,
      );
    }
    assert.deepEqual(
      parseEspoCrmWebhook(Buffer.from('[]'), { connection: 'espo', event: 'Contact.update' }),
      [],
    );
  });

  it('knows the event names', () => {
    assert.deepEqual(parseEventName('CBeteiligte.fieldUpdate.syncStatus'), {
      name: 'CBeteiligte.fieldUpdate.syncStatus',
      entityType: 'CBeteiligte',
      action: 'fieldUpdate',
      field: 'syncStatus',
    });
    for (const wrong of ['Account', 'Account.changed', 'Account.fieldUpdate', 'Acc/ount.update', '.create']) {
      assert.equal(parseEventName(wrong), null, wrong);
    }
  });
});

describe('espocrm webhook: which event a webhook delivers', () => {
  it('prefers the registered event, falls back to ?event=, and otherwise says how to fix it', async () => {
    const directory = new WebhookEventDirectory(memoryState(new ManualClock()), 'espo');
    assert.equal(await directory.resolve(WEBHOOK_ID, 'CBeteiligte.update'), 'CBeteiligte.update');
    await directory.remember(WEBHOOK_ID, 'CBeteiligte.create');
    assert.equal(await directory.resolve(WEBHOOK_ID, 'CBeteiligte.delete'), 'CBeteiligte.create');
    assert.equal(await directory.resolve(WEBHOOK_ID, undefined), 'CBeteiligte.create');
    await directory.forget(WEBHOOK_ID);
    for (const query of [undefined, '', 'nonsense']) {
      await assert.rejects(directory.resolve(WEBHOOK_ID, query), (error: unknown) => {
        assert.ok(error instanceof CrmsyncError);
        assert.equal(error.code, 'ESPOCRM_WEBHOOK_EVENT_UNKNOWN');
        assert.equal(error.httpStatus, 400);
        return true;
      });
    }
  });

  it('adds ?event= to a target URL, keeping what is there', () => {
    assert.equal(
      targetUrlFor('https://crm.example.com/webhooks/espo?token=x', 'Account.update'),
      'https://crm.example.com/webhooks/espo?token=x&event=Account.update',
    );
    assert.equal(
      targetUrlFor('https://crm.example.com/webhooks/espo?event=old', 'A.create'),
      'https://crm.example.com/webhooks/espo?event=A.create',
    );
  });
});
