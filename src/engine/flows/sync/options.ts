/**
 * Options of a `sync` flow: two sides, the mapped fields (per side a vendor field with transforms, or a
 * mapping module), each field's direction and conflict policy, the match rules of a first link and the
 * optional status fields of seed 004. Cross-field rules (a module's fields all mapped, no vendor field written
 * twice, match keys that exist) are checked here too, so one validation lists every problem with its path.
 */
import { z } from 'zod';
import type { MappingModule } from './mapping-module.ts';
import { DEFAULT_PENDING_STATUSES, DEFAULT_RECONCILE_CRON } from './reconcile.ts';
import { BUILT_IN_MODULES } from './mappings/index.ts';
import { BUILT_IN_TRANSFORM_NAMES, BUILT_IN_TRANSFORMS, NORMALISERS } from './transforms.ts';
import type { BuiltInTransformName, NormaliserName, ValueTransform } from './transforms.ts';

const sideName = z.enum(['a', 'b']);
const nonBlank = z.string().trim().min(1, 'must not be blank');

/** One side of the flow: a configured connection and the entity type synced there. */
const sideSchema = z.strictObject({
  /** Name of a connection in `connections`. */
  connection: nonBlank,
  /** The vendor's entity type, e.g. `CBeteiligte` (EspoCRM) or `Beteiligte` (Advoware). */
  entityType: nonBlank,
});

function isFunction(value: unknown): boolean {
  return typeof value === 'function';
}

function isValueTransform(value: unknown): value is ValueTransform {
  if (typeof value !== 'object' || value === null) return false;
  const { toCanonical, toVendor } = value as Record<string, unknown>;
  return isFunction(toCanonical) && isFunction(toVendor);
}

function isMappingModule(value: unknown): value is MappingModule {
  if (typeof value !== 'object' || value === null) return false;
  const module = value as Record<string, unknown>;
  return (
    typeof module.name === 'string' &&
    Array.isArray(module.fields) &&
    Array.isArray(module.vendorFields) &&
    isFunction(module.toCanonical) &&
    isFunction(module.toVendor)
  );
}

/** A transform: a built-in's name, or (in a TS config) a `{ toCanonical, toVendor }` pair of functions. */
const transformSchema = z.custom<BuiltInTransformName | ValueTransform>(
  (value) => (typeof value === 'string' && value in BUILT_IN_TRANSFORMS) || isValueTransform(value),
  {
    // Not aborting: the cross-field checks still run, so one validation lists every problem.
    abort: false,
    error: (issue) =>
      `${JSON.stringify(issue.input) ?? 'this value'} is not a transform; use one of ${BUILT_IN_TRANSFORM_NAMES.join(', ')} or, in a TS config, { toCanonical, toVendor } functions`,
  },
);

/** A mapping module: a built-in's name, or (in a TS config) a {@link MappingModule} object. */
const moduleSchema = z.custom<string | MappingModule>(
  (value) => (typeof value === 'string' && BUILT_IN_MODULES.has(value)) || isMappingModule(value),
  {
    // Not aborting: the cross-field checks still run, so one validation lists every problem.
    abort: false,
    error: (issue) =>
      `${JSON.stringify(issue.input) ?? 'this value'} is not a mapping module; use one of ${[...BUILT_IN_MODULES.keys()].join(', ')} or, in a TS config, a MappingModule object`,
  },
);

/**
 * How a field is mapped on one side: `'vendorField'` (short for `{ field: 'vendorField' }`), `{ field,
 * transform }` (one transform or a chain, applied in order when reading and in reverse when writing), or
 * `{ module }`.
 */
const sideFieldSchema = z.preprocess(
  (value) => (typeof value === 'string' ? { field: value } : value),
  z
    .strictObject({
      field: nonBlank.optional(),
      transform: z
        .preprocess(
          (value: unknown): unknown[] =>
            value === undefined ? [] : Array.isArray(value) ? (value as unknown[]) : [value],
          z.array(transformSchema),
        )
        .optional(),
      module: moduleSchema.optional(),
    })
    .superRefine((mapping, context) => {
      if ((mapping.field === undefined) === (mapping.module === undefined))
        context.addIssue({
          code: 'custom',
          message: 'map the field either to a vendor field ("field") or to a mapping module ("module")',
        });
      else if (mapping.module !== undefined && (mapping.transform?.length ?? 0) > 0)
        context.addIssue({
          code: 'custom',
          path: ['transform'],
          message: 'a mapping module does its own transforms; remove "transform"',
        });
    }),
);

