/**
 * Deterministic demo Beteiligte: German persons (with `vorname`) and companies (without, seed 004's rule),
 * addresses, and for about a third 1-4 Kommunikationen of mixed `kommKz`, some carrying the
 * `[ESPOCRM:<base64>:<kommKz>]` markers and `[ESPOCRM-SLOT:<kommKz>]` empty slots the seed-003 sync leaves
 * behind. A mobile number is mirrored into the top-level `mobil` field, which seed 003's type detection
 * reads. The same random seed and starting state always give the same records, rowIds included.
 */
import { seededRandom } from '../../core/random.ts';
import type { BeteiligterRecord, KommunikationRecord, SimState } from './model.ts';
import { ROW_ID_BYTES } from './model.ts';
import type { BeteiligteSchema } from './schema.ts';

/** Seed of the demo data's random choices. */
export const DEMO_SEED = 20260830;

/** How many Beteiligte `seed: true` creates. */
export const DEFAULT_DEMO_COUNT = 300;

const FIRST_NAMES: readonly (readonly [string, 'Herr' | 'Frau'])[] = [
  ['Thomas', 'Herr'],
  ['Michael', 'Herr'],
  ['Andreas', 'Herr'],
  ['Stefan', 'Herr'],
  ['Jürgen', 'Herr'],
  ['Markus', 'Herr'],
  ['Lukas', 'Herr'],
  ['Tobias', 'Herr'],
  ['Matthias', 'Herr'],
  ['Jan', 'Herr'],
  ['Anna', 'Frau'],
  ['Maria', 'Frau'],
  ['Sabine', 'Frau'],
  ['Claudia', 'Frau'],
  ['Petra', 'Frau'],
  ['Julia', 'Frau'],
  ['Katrin', 'Frau'],
  ['Susanne', 'Frau'],
  ['Laura', 'Frau'],
  ['Sophie', 'Frau'],
];

const SURNAMES = [
  'Bauer',
  'Becker',
  'Fischer',
  'Hartmann',
  'Hoffmann',
  'Klein',
  'Koch',
  'Krause',
  'Krüger',
  'Lange',
  'Lehmann',
  'Meyer',
  'Müller',
  'Neumann',
  'Richter',
  'Schmidt',
  'Schneider',
  'Schröder',
  'Schulz',
  'Schwarz',
  'Schäfer',
  'Wagner',
  'Weber',
  'Wolf',
  'Zimmermann',
];

const COMPANY_STEMS = [
  'Nordlicht',
  'Rheinblick',
  'Alpen',
  'Hanse',
  'Elbtal',
  'Sonnenhof',
  'Lindenberg',
  'Falken',
];
const COMPANY_TRADES = ['Bau', 'Logistik', 'Immobilien', 'Consulting', 'Maschinenbau', 'Software', 'Handel'];
const LEGAL_FORMS = ['GmbH', 'AG', 'GmbH & Co. KG', 'KG', 'e.K.', 'UG (haftungsbeschränkt)'];

const CITIES: readonly (readonly [string, string, string])[] = [
  ['10115', 'Berlin', '30'],
  ['20095', 'Hamburg', '40'],
  ['80331', 'München', '89'],
  ['50667', 'Köln', '221'],
  ['60311', 'Frankfurt am Main', '69'],
  ['70173', 'Stuttgart', '711'],
  ['04109', 'Leipzig', '341'],
  ['28195', 'Bremen', '421'],
];

const STREETS = ['Hauptstraße', 'Bahnhofstraße', 'Gartenweg', 'Schillerstraße', 'Lindenallee', 'Am Markt'];

/** kommKz drawn for Kommunikationen, weighted towards phones and e-mail. */
const KOMM_KZ_DRAW = [1, 1, 1, 2, 3, 3, 4, 4, 4, 5, 6, 7, 8, 8, 9, 10, 11, 12];

const NOTES = ['Zentrale', 'Sekretariat', 'nur vormittags', 'privat', 'Durchwahl'];

/** The seeded random source and the helpers that draw from it. */
class Draw {
  readonly random: () => number;
  constructor(seed: number) {
    this.random = seededRandom(seed);
  }
  chance(probability: number): boolean {
    return this.random() < probability;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.random() * (max - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)] as T;
  }
  digits(count: number): string {
    let text = '';
    for (let i = 0; i < count; i++) text += String(this.int(0, 9));
    return text;
  }
  rowId(): string {
    const bytes = Buffer.alloc(ROW_ID_BYTES);
    for (let i = 0; i < bytes.length; i++) bytes[i] = this.int(0, 255);
    return bytes.toString('base64');
  }
}

/** `Jürgen Schäfer` -> `juergen.schaefer`. */
function mailLocalPart(...names: string[]): string {
  const ascii = (name: string) =>
    name
      .toLowerCase()
      .replace(/ä/g, 'ae')
      .replace(/ö/g, 'oe')
      .replace(/ü/g, 'ue')
      .replace(/ß/g, 'ss')
      .replace(/[^a-z0-9]+/g, '-');
  return names.map(ascii).join('.');
}

/** The contact values one Beteiligter's Kommunikationen are drawn from. */
interface Contact {
  readonly phone: string;
  readonly mobile: string;
  readonly fax: string;
  readonly email: string;
  readonly web: string;
}

