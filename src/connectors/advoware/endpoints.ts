/**
 * Typed calls of the advoware API used by the connector and the sync flow (reference §4-6, seeds 003/004):
 * Beteiligte (read, list, create, full-replace update) and their Kommunikationen (list, create, update).
 *
 * Writes follow seed 004: advoware has no conditional write and PUT replaces the whole record, so an update
 * is read-modify-write (GET, merge the changes, PUT the whole object), and the new `rowId` is read back with
 * a GET after every POST and PUT (the write answers may lack it).
 *
 * There is deliberately no delete: DELETE of a Kommunikation is answered 403 (seed 003). To "remove" one,
 * blank it with {@link AdvowareApi.updateKommunikation} (`tlf: ''`, `online: false`) and put a marker into
 * `bemerkung` that lets the slot be reused later; seed 003's sync writes `[ESPOCRM-SLOT:<kommKz>]`.
 */
import { InputError, StaleWriteError } from '../../core/errors.ts';
import type { JsonObject, JsonValue } from '../../core/types.ts';
import { VendorWriteAmbiguousError } from '../shared/api-error.ts';
import { canonicalJson } from '../../core/canonical.ts';
import { getField, isJsonObject, isObject } from '../shared/casing.ts';
import type { AdvowareClient, AdvowareResponse } from './client.ts';
import { AdvowareApiError } from './errors.ts';
import { isKommKz, parseKommunikation } from './kommunikation.ts';
import type { Kommunikation, KommunikationChanges, NewKommunikation } from './kommunikation.ts';
import { ROW_ID_FIELD, createdIdOf, mergeForPut, rowIdOf, singleRecord } from './records.ts';

/** [SEED] The Beteiligte resource below the API base. */
const BETEILIGTE = 'api/v1/advonet/Beteiligte';
/** The embedded list of a Beteiligte body (seed 003). */
const KOMMUNIKATION_FIELD = 'kommunikation';

/** A Beteiligter after a write, as read back. */
export interface BeteiligterWrite {
  readonly betNr: string;
  /** The record as read back after the write. */
  readonly record: JsonObject;
  /** The new `rowId` (null if the API sent none). */
  readonly rowId: string | null;
  /** The read-back differs from what was sent in a field other than `rowId`: someone saved in between. */
  readonly foreignChanges?: boolean;
}

/** A Beteiligter after a create: read back, or only its number when the read-back failed. */
export type BeteiligterCreate =
  | (BeteiligterWrite & { readonly readBackError?: undefined })
  | {
      readonly betNr: string;
      readonly record: null;
      readonly rowId: null;
      /** Why the read-back after the create failed; the create itself happened. */
      readonly readBackError: Error;
    };

/** A Kommunikation after a write, as read back, with its Beteiligter's new `rowId`. */
export interface KommunikationWrite {
  readonly kommunikation: Kommunikation;
  /**
   * The parent's `rowId` after the write. A Kommunikation change counts as a change of the Beteiligter
   * (seed 003); whether advoware changes the parent's rowId or only the item's is [UNCONFIRMED].
   */
  readonly beteiligterRowId: string | null;
  /**
   * Set when the read-back after a create failed; the create happened: `kommunikation` is what was sent,
   * with the new id and no rowId, and `beteiligterRowId` is null.
   */
  readonly readBackError?: Error;
}

/** A read-modify-write guard: the write fails with StaleWriteError when the current rowId differs. */
export interface RowIdCondition {
  readonly expectedRowId?: string | null;
  /** The Beteiligter as the caller read it: the PUT's base where advoware checks the rowId (putChecksRowId). */
  readonly current?: JsonObject;
}

/** Query of {@link AdvowareApi.listBeteiligte}. [UNCONFIRMED] Paging by skip/take (reference §6). */
export interface BeteiligteQuery {
  readonly skip?: number;
  readonly take?: number;
}

function betNrPath(betNr: string): string {
  if (!/^\d+$/.test(betNr)) {
    throw new InputError(
      'ADVOWARE_ID_INVALID',
      `A Beteiligter number is a positive integer, got "${betNr}".`,
    );
  }
  return `${BETEILIGTE}/${betNr}`;
}

/** The objects of an answer that must be a JSON array (collections are bare arrays, reference §6). */
function arrayOf(route: string, response: AdvowareResponse): JsonObject[] {
  if (!Array.isArray(response.body)) {
    throw new AdvowareApiError(`${route} answered ${response.status} without a JSON array.`, {
      status: response.status,
      route,
      retryable: false,
    });
  }
  return response.body.filter((item): item is JsonObject => isObject(item));
}

