/**
 * The committed demo config (crmsync.config.ts) as the demo tests run it: every port 0, every file in a temp
 * folder, the simulated users faster; everything else as committed.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const DEMO_CONFIG = new URL('../../crmsync.config.ts', import.meta.url).href;

/** How fast the simulated users work (ms between actions), and the Beteiligte traffic's conflict chance. */
export interface DemoSpeed {
  readonly superofficeTrafficMs: number;
  readonly beteiligteTrafficMs: number;
  readonly conflictChance?: number;
  /** The Beteiligte flow's re-check and discovery interval in seconds (default as committed). */
  readonly advowareScanSeconds?: number;
}

/** Writes the demo config for `dir` to `dir/crmsync.config.ts` and returns its path. */
export function writeDemoConfig(dir: string, speed: DemoSpeed): string {
  const file = join(dir, 'crmsync.config.ts');
  const at = (name: string) => JSON.stringify(join(dir, name));
  const scans =
    speed.advowareScanSeconds === undefined
      ? ''
      : `detection: {
        ...flow.detection,
        recheck: { ...flow.detection.recheck, everySeconds: ${speed.advowareScanSeconds} },
        discovery: { ...flow.detection.discovery, everySeconds: ${speed.advowareScanSeconds} },
      },`;
  writeFileSync(
    file,
    `import demo from ${JSON.stringify(DEMO_CONFIG)};
const superoffice = demo.sandbox!.superoffice!;
const beteiligte = demo.sandbox!.beteiligte!;
const flow = demo.flows!['beteiligte'] as { detection: Record<string, Record<string, unknown>> };
export default {
  ...demo,
  server: { ...demo.server, port: 0 },
  store: { ...demo.store, path: ${at('crmsync.db')} },
  flows: { ...demo.flows, beteiligte: { ...flow, ${scans} } },
  sandbox: {
    superoffice: {
      ...superoffice,
      port: 0,
      persistFile: ${at('superoffice-simulator.json')},
      traffic: { ...superoffice.traffic, intervalMs: ${speed.superofficeTrafficMs} },
    },
    beteiligte: {
      espocrm: { ...beteiligte.espocrm, port: 0, persistFile: ${at('espocrm-simulator.json')} },
      advoware: { ...beteiligte.advoware, port: 0, persistFile: ${at('advoware-simulator.json')} },
      traffic: {
        ...beteiligte.traffic,
        intervalMs: ${speed.beteiligteTrafficMs},
        ${speed.conflictChance === undefined ? '' : `conflictChance: ${speed.conflictChance},`}
      },
    },
  },
};\n`,
  );
  return file;
}
