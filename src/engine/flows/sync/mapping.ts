/**
 * The mapping layer of a sync flow: a side's vendor record -> its canonical record (what the three-way merge
 * compares), and the merge's canonical writes -> the vendor fields to write. Pure: no I/O. Round-trip safe
 * when the transforms and modules are (see their contracts): the canonical record read back from a written
 * vendor record equals what was written, so the next merge sees no change.
 */
import { valueHash } from '../../../core/canonical.ts';
import { CrmsyncError } from '../../../core/errors.ts';
import { readScalar, sameJson } from '../../../core/sync/record.ts';
import type {
  CanonicalRecord,
  ConflictPolicy,
  FieldSpec,
  FieldValue,
  Side,
} from '../../../core/sync/record.ts';
import type { JsonObject, JsonValue } from '../../../core/types.ts';
import type { VendorRecord } from '../../../ports/connector.ts';
import type { MappingModule, ModuleValues, VendorFields } from './mapping-module.ts';
import { resolveModule } from './options.ts';
import type { SyncOptions } from './options.ts';
import { BUILT_IN_TRANSFORMS, NORMALISERS, chainTransforms } from './transforms.ts';
import type { ValueTransform } from './transforms.ts';

/** One side's mapping, compiled from the flow's options. */
export interface SideMapper {
  /** Which side. */
  readonly side: Side;
  /** Every vendor field the mapping reads or writes (select lists, read-modify-write). */
  readonly vendorFields: readonly string[];
  /** The canonical record of a vendor record: every mapped field, `null` where the vendor has no value. */
  toCanonical(record: VendorFields): CanonicalRecord;
  /**
   * The vendor fields to write for a merge's writes to this side (`MergeResult.writes[side].fields`), given
   * the side's current canonical record. A mapped field is returned only when its value changes; when any
   * field of a mapping module changes, the module gets all its fields (current values with the writes
   * applied) and all the vendor fields it returns are written, because which vendor fields it uses depends on
   * all of them and the vendor record may hold stale values the module clears.
   */
  toVendor(writes: { readonly [field: string]: FieldValue }, current: CanonicalRecord): JsonObject;
  /**
   * The vendor fields that bring a record to the shape its mapping modules write (a company's hidden first
   * and last name cleared, a person's display name rebuilt), or `{}` when it has that shape already. They
   * change no canonical value, so they are not a merge's business: the side a user edited gets no write from
   * the merge, and this is how it is cleaned up too (in the same request as any other write to it).
   */
  normalise(record: VendorFields): JsonObject;
}

/** A sync flow ready to run: the merge's field specs and both sides' mappings. */
export interface CompiledSyncFlow {
  /** The field specs for `mergeRecords`, in config order. */
  readonly fields: readonly FieldSpec[];
  /** Side a's mapping. */
  readonly a: SideMapper;
  /** Side b's mapping. */
  readonly b: SideMapper;
}

type FieldPlan =
  | {
      readonly kind: 'field';
      readonly name: string;
      readonly vendorField: string;
      readonly transform: ValueTransform;
    }
  | { readonly kind: 'module'; readonly name: string; readonly module: MappingModule };

/** Compiles validated options (`syncOptionsSchema` output) into field specs and side mappings. */
export function compileSyncFlow(options: SyncOptions): CompiledSyncFlow {
  const fields: FieldSpec[] = Object.entries(options.fields).map(([name, field]) => {
    const rules = { name, direction: field.direction, policy: policyOf(field.conflict ?? options.conflict) };
    if (field.collection === undefined) return { kind: 'scalar', ...rules };
    const { normalise, primaryAttribute } = field.collection;
    return {
      kind: 'collection',
      ...rules,
      normalise: typeof normalise === 'string' ? NORMALISERS[normalise] : normalise,
      ...(primaryAttribute === undefined ? {} : { primaryAttribute }),
    };
  });
  return { fields, a: sideMapper(options, 'a'), b: sideMapper(options, 'b') };
}

