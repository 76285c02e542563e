/**
 * Demo configuration used by `npm start`: crmsync on 127.0.0.1:8787 with an embedded SQLite store in ./data,
 * and in the same process a simulated SuperOffice tenant on 127.0.0.1:8788 whose users (RKAB, RCGO and the
 * foreign owner WACK) create and edit companies and persons every few seconds. The simulator delivers their
 * changes as signed webhooks to the `superoffice` connection, and the `superoffice-enrich` flow enriches the
 * companies and persons of RKAB and RCGO with the built-in `rules` enricher. The log shows each action and
 * each run with its outcome; `npm run crmsync -- jobs list` lists them. Delete ./data to start afresh.
 *
 * It also runs the Beteiligte sync of seeds 003/004 (flow `beteiligte`): a simulated EspoCRM on 127.0.0.1:8789
 * and a simulated Advoware on 127.0.0.1:8790, both starting empty. Their users (anna, ben) create persons and
 * companies and edit first, last and company names every few seconds on either side, and now and then the
 * same field of a linked pair on both sides at once (the run's log line then shows the conflict, settled
 * EspoCRM-wins). EspoCRM's CBeteiligte webhooks reach the `espocrm` connection within a second; Advoware has
 * none, so its changes are found by the flow's re-check (every 5 s) and discovery (every 10 s). Each run's log
 * line says its outcome, reason and the fields it wrote. Try: npm run crmsync -- sync status beteiligte
 *
 * The generic `demo` connection takes test webhooks: npm run crmsync -- webhook send demo Contact 42
 *
 * Every simulator keeps its data in ./data (like crmsync's store), so a restart carries on where it stopped.
 * A production config has no `sandbox` section: its connections point at the real vendors.
 */
import { beteiligteFlowDefaults, defineConfig, env } from './src/index.ts';

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
    espocrm: {
      connector: 'espocrm',
      // The simulator's API user (the sandbox serves this connection with exactly these keys, and puts the
      // secretKeys of the webhooks it registers into webhookSecrets). A real one: options: { ...espoCrmEnv() }.
      options: {
        baseUrl: 'http://127.0.0.1:8789',
        auth: {
          mode: 'hmac',
          apiKey: '5f0c2b6a9d1e4f7a8b3c6d9e0f1a2b3c',
          secretKey: 'a7e3c1f95b2d4e6f8091a2b3c4d5e6f7',
        },
      },
    },
    advoware: {
      connector: 'advoware',
      // The simulator's firm and API user. A real one: options: { ...advowareEnv() }.
      options: {
        configuratorUrl: 'http://127.0.0.1:8790/AdvonetConfigurator/api/Url',
        kanzlei: 'crmsync-sim',
        database: 'advoware',
        user: 'API',
        password: 'crmsync-sim-password',
        appId: 'crmsync-sim-app',
        apiKey: 'Y3Jtc3luYy1zaW0tYXBpLWtleS0wMTIzNDU2Nzg5YWI=',
        // A simulator on this machine takes more than a firm's own server would (the default is 5).
        requestsPerSecond: 20,
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
    // Seeds 003/004: EspoCRM CBeteiligte <-> Advoware Beteiligte, EspoCRM wins a same-field conflict.
    beteiligte: {
      type: 'sync',
      connections: ['espocrm', 'advoware'],
      ...beteiligteFlowDefaults({ espocrm: 'espocrm', advoware: 'advoware' }),
      // Demo intervals: a change in Advoware shows up within seconds (production: 60 s and 5 min).
      detection: {
        reconcile: { cron: '* * * * *' },
        recheck: { everySeconds: 5, budgetShare: 0.5 },
        discovery: { everySeconds: 10, budgetShare: 0.25 },
      },
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
    beteiligte: {
      // EspoCRM runs its webhook job every second here (the vendor: every 2 minutes).
      espocrm: {
        port: 8789,
        connection: 'espocrm',
        persistFile: './data/espocrm-simulator.json',
        webhookIntervalMs: 1_000,
      },
      advoware: { port: 8790, connection: 'advoware', persistFile: './data/advoware-simulator.json' },
      traffic: { enabled: true, intervalMs: 4_000, seed: 1, conflictChance: 0.15 },
    },
  },
});
