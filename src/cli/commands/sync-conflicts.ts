/**
 * `crmsync sync conflicts list|resolve`: the conflict inbox. Resolving an open conflict stores the operator's
 * choice and queues a sync job for the link's side-a record, so the next run applies the value to both sides
 * (and closes the conflict) without waiting for a change or a scan.
 */
import type { Command } from 'commander';
import { InputError, NotFoundError } from '../../core/errors.ts';
import { jobRecordKey } from '../../core/types.ts';
import type { ChangeEvent, JsonObject, JsonValue } from '../../core/types.ts';
import type { JobInput } from '../../ports/queue.ts';
import type { ConflictRecord, ConflictStatus } from '../../ports/store.ts';
import { withBackend } from '../context.ts';
import type { GlobalOptions } from '../context.ts';
import { formatTime, printJson, printTable } from '../output.ts';
import { requireSyncFlow, showRef, showValue } from './sync-context.ts';

const STATUSES: readonly ConflictStatus[] = ['open', 'resolved', 'closed'];
const TAKES = ['a', 'b', 'value'] as const;
type Take = (typeof TAKES)[number];

function parseStatus(value: string | undefined): ConflictStatus | undefined {
  if (value === undefined) return undefined;
  if ((STATUSES as readonly string[]).includes(value)) return value as ConflictStatus;
  throw new InputError('CLI_BAD_STATUS', `--status: expected ${STATUSES.join(', ')}, got "${value}"`);
}

/** The value a resolution gives both sides: side a's, side b's, or `--value` parsed as JSON. */
function resolutionValue(conflict: ConflictRecord, take: Take, raw: string | undefined): JsonValue {
  if (take !== 'value') {
    if (raw !== undefined)
      throw new InputError(
        'CLI_BAD_VALUE',
        `--value goes with --take value only (--take ${take} takes side ${take}'s value).`,
      );
    return conflict[take];
  }
  if (raw === undefined)
    throw new InputError('CLI_BAD_VALUE', '--take value needs --value <json>, e.g. --value \'"Acme GmbH"\'.');
  try {
    return JSON.parse(raw) as JsonValue;
  } catch {
    throw new InputError(
      'CLI_BAD_VALUE',
      `--value: expected JSON (a text in double quotes, e.g. '"Acme GmbH"', a number, null), got ${raw}`,
    );
  }
}

/** The job that makes the next run of the conflict's link apply the resolution, keyed like a webhook's. */
function resolveJob(conflict: ConflictRecord, ref: ChangeEvent['ref']): JobInput {
  const event: ChangeEvent = { ref, kind: 'updated', vendorEvent: 'cli.resolve' };
  return {
    flow: conflict.flow,
    recordKey: jobRecordKey(conflict.flow, ref),
    dedupKey: `${conflict.flow}|${ref.connection}|cli.resolve:${conflict.id}`,
    payload: event as unknown as JsonObject,
  };
}

function conflictRow(conflict: ConflictRecord): unknown[] {
  const place = [conflict.field, conflict.item, conflict.attribute].filter((part) => part !== null).join('.');
  return [
    conflict.id,
    conflict.flow,
    conflict.linkId,
    place,
    showValue(conflict.a),
    showValue(conflict.b),
    conflict.policy,
    conflict.status,
    conflict.resolution === null
      ? null
      : `${conflict.resolution.take}: ${showValue(conflict.resolution.value)} (${conflict.resolution.by})`,
    formatTime(conflict.updatedAt),
  ];
}

/** The conflict table's header, for `links show` too. */
export const CONFLICT_HEADERS = [
  'ID',
  'FLOW',
  'LINK',
  'FIELD',
  'A',
  'B',
  'POLICY',
  'STATUS',
  'RESOLUTION',
  'UPDATED',
];

/** Prints conflicts as a table. */
export function printConflicts(conflicts: readonly ConflictRecord[]): void {
  printTable(CONFLICT_HEADERS, conflicts.map(conflictRow));
}

/** Registers `sync conflicts list|resolve` under the `sync` group. */
export function registerSyncConflictsCommands(sync: Command, globals: () => GlobalOptions): void {
  const conflicts = sync.command('conflicts').description('the conflict inbox: list and resolve conflicts');

  conflicts
    .command('list [flow]')
    .description('list conflicts, oldest first (default: open ones of every flow)')
    .option('--status <status>', `${STATUSES.join(', ')} (default open)`, 'open')
    .option('--json', 'print JSON')
    .action(async (name: string | undefined, options: { status: string; json?: boolean }) => {
      const status = parseStatus(options.status);
      await withBackend(globals(), async ({ config, backend }) => {
        if (name !== undefined) requireSyncFlow(config, name);
        const list = await backend.store.conflicts.list({
          ...(name !== undefined && { flow: name }),
          ...(status !== undefined && { status }),
          limit: 10_000,
        });
        if (options.json) return printJson(list);
        if (list.length === 0) return void process.stdout.write('No conflicts match.\n');
        printConflicts(list);
      });
    });

  conflicts
    .command('resolve <id>')
    .description('settle an open conflict; the next run writes the value to both sides')
    .requiredOption('--take <side>', `${TAKES.join(', ')}: side a's value, side b's, or --value`)
    .option('--value <json>', 'with --take value: the value both sides get, as JSON')
    .option('--json', 'print JSON')
    .action(async (id: string, options: { take: string; value?: string; json?: boolean }) => {
      if (!(TAKES as readonly string[]).includes(options.take))
        throw new InputError('CLI_BAD_TAKE', `--take: expected ${TAKES.join(', ')}, got "${options.take}"`);
      const take = options.take as Take;
      await withBackend(globals(), async ({ backend }) => {
        const { store, queue } = backend;
        const conflict = await store.conflicts.get(id);
        if (conflict === null)
          throw new NotFoundError(
            'CONFLICT_NOT_FOUND',
            `No conflict with id ${id}. List open conflicts with: crmsync sync conflicts list`,
          );
        const value = resolutionValue(conflict, take, options.value);
        const resolved = await store.conflicts.resolve(id, { take, value, by: 'cli', at: Date.now() });
        const link = await store.links.get(conflict.linkId);
        const queued = link === null ? null : await queue.enqueue(resolveJob(conflict, link.a.ref));
        if (options.json) return printJson({ conflict: resolved, jobId: queued?.jobId ?? null });
        process.stdout.write(
          `Resolved conflict ${id} (${conflict.field}): both sides get ${showValue(value)}.\n` +
            (link === null
              ? `Its link ${conflict.linkId} is gone; no sync job was queued.\n`
              : `Queued sync job ${queued?.jobId ?? '?'} for ${showRef(link.a.ref)}: the next run writes it.\n`),
        );
      });
    });
}
