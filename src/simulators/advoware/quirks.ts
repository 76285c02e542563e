/**
 * Every behaviour of the simulator that the public material does not pin down, as a switch (DESIGN.md
 * "Simulators"). Defaults follow the seeds (003/004) where they speak and the reference's inferences
 * elsewhere; each switch says how sure that is. Set at start (option `quirks`) or at run time through
 * `POST /_sim/quirks`; read on every request, so a change applies at once.
 */
import { z } from 'zod';

/** Schema of the full quirk set; `POST /_sim/quirks` takes any part of it. */
const advowareQuirksSchema = z.strictObject({
  /**
   * `GET Beteiligte/{betnr}` answers a one-element array instead of an object. [INF] Seed 004's client
   * accepts both shapes (`result[0] if list`); which one the vendor sends is not known. Default off (object).
   */
  getReturnsArray: z.boolean(),
  /**
   * `PUT Beteiligte/{betnr}` replaces the whole record: a field missing from the body is cleared. Seed 004
   * treats PUT as a full replace (hence its read-modify-write). Off: missing fields keep their value. The
   * same switch decides whether a Kommunikation PUT clears a missing `bemerkung` / resets `online`.
   */
  putFullReplace: z.boolean(),
  /**
   * POST/PUT answers carry the new `rowId`. [INF] Seed 004 re-reads after every write to learn it, which
   * suggests the write answer lacks it; default off (the key is absent from write answers).
   */
  writeResponseIncludesRowId: z.boolean(),
  /**
   * [UNCONFIRMED] A Beteiligte PUT whose body carries a `rowId` other than the current one is answered 409.
   * Nothing says the vendor checks it (seed 004 compares rowIds itself); default off.
   */
  putChecksRowId: z.boolean(),
  /** Seed 003's bug: every read of a Kommunikation shows `kommKz: 0`. Default on. */
  kommKzReadAsZero: z.boolean(),
  /**
   * `kommKz` is read-only after creation (seed 003); on: a PUT carrying it is accepted and the value ignored
   * ([INF]: the seed does not say what happens), off: such a PUT is answered 400.
   */
  kommKzIgnoredOnPut: z.boolean(),
  /** `DELETE .../Kommunikationen/{id}` is answered 403 (seed 003). Off: the item is deleted (204). */
  deleteForbidden: z.boolean(),
  /**
   * [INF] A write of a Kommunikation also gives its Beteiligter a new `rowId` (seed 003: "rowId changed ->
   * sync needed" without saying whose rowId). Default on; off: only the item's own rowId changes.
   */
  kommWriteChangesParentRowId: z.boolean(),
  /**
   * [UNCONFIRMED] `GET Beteiligte` honours `?skip=&take=`. Nothing documents the collection's paging
   * (reference §6); off: the parameters are ignored and the whole collection comes back.
   */
  collectionPaging: z.boolean(),
  /**
   * The configurator answers a `connectorUrl` (on) or `null` (off), in which case clients must use the
   * relay (reference §2). Initialised from the option `connectorUrl`.
   */
  connectorUrl: z.boolean(),
  /**
   * The firm's on-premise advoware Manager is offline: the token endpoint and every API call answer 503
   * "... ist nicht angemeldet" (reference §7; the status is [UNCONFIRMED]). Default off.
   */
  kanzleiOffline: z.boolean(),
  /** Token body `Product` values accepted; the docs say third parties always send 64 (reference §3). */
  acceptedProducts: z.array(z.number().int()).min(1),
  /**
   * [UNCONFIRMED] Largest allowed distance, in seconds, between `RequestTimeStamp` and the simulator's clock;
   * 0 = no check. The vendor's replay rules are unknown (reference §3), so the default is off.
   */
  maxClockSkewSeconds: z.number().int().min(0),
  /** [UNCONFIRMED] A token request reusing a `Nonce` is rejected. Unknown (reference §3); default off. */
  rejectReusedNonce: z.boolean(),
  /**
   * [INF] At most this many API requests per second of the simulator's clock, above that 429 with
   * Retry-After; 0 = unlimited. The vendor documents no limit (reference §8), so the default is off.
   */
  requestBudgetPerSecond: z.number().int().min(0),
});

/** The simulator's quirk switches; see {@link advowareQuirksSchema} for each. */
export type AdvowareQuirks = z.output<typeof advowareQuirksSchema>;

/** A partial quirk set, as `POST /_sim/quirks` and the option `quirks` take it. */
export const quirksPatchSchema = advowareQuirksSchema.partial();

/** The quirks of a fresh simulator, with `overrides` applied (a new object each call). */
export function initialQuirks(overrides: Partial<AdvowareQuirks> = {}): AdvowareQuirks {
  return {
    getReturnsArray: false,
    putFullReplace: true,
    writeResponseIncludesRowId: false,
    putChecksRowId: false,
    kommKzReadAsZero: true,
    kommKzIgnoredOnPut: true,
    deleteForbidden: true,
    kommWriteChangesParentRowId: true,
    collectionPaging: true,
    connectorUrl: true,
    kanzleiOffline: false,
    acceptedProducts: [64],
    maxClockSkewSeconds: 0,
    rejectReusedNonce: false,
    requestBudgetPerSecond: 0,
    ...overrides,
  };
}