/**
 * A conflict policy: `a-wins`, `b-wins`, `manual`, `newest-wins` (a tie, or an unknown time, goes to side
 * a), or `{ kind: 'newest-wins', onTie: 'b' }`.
 */
const policySchema = z.preprocess(
  (value) => (typeof value === 'string' ? { kind: value } : value),
  z
    .strictObject({
      kind: z.enum(['a-wins', 'b-wins', 'newest-wins', 'manual']),
      onTie: sideName.optional(),
    })
    .refine((policy) => policy.kind === 'newest-wins' || policy.onTie === undefined, {
      message: '"onTie" applies only to newest-wins',
      path: ['onTie'],
    }),
);

/**
 * How the items of a collection field are keyed: a built-in normaliser's name (see {@link NORMALISERS}) or,
 * in a TS config, a pure function from an item's value to its key.
 */
const normaliserSchema = z.custom<NormaliserName | ((value: string) => string)>(
  (value) => (typeof value === 'string' && value in NORMALISERS) || isFunction(value),
  {
    // Not aborting: the cross-field checks still run, so one validation lists every problem.
    abort: false,
    error: (issue) =>
      `${JSON.stringify(issue.input) ?? 'this value'} is not a normaliser; use one of ${Object.keys(NORMALISERS).join(', ')} or, in a TS config, a function`,
  },
);

/**
 * A collection field (e-mail addresses, phone numbers: sets of items without vendor ids, see the merge). Its
 * value is a list of `{ value, attributes }` items, which only a mapping module produces, on both sides.
 */
const collectionSchema = z.strictObject({
  normalise: normaliserSchema,
  /** The boolean item attribute marking the one primary item (EspoCRM `primary`), if there is one. */
  primaryAttribute: nonBlank.optional(),
});

/** One mapped field (keyed by its canonical name in `fields`). */
const fieldSchema = z.strictObject({
  a: sideFieldSchema,
  b: sideFieldSchema,
  /** Set for a collection field; absent for a scalar field (one JSON value). */
  collection: collectionSchema.optional(),
  /** Which way the field flows; a one-way field's target is overwritten by the source (default both). */
  direction: z.enum(['both', 'a-to-b', 'b-to-a']).default('both'),
  /** This field's conflict policy; default the flow's `conflict`. Only for fields that flow both ways. */
  conflict: policySchema.optional(),
});

/** How a record without a link finds its partner on the other side. */
const matchSchema = z.strictObject({
  /**
   * The vendor field of `side` that stores the other side's record id (EspoCRM `advowareId`), tried first:
   * records the seed system already linked are linked again, not duplicated. The engine writes it after a
   * create.
   */
  foreignKey: z.strictObject({ side: sideName, field: nonBlank }).optional(),
  /**
   * Key sets of canonical fields, tried in order after the foreign key: a record matches when every field of
   * a set is non-null and equal on both sides (canonical values, after transforms), e.g. `[['lastName',
   * 'email']]`. No key sets: an unmatched record is created on the other side.
   */
  keys: z.array(z.array(nonBlank).min(1, 'a key set needs at least one field')).default([]),
});

/**
 * The seed system's status fields (seed 004), kept on one side (EspoCRM) so that its users see the state of
 * a record and records it already synced are picked up where they are. Each field is optional: a field not
 * named is not written. The `syncStatus` values are {@link SYNC_STATUS_VALUES}.
 */
const statusSchema = z.strictObject({
  /** The side holding the status fields. */
  side: sideName,
  /** Enum field with the values of {@link SYNC_STATUS_VALUES} (seed: `syncStatus`). */
  syncStatus: nonBlank.optional(),
  /** Date-time of the last successful sync (seed: `advowareLastSync`). */
  lastSync: nonBlank.optional(),
  /** How `lastSync` is written: `datetime-utc` (`2026-12-04 09:30:00`, EspoCRM's date-time) or `iso`. */
  lastSyncFormat: z.enum(['datetime-utc', 'iso']).default('datetime-utc'),
  /** Text of the last error, cut to `errorMessageMaxLength` (seed: `syncErrorMessage`). */
  errorMessage: nonBlank.optional(),
  /** Longest error text written (seed: 2,000 characters, the field's size). */
  errorMessageMaxLength: z.number().int().positive().default(2_000),
  /** Number of failed attempts since the last success (seed: `syncRetryCount`). */
  retryCount: nonBlank.optional(),
  /** The other side's version token as last synced (seed: `advowareRowId`, Advoware's `rowId`). */
  versionToken: nonBlank.optional(),
  /**
   * Keep `lastSync` and `versionToken` current after every sync that wrote the other side, also when the status
   * side gets no data: one request more per change synced into the other side (default true, so the record
   * shows its last sync and the rowId it is at, as the seed system's did). With false, the status fields only
   * travel with data written to the status side, and `versionToken` can trail the other side's token.
   */
  keepCurrent: z.boolean().default(true),
});