function policyOf(config: SyncOptions['conflict']): ConflictPolicy {
  return config.kind === 'newest-wins'
    ? { kind: 'newest-wins', onTie: config.onTie ?? 'a' }
    : { kind: config.kind };
}

function sideMapper(options: SyncOptions, side: Side): SideMapper {
  const plans = new Map<string, FieldPlan>();
  for (const [name, field] of Object.entries(options.fields)) {
    const mapping = field[side];
    plans.set(
      name,
      mapping.module !== undefined
        ? { kind: 'module', name, module: resolveModule(mapping.module) }
        : {
            kind: 'field',
            name,
            vendorField: mapping.field!,
            transform: chainTransforms(
              (mapping.transform ?? []).map((step) =>
                typeof step === 'string' ? BUILT_IN_TRANSFORMS[step] : step,
              ),
            ),
          },
    );
  }
  const modules = [
    ...new Set([...plans.values()].flatMap((plan) => (plan.kind === 'module' ? [plan.module] : []))),
  ];
  const vendorFields = [
    ...new Set(
      [...plans.values()].flatMap((plan) =>
        plan.kind === 'field' ? [plan.vendorField] : plan.module.vendorFields,
      ),
    ),
  ];

  return {
    side,
    vendorFields,
    toCanonical(record) {
      const canonical: Record<string, JsonValue> = {};
      for (const module of modules)
        Object.assign(canonical, pickModuleValues(module, module.toCanonical(record)));
      for (const plan of plans.values())
        if (plan.kind === 'field')
          canonical[plan.name] = plan.transform.toCanonical(record[plan.vendorField] ?? null);
      return canonical;
    },
    toVendor(writes, current) {
      const vendor: Record<string, JsonValue> = {};
      const touched = new Set<MappingModule>();
      for (const [name, value] of Object.entries(writes)) {
        const plan = plans.get(name);
        if (plan === undefined)
          throw new CrmsyncError(
            'SYNC_FIELD_UNMAPPED',
            `The merge wrote field "${name}", which side ${side} does not map; this is a defect in the flow's field specs.`,
            { details: { field: name, side } },
          );
        if (plan.kind === 'module') touched.add(plan.module);
        else if (!sameJson(readScalar(current, name), value as JsonValue))
          vendor[plan.vendorField] = plan.transform.toVendor(value as JsonValue);
      }
      const next = { ...current, ...writes };
      // All of a module's vendor fields: the vendor record may hold values its canonical fields ignore (a
      // company's stale lastName in EspoCRM), which must be cleared, as the seed does.
      for (const module of touched)
        Object.assign(vendor, module.toVendor(pickModuleValues(module, moduleInput(module, next))));
      return vendor;
    },
    normalise(record) {
      const changes: Record<string, JsonValue> = {};
      for (const module of modules) {
        const shaped = module.toVendor(pickModuleValues(module, module.toCanonical(record)));
        for (const [field, value] of Object.entries(shaped))
          if (!sameJson(record[field] ?? null, value)) changes[field] = value;
      }
      return changes;
    },
  };
}

/** A module's values for exactly its fields (a field it left out is `null`), so it cannot set foreign fields. */
function pickModuleValues(module: MappingModule, values: ModuleValues): Record<string, JsonValue> {
  return Object.fromEntries(module.fields.map((field) => [field, values[field] ?? null]));
}

function moduleInput(module: MappingModule, record: CanonicalRecord): ModuleValues {
  return Object.fromEntries(module.fields.map((field) => [field, readScalar(record, field)]));
}

/**
 * The hash of a listed record's mapped values (as base snapshots hold them), or null when the list left a
 * mapped field out (a configured `select`): the reconciler then goes by versions alone for that record.
 */
export function mappedFingerprint(
  mapper: Pick<SideMapper, 'vendorFields' | 'toCanonical'>,
): (record: VendorRecord) => string | null {
  return (record) =>
    mapper.vendorFields.every((field) => Object.hasOwn(record.fields, field))
      ? valueHash(mapper.toCanonical(record.fields) as JsonObject)
      : null;
}
