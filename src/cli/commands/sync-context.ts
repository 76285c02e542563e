/**
 * What the `crmsync sync ...` commands share: the named sync flow with its validated options, a record ref
 * from the command line, both sides' connectors (opened only for the flow's two connections, closed after),
 * and how values print.
 */
import { pino } from 'pino';
import type { Config, FlowConfig } from '../../config/index.ts';
import { InputError } from '../../core/errors.ts';
import { parseRecordKey, recordKey } from '../../core/types.ts';
import type { JsonValue, RecordRef } from '../../core/types.ts';
import type { SyncOptions } from '../../engine/flows/sync/index.ts';
import type { Backend } from '../../ports/backend.ts';
import { systemClock } from '../../ports/clock.ts';
import type { Connector } from '../../ports/connector.ts';
import { countApiCallInCurrentRun } from '../../engine/run-scope.ts';
import { createConnectors } from '../app.ts';
import { withBackend } from '../context.ts';
import type { GlobalOptions } from '../context.ts';

/** A configured sync flow: its config entry and its options as the flow type validated them. */
export interface SyncFlow {
  readonly flow: FlowConfig;
  readonly options: SyncOptions;
}

/** The sync flows of the config. */
export function syncFlows(config: Config): SyncFlow[] {
  return [...config.flows.values()]
    .filter((flow) => flow.type === 'sync')
    .map((flow) => ({ flow, options: flow.options as SyncOptions }));
}

/** The sync flow `name`; InputError naming the sync flows there are when it is unknown or of another type. */
export function requireSyncFlow(config: Config, name: string): SyncFlow {
  const flow = config.flows.get(name);
  if (flow?.type === 'sync') return { flow, options: flow.options as SyncOptions };
  const known = syncFlows(config).map(({ flow: sync }) => sync.name);
  const problem =
    flow === undefined ? `No flow "${name}" in ${config.source}` : `Flow "${name}" is a ${flow.type} flow`;
  throw new InputError(
    'CLI_NOT_A_SYNC_FLOW',
    `${problem}; sync flows: ${known.length > 0 ? known.join(', ') : 'none configured'}.`,
    404,
  );
}

/** Parses `connection/EntityType/id`; InputError with an example otherwise. */
export function parseRef(value: string, what = 'record'): RecordRef {
  const ref = parseRecordKey(value);
  if (ref === null)
    throw new InputError(
      'CLI_BAD_RECORD',
      `${what}: expected connection/EntityType/id, e.g. espo/CBeteiligte/64f1c2, got "${value}"`,
    );
  return ref;
}

/** The side of the flow `ref` belongs to (by connection and entity type), or null. */
export function sideOfRef(options: SyncOptions, ref: RecordRef): 'a' | 'b' | null {
  for (const side of ['a', 'b'] as const)
    if (options[side].connection === ref.connection && options[side].entityType === ref.entityType)
      return side;
  return null;
}

/** A record ref as operators type it. */
export const showRef = (ref: RecordRef): string => recordKey(ref);

/** A value as it prints in a table or a `before -> after` line (JSON, so '' and null differ). */
export function showValue(value: JsonValue | undefined): string {
  return value === undefined ? '(absent)' : JSON.stringify(value);
}

/**
 * Runs `action` with the sync flow `name`, the backend, and the connectors of the flow's two sides (created
 * as the server creates them, without any vendor call until used); closes them afterwards.
 */
export async function withSyncConnectors<T>(
  globals: GlobalOptions,
  name: string,
  action: (context: {
    config: Config;
    backend: Backend;
    sync: SyncFlow;
    connectors: { a: Connector; b: Connector };
  }) => Promise<T>,
): Promise<T> {
  return withBackend(globals, async ({ config, backend }) => {
    const sync = requireSyncFlow(config, name);
    const names = new Set([sync.options.a.connection, sync.options.b.connection]);
    const connections = new Map([...config.connections].filter(([connection]) => names.has(connection)));
    const created = createConnectors(
      { connections },
      {
        backend,
        clock: systemClock,
        logger: pino({ level: 'silent' }),
        // Calls made inside a run (`sync backfill` runs jobs) count for that run's history, as in the server.
        apiCalls: { record: () => countApiCallInCurrentRun() },
      },
    );
    try {
      const side = (which: 'a' | 'b'): Connector => {
        const connector = created.get(sync.options[which].connection);
        if (connector === undefined)
          throw new InputError(
            'CLI_SYNC_CONNECTION_MISSING',
            `Flow "${name}": side ${which}'s connection "${sync.options[which].connection}" is not configured in ${config.source}.`,
          );
        return connector;
      };
      return await action({ config, backend, sync, connectors: { a: side('a'), b: side('b') } });
    } finally {
      for (const connector of created.values()) await connector.close();
    }
  });
}