function staleCheck(what: string, expected: string | null | undefined, current: string | null): void {
  if (expected === undefined || expected === null || expected === current) return;
  throw new StaleWriteError(
    `${what} changed in advoware after the version this write was based on (rowId ${expected} -> ${String(current)}); re-read and retry.`,
    { expected, current },
  );
}

/**
 * The write marked with `foreignChanges` when its read-back differs from the body sent in a field other than
 * the server's own (`rowId`, embedded Kommunikationen): another writer saved between the PUT and the read.
 */
export function sentOnly(write: BeteiligterWrite, body: JsonObject): BeteiligterWrite {
  const foreign = Object.entries(body).some(
    ([field, value]) =>
      field !== ROW_ID_FIELD &&
      field !== 'kommunikation' &&
      canonicalJson((getField(write.record, field) ?? null) as JsonValue) !== canonicalJson(value ?? null),
  );
  return foreign ? { ...write, foreignChanges: true } : write;
}

/** The endpoints over one {@link AdvowareClient}. */
export class AdvowareApi {
  readonly client: AdvowareClient;
  /** JSON name of a Beteiligter's id ([UNCONFIRMED], option `betNrField`). */
  readonly betNrField: string;

  readonly #putChecksRowId: boolean;
  readonly #writeAnswersRowId: boolean;

  constructor(
    client: AdvowareClient,
    options: { betNrField: string; putChecksRowId?: boolean; writeAnswersRowId?: boolean },
  ) {
    this.client = client;
    this.#putChecksRowId = options.putChecksRowId ?? false;
    this.#writeAnswersRowId = options.writeAnswersRowId ?? false;
    this.betNrField = options.betNrField;
  }

  /** `GET Beteiligte/{betNr}` (an object or a one-element array); null when it does not exist (404). */
  async getBeteiligter(betNr: string): Promise<JsonObject | null> {
    const route = 'GET Beteiligte/:betNr';
    const response = await this.client.send({ method: 'GET', path: betNrPath(betNr), route, expect: [404] });
    if (response.status === 404) return null;
    const record = singleRecord(response.body);
    if (record === undefined) {
      throw new AdvowareApiError(
        `${route} answered ${response.status} with neither an object nor a one-element array.`,
        { status: response.status, route, retryable: false },
      );
    }
    return record;
  }

  /** `GET Beteiligte?skip=&take=`: one page of the collection, a bare array. */
  async listBeteiligte(query: BeteiligteQuery = {}): Promise<JsonObject[]> {
    const route = 'GET Beteiligte';
    const response = await this.client.send({
      method: 'GET',
      path: BETEILIGTE,
      route,
      query: { skip: query.skip, take: query.take },
    });
    return arrayOf(route, response);
  }

  /**
   * `POST Beteiligte`, then `GET Beteiligte/{betNr}` for the stored record and its `rowId` (seed 004), as two
   * steps. The POST is never repeated: unanswered, or answered without a readable id, it is a
   * VendorWriteAmbiguousError. A failed read-back after it does not fail the create, which happened (a retry
   * of the whole would create the record twice): the number comes back with the read's error instead.
   */
  async createBeteiligter(fields: JsonObject): Promise<BeteiligterCreate> {
    const betNr = await this.#postBeteiligter(fields);
    try {
      return await this.#readBack(betNr, 'POST');
    } catch (error) {
      return {
        betNr,
        record: null,
        rowId: null,
        readBackError: error instanceof Error ? error : new Error(String(error)),
      };
    }
  }

