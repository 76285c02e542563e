/**
 * The ceiling for bench/ingest.ts: fastify with the settings of `crmsync serve` (src/server/app.ts's
 * serverSettings with the default body limit and timeouts, a pino logger at `info`), raw-body parsing for
 * every content type as the webhook route does, and one POST route that answers 200 and does nothing else:
 * no signature, no parsing, no queue. Run as a child process, like `crmsync serve`, so that it has a core of
 * its own. Prints `listening <port>` on stdout.
 */
import { fastify } from 'fastify';
import { pino } from 'pino';
import { DEFAULTS } from '../src/config/defaults.ts';
import { serverSettings } from '../src/server/app.ts';

const app = fastify({
  loggerInstance: pino({ level: 'info' }),
  ...serverSettings({ bodyLimitBytes: DEFAULTS.server.bodyLimitBytes, timeouts: DEFAULTS.server.timeouts }),
});
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
app.post('/webhooks/:connection', async (_request, reply) => reply.code(200).send({ ok: true }));
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : 0}\n`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
