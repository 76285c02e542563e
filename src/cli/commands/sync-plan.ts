/**
 * How `crmsync sync plan` shows a {@link SyncPlan}: both sides' canonical values, the link's base snapshots,
 * the merge's conflicts, and the vendor fields a run would write per side (or create the partner with).
 */
import type { CanonicalRecord } from '../../core/sync/record.ts';
import type { MergeConflict } from '../../core/sync/slot.ts';
import type { JsonObject } from '../../core/types.ts';
import type { SyncPlan } from '../../engine/flows/sync/index.ts';
import { showRef, showValue } from './sync-context.ts';

/** One side as planned. */
interface SideView {
  readonly ref: string;
  /** False: the record is gone. */
  readonly exists: boolean;
  readonly canonical: CanonicalRecord;
}

/** The plan as printed (and as `--json` prints it). */
export type PlanView =
  | { readonly kind: 'none'; readonly reason: string }
  | {
      readonly kind: 'create';
      readonly target: 'a' | 'b';
      readonly own: SideView;
      readonly conflicts: readonly MergeConflict[];
      /** The vendor fields the partner would be created with, and the match making the create an upsert. */
      readonly fields: JsonObject;
      readonly match: JsonObject;
    }
  | {
      readonly kind: 'gone' | 'merge';
      /** For `gone`: the side whose record is gone. */
      readonly side?: 'a' | 'b';
      /** False for a first link to a partner found by the foreign key. */
      readonly linked: boolean;
      readonly sides: { readonly a: SideView; readonly b: SideView };
      readonly base: { readonly a: JsonObject | null; readonly b: JsonObject | null };
      readonly conflicts: readonly MergeConflict[];
      /** Vendor fields a run would write per side (empty: no write). */
      readonly writes: { readonly a: JsonObject; readonly b: JsonObject };
    };

/** The view of a plan. */
export function planView(plan: SyncPlan): PlanView {
  if (plan.kind === 'none') return plan;
  if (plan.kind === 'create')
    return {
      kind: 'create',
      target: plan.target,
      own: { ref: showRef(plan.own.ref), exists: true, canonical: plan.own.canonical },
      conflicts: plan.merge.conflicts,
      fields: plan.fields,
      match: plan.match,
    };
  const side = (state: (typeof plan.sides)['a']): SideView => ({
    ref: showRef(state.ref),
    exists: state.record !== null,
    canonical: state.canonical,
  });
  return {
    kind: plan.kind,
    ...(plan.kind === 'gone' && { side: plan.side }),
    linked: plan.link !== null,
    sides: { a: side(plan.sides.a), b: side(plan.sides.b) },
    base: { a: plan.link?.a.base ?? null, b: plan.link?.b.base ?? null },
    conflicts: plan.kind === 'merge' ? plan.merge.conflicts : [],
    writes: plan.kind === 'merge' ? plan.writes : { a: {}, b: {} },
  };
}

function line(text: string): void {
  process.stdout.write(`${text}\n`);
}

function printFields(title: string, values: Readonly<Record<string, unknown>> | null): void {
  const entries = Object.entries(values ?? {});
  line(`${title}${entries.length === 0 ? ' (none)' : ''}`);
  for (const [field, value] of entries) line(`    ${field}: ${showValue(value as JsonObject[string])}`);
}

/** Prints a plan for a terminal. */
export function printPlan(view: PlanView): void {
  if (view.kind === 'none') return line(`Plan: nothing to do (${view.reason}). Nothing was written.`);
  line(`Plan: ${view.kind}`);
  if (view.kind === 'create') {
    printFields(`  ${view.own.ref} canonical:`, view.own.canonical);
    printFields(`  would create on side ${view.target} with:`, view.fields);
    printFields('  matched by (upsert):', view.match);
  } else {
    if (!view.linked) line('  not linked yet: the partner was found by the foreign key');
    for (const side of ['a', 'b'] as const) {
      const state = view.sides[side];
      printFields(`  side ${side} ${state.ref}${state.exists ? '' : ' (gone)'} canonical:`, state.canonical);
      printFields(`  side ${side} base snapshot:`, view.base[side]);
    }
    if (view.kind === 'gone') line(`  side ${view.side ?? '?'}'s record is gone: soft delete`);
    else
      for (const side of ['a', 'b'] as const)
        printFields(`  would write to side ${side}:`, view.writes[side]);
  }
  line(`  conflicts${view.conflicts.length === 0 ? ' (none)' : ':'}`);
  for (const conflict of view.conflicts)
    line(
      `    ${conflict.field}: a ${showValue(conflict.a)}, b ${showValue(conflict.b)} -> ${conflict.outcome} (${conflict.policy.kind})`,
    );
  line('Nothing was written.');
}