  /** `POST Beteiligte` alone: the new Beteiligter's number. */
  async #postBeteiligter(fields: JsonObject): Promise<string> {
    const route = 'POST Beteiligte';
    const response = await this.client.send({ method: 'POST', path: BETEILIGTE, route, body: fields });
    const betNr = createdIdOf(response.body, this.betNrField);
    if (betNr === undefined) {
      throw new VendorWriteAmbiguousError(
        `${route} answered ${response.status} without a readable id ("${this.betNrField}"): the Beteiligter was probably created; find it in advoware before retrying, and check the option betNrField.`,
        { status: response.status, route },
      );
    }
    return betNr;
  }

  /**
   * Changes fields of a Beteiligter by read-modify-write: GET, merge `changes` into the whole object, PUT
   * it, GET again for the new `rowId`. The id field and `rowId` cannot be changed. With `expectedRowId`, a
   * record whose current rowId differs is not written (StaleWriteError); advoware has no conditional write,
   * so a change between this GET and the PUT can still be overwritten.
   */
  async updateBeteiligter(
    betNr: string,
    changes: JsonObject,
    condition: RowIdCondition = {},
  ): Promise<BeteiligterWrite> {
    const { current, expectedRowId } = condition;
    if (
      this.#putChecksRowId &&
      current !== undefined &&
      expectedRowId != null &&
      rowIdOf(current) === expectedRowId
    )
      return this.#conditionalPut(betNr, current, changes);
    // The PUT's token first: no wait for the budget then falls between the read and the write.
    await this.client.takeBudget();
    const fresh = await this.getBeteiligter(betNr);
    if (fresh === null) throw notFound(`Beteiligter ${betNr}`, 'PUT Beteiligte/:betNr');
    staleCheck(`Beteiligter ${betNr}`, expectedRowId, rowIdOf(fresh));
    const body = mergeForPut(fresh, changes, [this.betNrField, ROW_ID_FIELD]);
    // The body is the record just read: after a wait it may be stale, so it is never resent (the caller
    // reads again), or a save made in between would be overwritten, also in fields we did not change.
    const response = await this.client.send({
      method: 'PUT',
      path: betNrPath(betNr),
      route: 'PUT Beteiligte/:betNr',
      body,
      singleAttempt: true,
      budgetTaken: true,
    });
    return sentOnly(await this.#written(betNr, response, 'PUT'), body);
  }

  /**
   * A PUT built from the caller's read, carrying its rowId: advoware refuses it (409) when the record changed
   * since (option putChecksRowId), so there is nothing to read first and a resend after a wait is safe.
   */
  async #conditionalPut(betNr: string, current: JsonObject, changes: JsonObject): Promise<BeteiligterWrite> {
    const route = 'PUT Beteiligte/:betNr';
    const body = mergeForPut(current, changes, [this.betNrField, ROW_ID_FIELD]);
    const response = await this.client.send({
      method: 'PUT',
      path: betNrPath(betNr),
      route,
      body,
      expect: [409],
    });
    if (response.status === 409)
      throw new StaleWriteError(
        `Beteiligter ${betNr} changed in advoware after the version this write was based on (rowId ${String(rowIdOf(current))}); re-read and retry.`,
        { expected: rowIdOf(current), current: null },
      );
    return sentOnly(await this.#written(betNr, response, 'PUT'), body);
  }

  /** The Beteiligter after a write: from the answer where it carries the new rowId (writeAnswersRowId), else read back. */
  async #written(
    betNr: string,
    response: AdvowareResponse,
    after: 'POST' | 'PUT',
  ): Promise<BeteiligterWrite> {
    if (this.#writeAnswersRowId && isJsonObject(response.body)) {
      const rowId = rowIdOf(response.body);
      if (rowId !== null) return { betNr, record: response.body, rowId };
    }
    return this.#readBack(betNr, after);
  }

  /** `GET Beteiligte/{betNr}/Kommunikationen`: the items of the sub-resource. */
  async listKommunikationen(betNr: string): Promise<Kommunikation[]> {
    const route = 'GET Beteiligte/:betNr/Kommunikationen';
    const response = await this.client.send({
      method: 'GET',
      path: `${betNrPath(betNr)}/Kommunikationen`,
      route,
      expect: [404],
    });
    if (response.status === 404) throw notFound(`Beteiligter ${betNr}`, route);
    return parseItems(arrayOf(route, response));
  }

  /**
   * `POST Beteiligte/{betNr}/Kommunikationen` with `tlf`, `kommKz` and the optional `bemerkung` and
   * `online`, then a GET of the Beteiligter for the new item's and the parent's `rowId`, as two steps like
   * {@link createBeteiligter}: the POST is never repeated (unanswered, or answered without an id, it is a
   * VendorWriteAmbiguousError), and a failed read-back returns what was sent with the new id.
   */
  async createKommunikation(betNr: string, item: NewKommunikation): Promise<KommunikationWrite> {
    if (!isKommKz(item.kommKz)) {
      throw new InputError(
        'ADVOWARE_KOMMKZ_INVALID',
        `kommKz must be an integer from 1 (TelGesch) to 12 (Bea), got ${String(item.kommKz)}.`,
      );
    }
    const route = 'POST Beteiligte/:betNr/Kommunikationen';
    const body: JsonObject = {
      tlf: item.tlf,
      kommKz: item.kommKz,
      ...(item.bemerkung !== undefined && { bemerkung: item.bemerkung }),
      ...(item.online !== undefined && { online: item.online }),
    };
    const response = await this.client.send({
      method: 'POST',
      path: `${betNrPath(betNr)}/Kommunikationen`,
      route,
      body,
    });
    const id = createdIdOf(response.body, 'id');
    if (id === undefined) {
      throw new VendorWriteAmbiguousError(
        `${route} answered ${response.status} without the new item's id: it was probably created; list the Beteiligter's Kommunikationen before retrying.`,
        { status: response.status, route },
      );
    }
    try {
      return await this.#readKommunikationBack(betNr, Number(id));
    } catch (error) {
      const raw: JsonObject = { ...body, id: Number(id) };
      return {
        kommunikation: {
          id: Number(id),
          rowId: null,
          tlf: item.tlf,
          bemerkung: item.bemerkung ?? '',
          kommKz: item.kommKz,
          online: item.online ?? false,
          raw,
        },
        beteiligterRowId: null,
        readBackError: error instanceof Error ? error : new Error(String(error)),
      };
    }
  }

  /**
   * Changes `tlf`, `bemerkung` and/or `online` of a Kommunikation by read-modify-write: the current item
   * is read, the three writable fields are merged and PUT (nothing else is sent: `kommKz` is read-only and
   * never sent, seed 003), then read back with its Beteiligter's new `rowId`. `expectedRowId` is compared
   * with the item's current rowId.
   */
  async updateKommunikation(
    betNr: string,
    id: number,
    changes: KommunikationChanges,
    condition: RowIdCondition = {},
  ): Promise<KommunikationWrite> {
    const route = 'PUT Beteiligte/:betNr/Kommunikationen/:id';
    const { items } = await this.#kommunikationen(betNr);
    const current = items.find((item) => item.id === id);
    if (current === undefined) throw notFound(`Kommunikation ${id} of Beteiligter ${betNr}`, route);
    staleCheck(`Kommunikation ${id} of Beteiligter ${betNr}`, condition.expectedRowId, current.rowId);
    // Unchanged values go back exactly as read (a null bemerkung stays null, not '').
    const unchanged = (name: string, fallback: JsonValue) =>
      (getField(current.raw, name) as JsonValue | undefined) ?? fallback;
    const body: JsonObject = {
      tlf: changes.tlf ?? unchanged('tlf', current.tlf),
      bemerkung: changes.bemerkung !== undefined ? changes.bemerkung : unchanged('bemerkung', null),
      online: changes.online ?? current.online,
    };
    await this.client.send({
      method: 'PUT',
      path: `${betNrPath(betNr)}/Kommunikationen/${id}`,
      route,
      body,
    });
    return this.#readKommunikationBack(betNr, id);
  }

  /** The Beteiligter after a write; it must exist, since the write just succeeded. */
  async #readBack(betNr: string, after: 'POST' | 'PUT'): Promise<BeteiligterWrite> {
    const record = await this.getBeteiligter(betNr);
    if (record === null)
      throw notFound(`Beteiligter ${betNr} (read back after ${after})`, 'GET Beteiligte/:betNr');
    return { betNr, record, rowId: rowIdOf(record) };
  }

  /**
   * The Kommunikationen of a Beteiligter with its `rowId`, in one GET when the body embeds
   * `kommunikation[]` (seed 003), else from the sub-resource as well.
   */
  async #kommunikationen(betNr: string): Promise<{ items: Kommunikation[]; rowId: string | null }> {
    const record = await this.getBeteiligter(betNr);
    if (record === null) throw notFound(`Beteiligter ${betNr}`, 'GET Beteiligte/:betNr');
    const embedded = getField(record, KOMMUNIKATION_FIELD);
    const items = Array.isArray(embedded)
      ? parseItems(embedded.filter((item): item is JsonObject => isObject(item)))
      : await this.listKommunikationen(betNr);
    return { items, rowId: rowIdOf(record) };
  }

  async #readKommunikationBack(betNr: string, id: number): Promise<KommunikationWrite> {
    const read = await this.#kommunikationen(betNr);
    let { items } = read;
    // An embedded list might lag behind the sub-resource; ask the sub-resource before giving up.
    if (!items.some((item) => item.id === id)) items = await this.listKommunikationen(betNr);
    const kommunikation = items.find((item) => item.id === id);
    if (kommunikation === undefined)
      throw notFound(
        `Kommunikation ${id} of Beteiligter ${betNr} (read back after the write)`,
        'GET Beteiligte/:betNr',
      );
    return { kommunikation, beteiligterRowId: read.rowId };
  }
}

function parseItems(values: readonly JsonValue[]): Kommunikation[] {
  return values.map(parseKommunikation).filter((item): item is Kommunikation => item !== null);
}

function notFound(what: string, route: string): AdvowareApiError {
  return new AdvowareApiError(`${what} does not exist in advoware.`, {
    status: 404,
    route,
    retryable: false,
  });
}