/** A scan's budget: how often it runs and which share of the connection's request budget it may spend. */
function scanSchema(defaults: { readonly everySeconds: number; readonly budgetShare: number }) {
  return z.strictObject({
    enabled: z.boolean().default(true),
    /** Seconds between two ticks (1 to 86,400). */
    everySeconds: z.number().int().min(1).max(86_400).default(defaults.everySeconds),
    /** The share of the connection's `requestsPerSecond` the scan may spend, above 0 and at most 1. */
    budgetShare: z
      .number()
      .gt(0, 'must be above 0')
      .max(1, 'must be at most 1 (the whole budget)')
      .default(defaults.budgetShare),
  });
}

/**
 * How changes are found besides webhooks (DESIGN lesson 1: webhooks are hints). Each side gets the scan its
 * connector's capabilities allow: the reconciler where it lists by modification time (EspoCRM), the re-check of
 * linked records and the discovery of new ones where it cannot (Advoware). See docs/sync-flow.md.
 */
const detectionSchema = z.strictObject({
  reconcile: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Cron expression (croner syntax); default every 15 minutes. */
      cron: nonBlank.default(DEFAULT_RECONCILE_CRON),
      /** How far the first run looks back. */
      lookbackMinutes: z.number().int().positive().default(60),
      /** Most jobs one run queues; the rest waits for the next run. */
      maxPerRun: z.number().int().positive().default(10_000),
      /** `syncStatus` values that ask for a sync (only with `status.syncStatus` on the side). */
      pendingStatuses: z.array(nonBlank).default([...DEFAULT_PENDING_STATUSES]),
    })
    .prefault({}),
  recheck: scanSchema({ everySeconds: 60, budgetShare: 0.2 }).prefault({}),
  discovery: scanSchema({ everySeconds: 300, budgetShare: 0.1 }).prefault({}),
});

/**
 * Soft deletes (DESIGN lesson 4). A record seen gone marks its link; once it has stayed gone for the grace
 * period, the other side's record is flagged: the link's status becomes `deleted` (it is no longer synced),
 * the status side's error field says why, and an operator notice goes out. Nothing is ever deleted from an
 * inference; a record that comes back within the grace period clears the mark.
 */
const deletesSchema = z.strictObject({
  /** Minutes a record must stay gone before the other side is flagged (default one day). */
  graceMinutes: z.number().min(0).default(1_440),
  /** Cron of the sweep that flags deletions whose grace period ended; default every 5 minutes. */
  cron: nonBlank.default('*/5 * * * *'),
});

/**
 * Operator notices (conflicts, records that failed for good, deletions) as vendor notifications on one side,
 * e.g. EspoCRM in-app Notifications to a user. Where the connector cannot notify, notices are only logged.
 */
const notifySchema = z.strictObject({
  /** The side whose connector delivers the notices. */
  side: sideName,
  /** The recipient (EspoCRM: a user id); absent: the connector's default (EspoCRM: a post on the record). */
  userId: nonBlank.optional(),
});

/** The `syncStatus` values of seed 004 (its `syncing` is not written: the lock is crmsync's, not the CRM's). */
export const SYNC_STATUS_VALUES = ['clean', 'dirty', 'failed', 'permanently_failed', 'pending_sync'] as const;

/** Canonical field names: they are keys of base snapshots and appear in logs and conflict records. */
const CANONICAL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const syncOptionsObject = z.strictObject({
  /** Side a. By convention the side that wins conflicts by default: put EspoCRM here (see `conflict`). */
  a: sideSchema,
  /** Side b. */
  b: sideSchema,
  /** The mapped fields by canonical name. Vendor fields not mapped here are never written. */
  fields: z
    .record(z.string().regex(CANONICAL_NAME, 'use letters, digits and "_" only'), fieldSchema)
    .refine((fields) => Object.keys(fields).length > 0, 'map at least one field'),
  /**
   * The flow's default conflict policy (a field may set its own). Default `a-wins`: side a's value is kept,
   * the seeds' "EspoCRM wins" when EspoCRM is side a, as in `beteiligteFlowDefaults`.
   */
  conflict: policySchema.default({ kind: 'a-wins' }),
  match: matchSchema.prefault({}),
  status: statusSchema.optional(),
  detection: detectionSchema.prefault({}),
  deletes: deletesSchema.prefault({}),
  notify: notifySchema.optional(),
});

