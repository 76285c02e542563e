/**
 * The ceiling for bench/ingest.ts: a fastify server with one POST route that reads the body and answers 202,
 * doing nothing else. Run as a child process so that it gets a core of its own, like `crmsync serve`.
 * Prints `listening <port>` on stdout.
 */
import { fastify } from 'fastify';

const app = fastify({ logger: false, bodyLimit: 1_048_576 });
app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) =>
  done(null, body),
);
app.post('/webhooks/:connection', async (_request, reply) => reply.code(202).send({ accepted: 1 }));
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : 0}\n`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
