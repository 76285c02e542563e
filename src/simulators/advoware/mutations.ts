/**
 * Every change of the database goes through here, whoever makes it (an API call with a token, or a human
 * played through `/_sim/act/...`): the record gets a new `rowId` on every write (seed 004), a write of a
 * Kommunikation renews the item's rowId and (quirk `kommWriteChangesParentRowId`) its Beteiligter's, and
 * each change is reported once (to the optional change webhooks and to persistence).
 */
import type { Clock } from '../../ports/clock.ts';
import type { KommunikationChanges, NewKommunikation } from './body.ts';
import { conflict, notFound } from './errors.ts';
import { randomRowId } from './model.ts';
import type { BeteiligterRecord, KommunikationRecord, SimState } from './model.ts';
import type { AdvowareQuirks } from './quirks.ts';
import type { BeteiligteSchema } from './schema.ts';

/** What a change is called in the optional webhooks' payload. */
export type ChangeEventName = 'Beteiligte.created' | 'Beteiligte.changed' | 'Beteiligte.deleted';

/** One change of a Beteiligter (or of one of its Kommunikationen). */
export interface SimChange {
  readonly event: ChangeEventName;
  readonly betNr: number;
  /** The record's rowId after the change; null once deleted. */
  readonly rowId: string | null;
  /** When it happened, ISO 8601 UTC by the simulator's clock. */
  readonly at: string;
}

/** How a Beteiligte write treats fields missing from its input. */
export type WriteMode = 'replace' | 'merge';

/** Dependencies of {@link Mutations}. */
export interface MutationsOptions {
  readonly state: SimState;
  readonly schema: BeteiligteSchema;
  readonly clock: Clock;
  /** Current quirks, read on every write. */
  readonly quirks: () => AdvowareQuirks;
  /** Receives every change. */
  readonly emit: (change: SimChange) => void;
  /** Source of new rowIds; default {@link randomRowId}. */
  readonly newRowId?: () => string;
}

/** Creates, updates and deletes Beteiligte and Kommunikationen, renewing rowIds and reporting changes. */
export class Mutations {
  readonly #options: MutationsOptions;
  readonly #newRowId: () => string;

  constructor(options: MutationsOptions) {
    this.#options = options;
    this.#newRowId = options.newRowId ?? randomRowId;
  }

  /** The Beteiligter with `betNr`, or a 404. */
  requireBeteiligter(betNr: number): BeteiligterRecord {
    const record = this.#options.state.get(betNr);
    if (record === undefined) throw notFound(`Beteiligter mit BetNr ${betNr} wurde nicht gefunden.`);
    return record;
  }

  /** The Kommunikation `id` of Beteiligter `betNr`, or a 404. */
  requireKommunikation(betNr: number, id: number): { record: BeteiligterRecord; item: KommunikationRecord } {
    const record = this.requireBeteiligter(betNr);
    const item = record.kommunikation.find((candidate) => candidate.id === id);
    if (item === undefined)
      throw notFound(`Kommunikation ${id} des Beteiligten ${betNr} wurde nicht gefunden.`);
    return { record, item };
  }

  /**
   * Creates a Beteiligter (with Kommunikationen, as a human may enter them in one go). `silent`: background
   * data (seeding) that no change event reports.
   */
  create(
    fields: Record<string, string | null>,
    kommunikation: readonly NewKommunikation[] = [],
    options: { readonly silent?: boolean } = {},
  ): BeteiligterRecord {
    const { state } = this.#options;
    const record: BeteiligterRecord = {
      betNr: state.allocateBetNr(),
      rowId: this.#newRowId(),
      fields: this.#completeFields(fields),
      kommunikation: kommunikation.map((input) => this.#newItem(input)),
    };
    state.beteiligte.set(record.betNr, record);
    if (options.silent !== true) this.#report('Beteiligte.created', record);
    return record;
  }

  /**
   * Writes text fields of a Beteiligter: `replace` clears every field missing from `fields` (a full PUT),
   * `merge` keeps them. With `expectedRowId` (quirk `putChecksRowId`) a stale rowId is a 409.
   */
  update(
    betNr: number,
    fields: Record<string, string | null>,
    mode: WriteMode,
    expectedRowId?: string,
  ): BeteiligterRecord {
    const record = this.requireBeteiligter(betNr);
    if (expectedRowId !== undefined && expectedRowId !== record.rowId)
      throw conflict(
        `Der Beteiligte ${betNr} wurde zwischenzeitlich geändert (rowId ${expectedRowId} ist veraltet); read it again.`,
      );
    record.fields = mode === 'replace' ? this.#completeFields(fields) : { ...record.fields, ...fields };
    record.rowId = this.#newRowId();
    this.#report('Beteiligte.changed', record);
    return record;
  }

  /** Deletes a Beteiligter with its Kommunikationen (only humans can; the API offers no delete). */
  delete(betNr: number): void {
    const record = this.requireBeteiligter(betNr);
    this.#options.state.beteiligte.delete(betNr);
    this.#options.emit({ event: 'Beteiligte.deleted', betNr: record.betNr, rowId: null, at: this.#now() });
  }

  /** Adds a Kommunikation to Beteiligter `betNr`. */
  addKommunikation(betNr: number, input: NewKommunikation): KommunikationRecord {
    const record = this.requireBeteiligter(betNr);
    const item = this.#newItem(input);
    record.kommunikation.push(item);
    this.#kommunikationWritten(record);
    return item;
  }

  /** Changes `tlf`, `bemerkung` and/or `online` of a Kommunikation; its `kommKz` never changes. */
  updateKommunikation(betNr: number, id: number, changes: KommunikationChanges): KommunikationRecord {
    const { record, item } = this.requireKommunikation(betNr, id);
    if (changes.tlf !== undefined) item.tlf = changes.tlf;
    if (changes.bemerkung !== undefined) item.bemerkung = changes.bemerkung;
    if (changes.online !== undefined) item.online = changes.online;
    item.rowId = this.#newRowId();
    this.#kommunikationWritten(record);
    return item;
  }

  /** Removes a Kommunikation (humans always can; the API only with the `deleteForbidden` quirk off). */
  deleteKommunikation(betNr: number, id: number): void {
    const { record, item } = this.requireKommunikation(betNr, id);
    record.kommunikation = record.kommunikation.filter((candidate) => candidate !== item);
    this.#kommunikationWritten(record);
  }

  #completeFields(fields: Record<string, string | null>): Record<string, string | null> {
    return Object.fromEntries(this.#options.schema.fieldNames.map((field) => [field, fields[field] ?? null]));
  }

  #newItem(input: NewKommunikation): KommunikationRecord {
    return { id: this.#options.state.allocateKommId(), rowId: this.#newRowId(), ...input };
  }

  #kommunikationWritten(record: BeteiligterRecord): void {
    if (this.#options.quirks().kommWriteChangesParentRowId) record.rowId = this.#newRowId();
    this.#report('Beteiligte.changed', record);
  }

  #report(event: ChangeEventName, record: BeteiligterRecord): void {
    this.#options.emit({ event, betNr: record.betNr, rowId: record.rowId, at: this.#now() });
  }

  #now(): string {
    return new Date(this.#options.clock.now()).toISOString();
  }
}
