/**
 * Starting a simulator's server: listen (port 0 picks a free one) and tell the port and the origin that
 * clients reach it at, which are known only after listen.
 */
import type { FastifyInstance } from 'fastify';

/** Where a simulator listens; defaults: any free port on 127.0.0.1. */
export interface ListenOptions {
  readonly port?: number | undefined;
  readonly host?: string | undefined;
}

/** Starts listening and resolves to the port in use. */
export async function listenOnPort(app: FastifyInstance, options: ListenOptions): Promise<number> {
  await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' });
  const address = app.server.address();
  return typeof address === 'object' && address !== null ? address.port : 0;
}

/** `http://host:port`, with IPv6 hosts in brackets and wildcard hosts as 127.0.0.1. */
export function originOf(host: string, port: number): string {
  const reachable = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}
