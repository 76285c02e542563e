/**
 * A mapping module: the mapping of a group of canonical fields that no field-by-field mapping can express,
 * because which vendor fields hold a value depends on the record (seed 004's person/company rule). crmsync
 * ships some (see `mappings/`), and a TS config may pass its own object.
 */
import type { JsonObject, JsonValue } from '../../../core/types.ts';

/** The fields of a vendor record as the connector reads them (`VendorRecord.fields`): name -> JSON value. */
export type VendorFields = { readonly [field: string]: JsonValue | undefined };

/** Canonical values of a mapping module's fields. */
export type ModuleValues = { readonly [field: string]: JsonValue };

/**
 * A mapping module of one side. Pure: no I/O, no clock.
 *
 * Contract (round-trip safety): for every `values` that `toCanonical` can return, `toCanonical(toVendor(values))`
 * equals `values`, so what the engine writes never reads back as a change.
 */
export interface MappingModule {
  /** Name for messages and the registry of built-in modules. */
  readonly name: string;
  /** The canonical fields the module produces and consumes; every one must be mapped to the module. */
  readonly fields: readonly string[];
  /** The vendor fields the module reads and writes (for select lists and read-modify-write). */
  readonly vendorFields: readonly string[];
  /** The module's canonical values of a vendor record; a field it does not return counts as `null`. */
  toCanonical(record: VendorFields): ModuleValues;
  /**
   * The vendor fields for the module's canonical values after a merge (every field of the module, also those
   * the merge did not change: which vendor fields are used may depend on all of them).
   */
  toVendor(values: ModuleValues): JsonObject;
}