type Issue = { readonly path: (string | number)[]; readonly message: string };
type SideMapping = z.output<typeof sideFieldSchema>;

/**
 * What the cross-field checks read: the parts of the options that are valid on their own. The checks run even
 * when other parts have problems, so that one validation lists every problem; a part with a problem of its
 * own is left out rather than reported twice.
 */
interface CheckedParts {
  /** Every configured canonical field name, valid or not. */
  readonly fieldNames: readonly string[];
  /** The valid side mappings, per side, by canonical name. */
  readonly sides: {
    readonly a: ReadonlyMap<string, SideMapping>;
    readonly b: ReadonlyMap<string, SideMapping>;
  };
  /** Direction and conflict policy of each valid field (the policy absent: the flow default). */
  readonly rules: ReadonlyMap<string, string>;
  /** The collection fields. */
  readonly collections: ReadonlySet<string>;
  /** The one-way fields that set a conflict policy. */
  readonly oneWayWithConflict: readonly { readonly name: string; readonly direction: string }[];
  /** The match key sets as configured; an entry that is not a non-blank text is null (its own problem). */
  readonly keySets: readonly (readonly (string | null)[])[];
  /** The foreign key, when valid. */
  readonly foreignKey: { readonly side: 'a' | 'b'; readonly field: string } | undefined;
  readonly status: z.output<typeof statusSchema> | undefined;
}

