/**
 * The simulated advoware database: Beteiligte (parties: persons and companies) with their embedded
 * Kommunikationen (phone numbers, e-mail addresses, URLs). Records are stored as the vendor would hold them
 * (the real `kommKz`, never the 0 the read bug shows); how they look on the wire is `views.ts`'s business.
 *
 * `rowId` is the only change marker Advoware offers (seed 004: base64 of a binary value, ~40 characters,
 * new on every update). [INF] Like SQL Server's `rowversion`, but the seed's length suggests more bytes:
 * the simulator uses 30 random bytes (40 base64 characters).
 */
import { randomBytes } from 'node:crypto';

/** Bytes behind a rowId: 30 bytes are 40 base64 characters, the length seed 004 reports. */
export const ROW_ID_BYTES = 30;

/** The first betNr the simulator hands out ([INF]: real numbers are firm-specific). */
const FIRST_BET_NR = 10_001;

/** The first Kommunikation id. Ids are unique across the whole database (seed 003: "id (unique int)"). */
const FIRST_KOMM_ID = 50_001;

/** Whether `value` is a valid kommKz: 1 (TelGesch) .. 12 (Bea), seed 003. */
export function isKommKz(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 12;
}

/** A new rowId from the system's CSPRNG (never a seeded sequence: after a restart it must not repeat). */
export function randomRowId(): string {
  return randomBytes(ROW_ID_BYTES).toString('base64');
}

/** One Kommunikation as stored. */
export interface KommunikationRecord {
  readonly id: number;
  rowId: string;
  /** The value: phone number, e-mail address or URL. */
  tlf: string;
  /** Free-text note (the sync integrator keeps its markers here). */
  bemerkung: string | null;
  /** The real type code (1..12); reads may show 0 (quirk `kommKzReadAsZero`). */
  readonly kommKz: number;
  online: boolean;
}

/** One Beteiligter as stored. */
export interface BeteiligterRecord {
  readonly betNr: number;
  rowId: string;
  /** Top-level text fields (`name`, `vorname`, the configured further fields); absent = null. */
  fields: Record<string, string | null>;
  kommunikation: KommunikationRecord[];
}

/** The database as persisted. */
export interface StateData {
  readonly nextBetNr: number;
  readonly nextKommId: number;
  readonly beteiligte: readonly BeteiligterRecord[];
}

/** The in-memory database. */
export class SimState {
  /** By betNr, in ascending betNr order (ids only grow, and `load` sorts). */
  readonly beteiligte = new Map<number, BeteiligterRecord>();
  #nextBetNr = FIRST_BET_NR;
  #nextKommId = FIRST_KOMM_ID;

  /** Empties the database and restarts the id counters. */
  clear(): void {
    this.beteiligte.clear();
    this.#nextBetNr = FIRST_BET_NR;
    this.#nextKommId = FIRST_KOMM_ID;
  }

  /** A new betNr. */
  allocateBetNr(): number {
    return this.#nextBetNr++;
  }

  /** A new Kommunikation id. */
  allocateKommId(): number {
    return this.#nextKommId++;
  }

  /** The Beteiligter with `betNr`, if any. */
  get(betNr: number): BeteiligterRecord | undefined {
    return this.beteiligte.get(betNr);
  }

  /** Every Beteiligter in ascending betNr order. */
  list(): BeteiligterRecord[] {
    return [...this.beteiligte.values()];
  }

  /** Counts for admin answers. */
  counts(): { beteiligte: number; withKommunikation: number; kommunikationen: number } {
    let withKommunikation = 0;
    let kommunikationen = 0;
    for (const record of this.beteiligte.values()) {
      if (record.kommunikation.length > 0) withKommunikation++;
      kommunikationen += record.kommunikation.length;
    }
    return { beteiligte: this.beteiligte.size, withKommunikation, kommunikationen };
  }

  /** A deep copy of the database for persistence and the state dump. */
  toJSON(): StateData {
    return structuredClone({
      nextBetNr: this.#nextBetNr,
      nextKommId: this.#nextKommId,
      beteiligte: this.list(),
    });
  }

  /** Replaces the database with `data` (from {@link toJSON}). */
  load(data: StateData): void {
    this.clear();
    const records = structuredClone(data.beteiligte).toSorted((a, b) => a.betNr - b.betNr);
    for (const record of records) this.beteiligte.set(record.betNr, record);
    this.#nextBetNr = data.nextBetNr;
    this.#nextKommId = data.nextKommId;
  }
}