function contactOf(draw: Draw, areaCode: string, mailName: string, domain: string): Contact {
  return {
    phone: `+49 ${areaCode} ${draw.digits(7)}`,
    mobile: `+49 15${draw.int(1, 9)} ${draw.digits(8)}`,
    fax: `+49 ${areaCode} ${draw.digits(6)}-9`,
    email: `${mailName}@${domain}`,
    web: `https://www.${domain}/`,
  };
}

function valueFor(kommKz: number, contact: Contact): string {
  if ([4, 8, 11, 12].includes(kommKz)) return contact.email;
  if (kommKz === 3 || kommKz === 9) return contact.mobile;
  if (kommKz === 2 || kommKz === 7) return contact.fax;
  if (kommKz === 5) return contact.web;
  return contact.phone;
}

/** A note as a human left it, a seed-003 marker with an optional text behind it, or an empty slot. */
function kommunikationOf(draw: Draw, state: SimState, kommKz: number, contact: Contact): KommunikationRecord {
  const item = { id: state.allocateKommId(), rowId: draw.rowId(), kommKz };
  const roll = draw.random();
  if (roll < 0.05) return { ...item, tlf: '', bemerkung: `[ESPOCRM-SLOT:${kommKz}]`, online: false };
  const tlf = valueFor(kommKz, contact);
  const online = [4, 5, 8, 11, 12].includes(kommKz);
  if (roll < 0.3) {
    const marker = `[ESPOCRM:${Buffer.from(tlf, 'utf8').toString('base64')}:${kommKz}]`;
    return { ...item, tlf, bemerkung: draw.chance(0.5) ? `${marker} ${draw.pick(NOTES)}` : marker, online };
  }
  return { ...item, tlf, bemerkung: draw.chance(0.4) ? draw.pick(NOTES) : null, online };
}

/** One demo Beteiligter's text fields (before the schema filters them) and contact values. */
function partyOf(draw: Draw): { fields: Record<string, string | null>; contact: Contact } {
  const [plz, ort, areaCode] = draw.pick(CITIES);
  const address = { strasse: `${draw.pick(STREETS)} ${draw.int(1, 120)}`, plz, ort };
  if (draw.chance(0.7)) {
    const [vorname, anrede] = draw.pick(FIRST_NAMES);
    const name = draw.pick(SURNAMES);
    const born = `${draw.int(1940, 2000)}-${String(draw.int(1, 12)).padStart(2, '0')}-${String(draw.int(1, 28)).padStart(2, '0')}`;
    const domain = draw.pick(['example.com', 'example.org', 'example.net']);
    return {
      fields: {
        name,
        vorname,
        anrede,
        titel: draw.chance(0.12) ? 'Dr.' : null,
        ...address,
        // [UNCONFIRMED] Date format: .NET DateTime without zone.
        geburtsdatum: draw.chance(0.6) ? `${born}T00:00:00` : null,
      },
      contact: contactOf(draw, areaCode, mailLocalPart(vorname, name), domain),
    };
  }
  const stem = draw.pick(COMPANY_STEMS);
  const trade = draw.pick(COMPANY_TRADES);
  return {
    fields: {
      name: `${stem} ${trade} ${draw.pick(LEGAL_FORMS)}`,
      vorname: null,
      anrede: 'Firma',
      ...address,
    },
    contact: contactOf(draw, areaCode, 'info', `${mailLocalPart(stem, trade).replace('.', '-')}.example`),
  };
}

/** One demo Beteiligter. */
function demoBeteiligter(draw: Draw, state: SimState, schema: BeteiligteSchema): BeteiligterRecord {
  const { fields, contact } = partyOf(draw);
  const kommunikation: KommunikationRecord[] = [];
  if (draw.chance(1 / 3)) {
    const count = draw.int(1, 4);
    for (let i = 0; i < count; i++)
      kommunikation.push(kommunikationOf(draw, state, draw.pick(KOMM_KZ_DRAW), contact));
    // Seed 003 reads the type of a Kommunikation from top-level fields such as `mobil`.
    const mobile = kommunikation.find((item) => item.kommKz === 3 && item.tlf !== '');
    if (mobile !== undefined) fields.mobil = mobile.tlf;
  } else {
    if (draw.chance(0.5)) fields.telefon = contact.phone;
    if (draw.chance(0.4)) fields.email = contact.email;
  }
  return {
    betNr: state.allocateBetNr(),
    rowId: draw.rowId(),
    fields: Object.fromEntries(schema.fieldNames.map((field) => [field, fields[field] ?? null])),
    kommunikation,
  };
}

/**
 * Adds `count` demo Beteiligte to `state` (after any that exist), drawn from `randomSeed`. Seeded data is
 * background, not a change anybody made: no events. Returns the new betNrs.
 */
export function addDemoBeteiligte(
  state: SimState,
  schema: BeteiligteSchema,
  count: number,
  randomSeed: number = DEMO_SEED,
): number[] {
  const draw = new Draw(randomSeed);
  const created: number[] = [];
  for (let i = 0; i < count; i++) {
    const record = demoBeteiligter(draw, state, schema);
    state.beteiligte.set(record.betNr, record);
    created.push(record.betNr);
  }
  return created;
}
