/**
 * Builds an `enrich` flow's handler from its config: the enrich target its connection's connector offers, the
 * configured enricher, and the backend. The composition lives here (the CLI knows every concrete piece); the
 * flow itself only sees ports.
 */
import { ConfigError } from '../core/errors.ts';
import type { FlowConfig } from '../config/index.ts';
import { createEnricher } from '../enrichment/index.ts';
import type { FlowHandler } from '../engine/handlers.ts';
import { createEnrichHandler } from '../engine/flows/enrich/index.ts';
import { createEnrichReconciler } from '../engine/flows/enrich/reconcile.ts';
import type { EnrichOptions } from '../engine/flows/enrich/index.ts';
import type { FlowDependencies } from './flow-type.ts';

/** The handler of the enrich flow `flow`. Throws ConfigError when its connection cannot be enriched. */
export function createEnrichFlowHandler(flow: FlowConfig, deps: FlowDependencies): FlowHandler {
  const options = flow.options as EnrichOptions;
  const problem = (message: string) =>
    new ConfigError(`Flow "${flow.name}": ${message}`, [{ path: `flows.${flow.name}.connections`, message }]);
  if (flow.connections.length !== 1) {
    throw problem('an enrich flow reads and writes one connection; list exactly one');
  }
  const connection = flow.connections[0]!;
  const connector = deps.connectors.get(connection);
  if (connector?.enrichTarget === undefined) {
    throw problem(
      `connection "${connection}" is a ${connector?.kind ?? 'missing'} connection, which offers no enrich target; only SuperOffice can be enriched`,
    );
  }
  const logger = deps.logger.child({ flow: flow.name });
  const target = connector.enrichTarget({
    fields: options.fields,
    verticalList: options.verticalList,
    verticalIds: options.verticalIds,
    verticalCacheMs: options.verticalCacheMinutes * 60_000,
    apiAssociateId: options.apiAssociateId,
  });
  if (options.reconcile.enabled) {
    deps.schedule({
      name: `reconcile:${flow.name}`,
      cron: options.reconcile.cron,
      task: createEnrichReconciler({
        flow: flow.name,
        connector,
        queue: deps.backend.queue,
        checkpoints: deps.backend.store.checkpoints,
        ledger: deps.backend.store.ledger,
        clock: deps.clock,
        settings: {
          entityTypes: ['Contact'],
          lookbackMinutes: options.reconcile.lookbackMinutes,
          maxPerRun: options.reconcile.maxPerRun,
        },
      }),
    });
  }
  const enricher = createEnricher(options.enricher, { logger, cwd: deps.configDir });
  deps.onStop(() => enricher.close());
  return createEnrichHandler({
    flow: flow.name,
    options,
    target,
    enricher,
    store: deps.backend.store,
    locks: deps.backend.locks,
    clock: deps.clock,
    logger,
  });
}
