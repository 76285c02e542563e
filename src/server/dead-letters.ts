/**
 * The built-in handler of webhook dead letters (flow `webhook.dead-letter`). A dead letter is stored DEAD
 * and runs only when an operator replays it (`crmsync jobs replay <id>`, after fixing the config): the stored
 * body is parsed again with the connection's connector, exactly as the webhook route would, and its events
 * are queued for the flows the connection feeds now. If it still cannot be taken, the job is DEAD again with
 * the new reason. Queuing is idempotent through the events' dedup keys, so a run repeated after a crash does
 * not queue an event twice.
 */
import { CrmsyncError } from '../core/errors.ts';
import type { FlowHandler } from '../engine/handlers.ts';
import type { Connector } from '../ports/connector.ts';
import type { Queue } from '../ports/queue.ts';
import { intake, readDeadLetter } from './webhook-intake.ts';

export { DEAD_LETTER_FLOW } from './webhook-intake.ts';

/** What the handler needs: the same connectors and routes as the server. */
export interface DeadLetterHandlerOptions {
  readonly connectors: ReadonlyMap<string, Connector>;
  /** Connection name -> names of the flows its change events feed. */
  readonly routes: ReadonlyMap<string, readonly string[]>;
  readonly queue: Pick<Queue, 'enqueueMany'>;
}

/** The handler to register for `DEAD_LETTER_FLOW`. */
export function deadLetterHandler(options: DeadLetterHandlerOptions): FlowHandler {
  return async (job) => {
    let queued = 0;
    for (const payload of job.payloads) {
      const { connection, webhook } = readDeadLetter(payload);
      const connector = options.connectors.get(connection);
      if (connector === undefined) {
        throw new CrmsyncError(
          'CONNECTION_UNKNOWN',
          `No connection "${connection}" in the configuration; add it back to replay this dead letter.`,
        );
      }
      const result = await intake(connector, webhook, options.routes.get(connection) ?? []);
      if (result.kind === 'dead') throw new CrmsyncError(result.error.code, result.error.message);
      const results = await options.queue.enqueueMany(result.inputs);
      queued += results.filter((entry) => entry.status !== 'duplicate').length;
    }
    return { outcome: 'COMPLETED', reason: `queued ${queued} input(s) for the routed flows` };
  };
}