function objectOrEmpty(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

function arrayOrEmpty(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? (value as unknown[]) : [];
}

function checkedParts(value: unknown): CheckedParts {
  const options = objectOrEmpty(value);
  const match = objectOrEmpty(options.match);
  const fields = Object.entries(objectOrEmpty(options.fields)).map(
    ([name, field]) => [name, objectOrEmpty(field)] as const,
  );
  const sideMappings = (side: 'a' | 'b'): Map<string, SideMapping> =>
    new Map(
      fields.flatMap(([name, field]) => {
        const mapping = sideFieldSchema.safeParse(field[side]);
        return mapping.success ? [[name, mapping.data] as const] : [];
      }),
    );
  return {
    fieldNames: fields.map(([name]) => name),
    sides: { a: sideMappings('a'), b: sideMappings('b') },
    rules: new Map(
      fields.flatMap(([name, field]) => {
        const parsed = fieldSchema.safeParse(field);
        return parsed.success
          ? [
              [
                name,
                `${parsed.data.direction}, ${JSON.stringify(parsed.data.conflict ?? 'flow default')}`,
              ] as const,
            ]
          : [];
      }),
    ),
    collections: new Set(fields.flatMap(([name, field]) => (field.collection === undefined ? [] : [name]))),
    oneWayWithConflict: fields.flatMap(([name, field]) =>
      (field.direction === 'a-to-b' || field.direction === 'b-to-a') && field.conflict !== undefined
        ? [{ name, direction: field.direction }]
        : [],
    ),
    keySets: arrayOrEmpty(match.keys).map((keySet) =>
      arrayOrEmpty(keySet).map((key) => (typeof key === 'string' && key.trim() !== '' ? key : null)),
    ),
    foreignKey: matchSchema.shape.foreignKey.safeParse(match.foreignKey).data,
    status: options.status === undefined ? undefined : statusSchema.safeParse(options.status).data,
  };
}

/** The module a validated config names: a built-in's name or the module object itself. */
export function resolveModule(reference: string | MappingModule): MappingModule {
  return typeof reference === 'string' ? BUILT_IN_MODULES.get(reference)! : reference;
}

/** Problems of one side's mapping that no single field shows: modules half mapped, vendor fields twice. */
function sideProblems(parts: CheckedParts, side: 'a' | 'b'): Issue[] {
  const issues: Issue[] = [];
  const mappings = parts.sides[side];
  const writers = new Map<string, string>(); // vendor field -> the canonical field (or module) writing it
  const claim = (vendorField: string, owner: string, path: (string | number)[]): void => {
    const previous = writers.get(vendorField);
    if (previous === undefined) writers.set(vendorField, owner);
    else if (previous !== owner)
      issues.push({
        path,
        message: `vendor field "${vendorField}" of side ${side} is already mapped by ${previous}`,
      });
  };
  for (const [name, mapping] of mappings) {
    const path = ['fields', name, side];
    if (mapping.field !== undefined) {
      if (parts.collections.has(name))
        issues.push({
          path: [...path, 'field'],
          message: 'a collection field is a list of { value, attributes } items: map it to a mapping module',
        });
      claim(mapping.field, `field "${name}"`, [...path, 'field']);
      continue;
    }
    if (mapping.module === undefined) continue;
    const module = resolveModule(mapping.module);
    if (!module.fields.includes(name))
      issues.push({
        path: [...path, 'module'],
        message: `module "${module.name}" does not map "${name}"; it maps ${module.fields.join(', ')}`,
      });
    // A field that is configured but invalid on this side has its own problem; it is not reported here.
    const missing = module.fields.filter(
      (other) =>
        (mappings.has(other) || !parts.fieldNames.includes(other)) &&
        moduleName(mappings.get(other)) !== module.name,
    );
    if (missing.length > 0)
      issues.push({
        path: [...path, 'module'],
        message: `module "${module.name}" also maps ${missing.join(', ')}: map ${missing.length === 1 ? 'it' : 'them'} to the module on side ${side} too`,
      });
    const rules = parts.rules.get(name);
    const differing = module.fields.filter(
      (other) =>
        other !== name && parts.rules.has(other) && rules !== undefined && parts.rules.get(other) !== rules,
    );
    // Per-field outcomes of one module could mix a person's and a company's values.
    if (differing.length > 0)
      issues.push({
        path: ['fields', name],
        message: `fields mapped to one mapping module must share one direction and conflict policy; ${name} has ${rules}, ${differing.map((other) => `${other} has ${parts.rules.get(other)}`).join(', ')}`,
      });
    for (const vendorField of module.vendorFields)
      claim(vendorField, `module "${module.name}"`, [...path, 'module']);
  }
  const foreignKey = parts.foreignKey;
  if (foreignKey?.side === side)
    claim(foreignKey.field, 'match.foreignKey', ['match', 'foreignKey', 'field']);
  if (parts.status?.side === side)
    for (const key of ['syncStatus', 'lastSync', 'errorMessage', 'retryCount', 'versionToken'] as const) {
      const vendorField = parts.status[key];
      if (vendorField !== undefined) claim(vendorField, `status.${key}`, ['status', key]);
    }
  return issues;
}

function moduleName(mapping: SideMapping | undefined): string | undefined {
  return mapping?.module === undefined ? undefined : resolveModule(mapping.module).name;
}

function crossProblems(parts: CheckedParts): Issue[] {
  const issues = [...sideProblems(parts, 'a'), ...sideProblems(parts, 'b')];
  for (const { name, direction } of parts.oneWayWithConflict)
    issues.push({
      path: ['fields', name, 'conflict'],
      message: `a ${direction} field has no conflicts (its source side owns it); remove "conflict"`,
    });
  parts.keySets.forEach((keySet, setIndex) =>
    keySet.forEach((key, keyIndex) => {
      if (key !== null && !parts.fieldNames.includes(key))
        issues.push({
          path: ['match', 'keys', setIndex, keyIndex],
          message: `"${key}" is not a mapped field`,
        });
    }),
  );
  // A problem both sides see (a module rule) is listed once.
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = JSON.stringify([issue.path, issue.message]);
    return !seen.has(key) && seen.add(key) !== undefined;
  });
}

/** Zod schema of a sync flow's own options (besides `type` and `connections`). */
export const syncOptionsSchema = syncOptionsObject.superRefine(
  (options, context) => {
    for (const issue of crossProblems(checkedParts(options))) context.addIssue({ code: 'custom', ...issue });
  },
  // Runs even when other parts have problems, so that one validation lists them all (see CheckedParts).
  { when: () => true },
);

/** A sync flow's options as written in a config (before defaults). */
export type SyncOptionsInput = z.input<typeof syncOptionsSchema>;

/** A sync flow's options after validation. */
export type SyncOptions = z.output<typeof syncOptionsSchema>;

/** One field's options after validation. */
export type SyncFieldOptions = SyncOptions['fields'][string];

/** One side's mapping of a field after validation. */
export type SideFieldOptions = SyncFieldOptions['a'];
