/**
 * Demo configuration used by `npm start`: one generic webhook connection ("demo") feeding the built-in
 * `inspect` flow, an embedded SQLite store in ./data, and the server on 127.0.0.1:8787.
 * Send it a signed webhook with: npm run crmsync -- webhook send demo Contact 42
 */
import { defineConfig, env } from './src/index.ts';

export default defineConfig({
  server: { host: '127.0.0.1', port: 8787 },
  store: { kind: 'sqlite', path: './data/crmsync.db', durability: 'process' },
  connections: {
    demo: {
      connector: 'generic',
      // Demo only: a real deployment sets CRMSYNC_DEMO_SECRET (or .env) and has no fallback here.
      options: { secret: env('CRMSYNC_DEMO_SECRET', 'demo-secret-change-me-0123456789') },
    },
  },
  flows: {
    'demo-inspect': { type: 'inspect', connections: ['demo'] },
  },
});
