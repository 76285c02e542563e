/** The mapping modules that ship with crmsync, by the name a config uses (`{ module: 'beteiligte-advoware' }`). */
import type { MappingModule } from '../mapping-module.ts';
import { beteiligteAdvoware, beteiligteEspoCrm } from './beteiligte.ts';

/** Built-in mapping modules by name. */
export const BUILT_IN_MODULES: ReadonlyMap<string, MappingModule> = new Map(
  [beteiligteAdvoware, beteiligteEspoCrm].map((module) => [module.name, module]),
);

export { BETEILIGTE_FIELDS, beteiligteAdvoware, beteiligteEspoCrm } from './beteiligte.ts';
