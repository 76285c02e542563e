/**
 * Demo configuration used by `npm start`: crmsync on 127.0.0.1:8787 with an embedded SQLite store in ./data,
 * and in the same process a simulated SuperOffice tenant on 127.0.0.1:8788 whose users (RKAB, RCGO and the
 * foreign owner WACK) create and edit companies and persons every few seconds. The simulator delivers their
 * changes as signed webhooks to the `superoffice` connection, and the `superoffice-enrich` flow enriches the
 * companies and persons of RKAB and RCGO with the built-in `rules` enricher. The log shows each action and
 * each run with its outcome; `npm run crmsync -- jobs list` lists them. Delete ./data to start afresh.
 *
 * The generic `demo` connection takes test webhooks: npm run crmsync -- webhook send demo Contact 42
 *
 * A production config has no `sandbox` section: its connections point at the real vendors.
 */
import { defineConfig, env } from './src/index.ts';

export default defineConfig({
  server: { host: '127.0.0.1', port: 8787 },
  store: { kind: 'sqlite', path: './data/crmsync.db', durability: 'process' },
  log: { level: 'info' },
  connections: {
    demo: {
      connector: 'generic',
      // Demo only: a real deployment sets CRMSYNC_DEMO_SECRET (or .env) and has no fallback here.
      options: { secret: env('CRMSYNC_DEMO_SECRET', 'demo-secret-change-me-0123456789') },
    },
    superoffice: {
      connector: 'superoffice',
      // The simulator's own credentials (the sandbox serves this connection with exactly these values).
      // A real tenant's come from the environment instead: options: { ...superOfficeEnv() }.
      options: {
        clientId: 'crmsync-sim-client',
        clientSecret: 'crmsync-sim-secret',
        refreshToken: 'crmsync-sim-refresh-token',
        contextIdentifier: 'Cust12345',
        environment: 'sod',
        authBaseUrl: 'http://127.0.0.1:8788',
        // Demo only: the fallback is no secret; a real deployment sets SO_WEBHOOK_SECRET.
        webhookSecret: env('SO_WEBHOOK_SECRET', 'demo-superoffice-webhook-secret-0123456789'),
      },
    },
  },
  flows: {
    'demo-inspect': { type: 'inspect', connections: ['demo'] },
    // The seeds' enrichment: only records owned by the team (RKAB, RCGO) of the shared tenant.
    'superoffice-enrich': {
      type: 'enrich',
      connections: ['superoffice'],
      owners: { shortNames: ['RKAB', 'RCGO'] },
    },
  },
  sandbox: {
    superoffice: {
      port: 8788,
      seed: true,
      // The simulated tenant (and its webhook registration) survives restarts, like crmsync's own store.
      persistFile: './data/superoffice-simulator.json',
      webhook: { connection: 'superoffice' },
      traffic: { enabled: true, intervalMs: 3_000, users: ['RKAB', 'RCGO', 'WACK'], seed: 1 },
    },
  },
});
