/**
 * `POST /webhooks/:connection`: the raw body goes to the connection's connector to be verified (401 and
 * nothing stored when it does not verify) and parsed; each change event becomes one job input per flow fed by
 * the connection; the inputs are stored through the ingest batcher, and only then is the request answered
 * 202. A verified delivery whose content cannot be taken is stored as a dead letter and answered 200
 * (./webhook-intake.ts). Processing happens later, in the workers.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { NotFoundError } from '../core/errors.ts';
import type { Clock } from '../ports/clock.ts';
import type { Connector, VerifiedWebhook } from '../ports/connector.ts';
import type { EnqueueResult, JobError } from '../ports/queue.ts';
import { logRequestError, sendError, toHttpError } from './errors.ts';
import type { IngestBatcher } from './ingest-batcher.ts';
import type { Metrics, WebhookOutcome } from './metrics.ts';
import { deadLetterInput, intake } from './webhook-intake.ts';

/** What the webhook routes need. */
export interface WebhookRoutesOptions {
  readonly connectors: ReadonlyMap<string, Connector>;
  /** Connection name -> names of the flows its change events feed. */
  readonly routes: ReadonlyMap<string, readonly string[]>;
  readonly batcher: IngestBatcher;
  readonly metrics: Metrics;
  readonly clock: Clock;
  readonly bodyLimitBytes: number;
}

/** The 202 answer: what happened to the inputs of this webhook. */
export interface WebhookSummary {
  /** Inputs stored (new jobs, coalesced into waiting ones, or follow-ups). */
  readonly accepted: number;
  /** Inputs recognised as redeliveries and dropped. */
  readonly duplicates: number;
  /** Of the accepted inputs, those folded into a job that was already waiting. */
  readonly coalesced: number;
  /** Ids of the jobs holding the inputs (for duplicates, the job that took the first delivery). */
  readonly jobs: string[];
  /** Why a signed delivery was stored as a dead letter (its job is in `jobs`) instead of being queued. */
  readonly deadLetter?: JobError;
}

const NOTHING_STORED: WebhookSummary = { accepted: 0, duplicates: 0, coalesced: 0, jobs: [] };

/** Metric label for requests to connections that do not exist: keeps label cardinality bounded. */
const UNKNOWN_CONNECTION_LABEL = '(unknown)';

interface WebhookRoute {
  Params: { connection: string };
  Querystring: Record<string, string | string[]>;
}

/**
 * Registers the webhook route in an encapsulated plugin: its raw-body content-type parser and its error
 * handler (which counts refusals) apply to this route only, not to the control API.
 */
export async function registerWebhookRoutes(
  app: FastifyInstance,
  options: WebhookRoutesOptions,
): Promise<void> {
  const { connectors, routes, batcher, metrics, clock } = options;
  const warnedUnrouted = new Set<string>();

  await app.register((scope, _options, done) => {
    // Every content type arrives as the raw bytes: signatures are computed over them, and deciding which
    // formats a vendor may send is the connector's job.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

    scope.setErrorHandler((error: unknown, request: FastifyRequest<WebhookRoute>, reply: FastifyReply) => {
      const mapped = toHttpError(error);
      const connection = request.params.connection;
      metrics.countWebhook(
        connectors.has(connection) ? connection : UNKNOWN_CONNECTION_LABEL,
        outcomeOf(mapped.status),
      );
      logRequestError(request, error, mapped);
      return sendError(reply, mapped);
    });

    scope.post<WebhookRoute>('/webhooks/:connection', {
      bodyLimit: options.bodyLimitBytes,
      // Refuse unknown connections before the body is read.
      onRequest: (request, _reply, done) => {
        const connection = request.params.connection;
        done(
          connectors.has(connection)
            ? undefined
            : new NotFoundError('CONNECTION_UNKNOWN', `No connection "${connection}".`),
        );
      },
      handler: async (request, reply) => {
        const connection = request.params.connection;
        const connector = connectors.get(connection)!; // checked in onRequest
        const verification = await connector.verifyWebhook({
          headers: request.headers,
          rawBody: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
          query: singleValued(request.query),
          receivedAt: clock.now(),
        });
        if (verification.kind === 'handshake') {
          metrics.countWebhook(connection, 'accepted');
          return reply.code(verification.reply.status).send(verification.reply.body ?? NOTHING_STORED);
        }
        const flows = routes.get(connection) ?? [];
        const taken = await intake(connector, verification.webhook, flows);
        if (taken.kind === 'dead') {
          const summary = await storeDeadLetter(batcher, connection, verification.webhook, taken.error);
          request.log.warn(
            { connection, job: summary.jobs[0], code: taken.error.code },
            'signed webhook stored as a dead letter: its content could not be taken',
          );
          metrics.countWebhook(connection, 'dead_letter');
          // 200, not 202: SuperOffice counts every other status as a failed delivery.
          return reply.code(200).send(summary);
        }
        let summary = NOTHING_STORED;
        if (flows.length === 0) {
          if (!warnedUnrouted.has(connection)) {
            warnedUnrouted.add(connection);
            request.log.warn(
              { connection },
              'webhook for a connection that feeds no flow: its events are dropped',
            );
          }
          metrics.countWebhook(connection, 'unrouted');
        } else {
          summary = summarize(await batcher.submit(taken.inputs));
          const allDuplicates = summary.accepted === 0 && summary.duplicates > 0;
          metrics.countWebhook(connection, allDuplicates ? 'duplicate' : 'accepted');
        }
        // A connector's own reply (vendor handshakes, vendors that demand 200) is sent only after its events
        // are stored, like the 202; without a body of its own it carries the summary.
        if (taken.reply !== undefined)
          return reply.code(taken.reply.status).send(taken.reply.body ?? summary);
        return reply.code(202).send(summary);
      },
    });
    done();
  });
}

/** Stores a verified webhook that could not be taken as a dead letter; the answer names its job and reason. */
async function storeDeadLetter(
  batcher: IngestBatcher,
  connection: string,
  webhook: VerifiedWebhook,
  error: JobError,
): Promise<WebhookSummary> {
  const [stored] = await batcher.submit([deadLetterInput(connection, webhook, error)]);
  return {
    ...NOTHING_STORED,
    duplicates: stored!.status === 'duplicate' ? 1 : 0,
    jobs: [stored!.jobId],
    deadLetter: error,
  };
}

function summarize(results: readonly EnqueueResult[]): WebhookSummary {
  let duplicates = 0;
  let coalesced = 0;
  const jobs = new Set<string>();
  for (const result of results) {
    if (result.status === 'duplicate') duplicates += 1;
    else if (result.status === 'coalesced') coalesced += 1;
    jobs.add(result.jobId);
  }
  return { accepted: results.length - duplicates, duplicates, coalesced, jobs: [...jobs] };
}

function outcomeOf(status: number): WebhookOutcome {
  switch (status) {
    case 400:
    case 415:
      return 'malformed';
    case 401:
      return 'unauthorized';
    case 404:
      return 'unknown_connection';
    case 413:
      return 'too_large';
    default:
      return 'error';
  }
}

/** The port takes one value per query parameter; a repeated parameter keeps its first value. */
function singleValued(query: Record<string, string | string[]>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(query))
    result[name] = Array.isArray(value) ? (value[0] ?? '') : value;
  return result;
}
