/**
 * What every `crmsync superoffice ...` command needs: the named connection's SuperOffice connector with the
 * backend and config around it, the enrich flow that uses the connection, and parsers of numeric arguments
 * that fail as input errors (exit 2) with a message naming the argument.
 */
import { pino } from 'pino';
import type { Config } from '../../config/index.ts';
import { InputError } from '../../core/errors.ts';
import { SuperOfficeConnector } from '../../connectors/superoffice/index.ts';
import type { SuperOfficeApi, SuperOfficeOptions } from '../../connectors/superoffice/index.ts';
import type { EnrichmentFields } from '../../connectors/superoffice/tools-verify.ts';
import type { OwnerFilter } from '../../connectors/superoffice/tools-latest.ts';
import type { EnrichOptions } from '../../engine/flows/enrich/options.ts';
import type { Backend } from '../../ports/backend.ts';
import { systemClock } from '../../ports/clock.ts';
import { createConnectors } from '../app.ts';
import type { GlobalOptions } from '../context.ts';
import { requireConnection, withBackend } from '../context.ts';

/** The flow type whose settings `verify` and `latest` read. */
const ENRICH_FLOW_TYPE = 'enrich';

/** Everything a SuperOffice command works with. */
export interface SuperOfficeContext {
  readonly connection: string;
  readonly connector: SuperOfficeConnector;
  readonly api: SuperOfficeApi;
  readonly options: SuperOfficeOptions;
  readonly backend: Backend;
  readonly config: Config;
}

/** Runs `action` with the named connection's connector, which must be a superoffice one; closes it after. */
export async function withSuperOffice<T>(
  globals: GlobalOptions,
  connection: string,
  action: (context: SuperOfficeContext) => Promise<T>,
): Promise<T> {
  return withBackend(globals, async ({ config, backend }) => {
    const configured = requireConnection(config, connection, 'superoffice');
    const connectors = createConnectors(
      { connections: new Map([[connection, configured]]) },
      { backend, clock: systemClock, logger: pino({ level: 'silent' }), apiCalls: { record: () => {} } },
    );
    const connector = connectors.get(connection);
    if (!(connector instanceof SuperOfficeConnector))
      throw new Error(`connector of ${connection} is not superoffice`);
    try {
      return await action({
        connection,
        connector,
        api: connector.api,
        options: configured.options as SuperOfficeOptions,
        backend,
        config,
      });
    } finally {
      await connector.close();
    }
  });
}

/** The settings of an enrich flow that the tools use. */
export interface EnrichFlowSettings {
  readonly name: string;
  readonly fields: EnrichmentFields;
  /** Absent: every owner. */
  readonly owners: OwnerFilter | undefined;
}

/**
 * The enrich flow whose `connections` include `connection`: the one named by `--flow`, else the only one.
 * Input errors say which flows exist when there is none or more than one.
 */
export function findEnrichFlow(config: Config, connection: string, flowName?: string): EnrichFlowSettings {
  const candidates = [...config.flows.values()].filter(
    (flow) => flow.type === ENRICH_FLOW_TYPE && flow.connections.includes(connection),
  );
  let chosen = candidates[0];
  if (flowName !== undefined) {
    chosen = candidates.find((flow) => flow.name === flowName);
    if (chosen === undefined) {
      const flow = config.flows.get(flowName);
      throw new InputError(
        'CLI_FLOW_UNSUITABLE',
        flow === undefined
          ? `--flow: no flow "${flowName}" in ${config.source}.`
          : `--flow: flow "${flowName}" is of type ${flow.type} on ${flow.connections.join(', ')}; ` +
              `an ${ENRICH_FLOW_TYPE} flow on connection "${connection}" is needed.`,
      );
    }
  } else if (candidates.length > 1) {
    throw new InputError(
      'CLI_FLOW_AMBIGUOUS',
      `Several ${ENRICH_FLOW_TYPE} flows use connection "${connection}" (${candidates.map((flow) => flow.name).join(', ')}); choose one with --flow.`,
    );
  }
  if (chosen === undefined) {
    throw new InputError(
      'CLI_FLOW_MISSING',
      `No ${ENRICH_FLOW_TYPE} flow uses connection "${connection}" in ${config.source}; ` +
        `add one (flows: { enrich: { type: '${ENRICH_FLOW_TYPE}', connections: ['${connection}'] } }) or pass --flow.`,
    );
  }
  // The config loader validated these options with the enrich flow type's own schema, defaults applied.
  const options = chosen.options as Pick<EnrichOptions, 'fields' | 'owners'>;
  return { name: chosen.name, fields: options.fields, owners: options.owners };
}

/** A commander parser of a whole number in [min, max] for `--name`; anything else is an InputError. */
export function integerOption(name: string, min: number, max: number): (value: string) => number {
  return (value) => {
    const number = Number(value);
    if (!/^\d+$/.test(value.trim()) || number < min || number > max) {
      throw new InputError(
        'CLI_BAD_NUMBER',
        `${name}: expected a whole number from ${min} to ${max}, got "${value}".`,
      );
    }
    return number;
  };
}

/** A record id argument (`contactId`): digits only, else an InputError naming the argument. */
export function parseRecordId(name: string, value: string): string {
  if (!/^\d+$/.test(value) || Number(value) === 0) {
    throw new InputError('CLI_BAD_ID', `${name}: expected a positive numeric id, got "${value}".`);
  }
  return value;
}

/** A comma-separated list without empty entries. */
export function parseList(value: string): string[] {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}
