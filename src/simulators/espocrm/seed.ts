/**
 * Deterministic demo data (the same every time, from {@link DEMO_SEED}): about 50 German companies as
 * Accounts, 100 Contacts working for them, and 300 `CBeteiligte` of a law firm, persons and companies, about
 * two thirds already linked to Advoware (`advowareId`, `advowareRowId`, `syncStatus: clean`), some with
 * several e-mail addresses and phone numbers, some with none. Records are created silently (no webhooks, no
 * stream notes) by the admin, at fixed times in 2024, and assigned to the human users.
 */
import type { JsonObject } from '../../core/types.ts';
import { seededRandom } from '../../core/random.ts';
import { RecordService } from './records.ts';
import type { RecordServiceOptions } from './records.ts';
import { HUMAN_USERS } from './users.ts';
import type { SimUser } from './users.ts';
import { IdGenerator, formatDateTime } from './values.ts';

/** Seed of the demo data's random choices. */
export const DEMO_SEED = 20_260_405;

/** How many records of each type the demo data has. */
export const DEMO_COUNTS = { Account: 50, Contact: 100, CBeteiligte: 300 } as const;

/** First `advowareId` of linked Beteiligte (they count up from here). */
export const DEMO_FIRST_ADVOWARE_ID = 10_001;

const FIRST_NAMES = [
  'Anna',
  'Jürgen',
  'Sabine',
  'Thomas',
  'Małgorzata',
  'Lars',
  'Özlem',
  'Frank',
  'Birgit',
  'Jan',
  'Katrin',
  'René',
  'Ute',
  'Hans-Peter',
  'Léa',
  'Dirk',
];
const LAST_NAMES = [
  'Müller',
  'Schmidt',
  'Schäfer',
  'Weber',
  'Becker',
  'Hoffmann',
  'Krüger',
  'Wagner',
  'Koch',
  'Groß',
  'Yılmaz',
  'Neumann',
  'Schulz',
  'Böhm',
  'Lange',
  'Peters',
];
const COMPANY_PLACES = [
  'Bremer',
  'Hanseatische',
  'Nordsee',
  'Weser',
  'Alster',
  'Elbe',
  'Friesische',
  'Oldenburger',
  'Lüneburger',
  'Emder',
];
const COMPANY_TRADES = [
  'Logistik',
  'Reederei',
  'Maschinenbau',
  'Bau',
  'Kaffeerösterei',
  'Versicherung',
  'Windkraft',
  'Werft',
  'Spedition',
  'Immobilien',
];
const COMPANY_FORMS = ['GmbH', 'AG', 'KG', 'GmbH & Co. KG', 'e.K.'];
const INDUSTRIES = ['Logistics', 'Manufacturing', 'Construction', 'Insurance', 'Energy', 'Real Estate'];
const ACCOUNT_TYPES = ['Customer', 'Partner', 'Reseller', 'Investor', ''];

/** Demo time of the n-th record: one every 20 minutes from 2024-01-02 08:00 UTC. */
function demoTime(index: number): number {
  return Date.UTC(2024, 0, 2, 8) + index * 20 * 60_000;
}

function slug(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/ß/g, 'ss')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

/** Picks from lists and flips coins with the seeded generator. */
class Dice {
  readonly #random: () => number;

  constructor(random: () => number) {
    this.#random = random;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.#random() * items.length)];
    if (item === undefined) throw new Error('Dice.pick() of an empty list.');
    return item;
  }

  chance(probability: number): boolean {
    return this.#random() < probability;
  }

  digits(count: number): string {
    let text = '';
    for (let i = 0; i < count; i++) text += Math.floor(this.#random() * 10).toString();
    return text;
  }

  /** A base64 string of `bytes` random bytes, like Advoware's rowId (~40 characters for 30 bytes). */
  base64(bytes: number): string {
    return Buffer.from(Array.from({ length: bytes }, () => Math.floor(this.#random() * 256))).toString(
      'base64',
    );
  }
}

function phone(dice: Dice): string {
  return `+49 ${dice.pick(['421', '40', '441', '471', '4131'])} ${dice.digits(6)}`;
}

function companyNames(dice: Dice, count: number): string[] {
  const names = new Set<string>();
  while (names.size < count)
    names.add(`${dice.pick(COMPANY_PLACES)} ${dice.pick(COMPANY_TRADES)} ${dice.pick(COMPANY_FORMS)}`);
  return [...names];
}

function accounts(dice: Dice): JsonObject[] {
  return companyNames(dice, DEMO_COUNTS.Account).map((name) => ({
    name,
    website: `https://www.${slug(name)}.example`,
    type: dice.pick(ACCOUNT_TYPES),
    industry: dice.pick(INDUSTRIES),
    billingAddressCity: dice.pick(['Bremen', 'Hamburg', 'Oldenburg', 'Bremerhaven', 'Lüneburg']),
    billingAddressCountry: 'Germany',
    emailAddress: `info@${slug(name)}.example`,
    phoneNumberData: [{ phoneNumber: phone(dice), type: 'Office', primary: true }],
    assignedUserId: dice.pick(HUMAN_USERS).id,
  }));
}

function contacts(dice: Dice, accountIds: readonly string[]): JsonObject[] {
  return Array.from({ length: DEMO_COUNTS.Contact }, (_, index) => {
    const firstName = dice.pick(FIRST_NAMES);
    const lastName = dice.pick(LAST_NAMES);
    return {
      salutationName: dice.pick(['Mr.', 'Ms.', '']),
      firstName,
      lastName,
      title: dice.pick(['Geschäftsführer', 'Einkauf', 'Buchhaltung', '']),
      accountId: dice.pick(accountIds),
      emailAddress: `${slug(firstName)}.${slug(lastName)}.${index + 1}@mail.example`,
      phoneNumberData: [
        { phoneNumber: phone(dice), type: 'Mobile', primary: true },
        ...(dice.chance(0.4) ? [{ phoneNumber: phone(dice), type: 'Office', primary: false }] : []),
      ],
      assignedUserId: dice.pick(HUMAN_USERS).id,
    };
  });
}

function communications(dice: Dice, base: string): JsonObject {
  const emails = dice.chance(0.15) ? 0 : dice.chance(0.3) ? 3 : 1;
  const phones = dice.chance(0.2) ? 0 : dice.chance(0.35) ? 2 + Number(dice.chance(0.5)) : 1;
  return {
    emailAddressData: Array.from({ length: emails }, (_, i) => ({
      emailAddress: i === 0 ? `${base}@kanzlei-mandant.example` : `${base}.${i + 1}@post.example`,
      primary: i === 0,
    })),
    phoneNumberData: Array.from({ length: phones }, (_, i) => ({
      phoneNumber: phone(dice),
      type: ['Office', 'Mobile', 'Fax', 'Home'][i] ?? 'Other',
      primary: i === 0,
    })),
  };
}

function beteiligte(dice: Dice): JsonObject[] {
  let nextAdvowareId = DEMO_FIRST_ADVOWARE_ID;
  const firms = companyNames(dice, 120);
  return Array.from({ length: DEMO_COUNTS.CBeteiligte }, (_, index) => {
    const person = dice.chance(0.6);
    const firstName = dice.pick(FIRST_NAMES);
    const lastName = dice.pick(LAST_NAMES);
    const firm = firms[index % firms.length] ?? 'Kanzlei';
    const names: JsonObject & { name: string } = person
      ? { name: `${firstName} ${lastName}`, firstName, lastName, firmenname: null }
      : { name: firm, firstName: null, lastName: null, firmenname: firm };
    const linked = dice.chance(0.67);
    const sync: JsonObject = linked
      ? {
          advowareId: nextAdvowareId++,
          advowareRowId: dice.base64(30),
          syncStatus: 'clean',
          advowareLastSync: formatDateTime(demoTime(1000 + index)),
          syncRetryCount: 0,
        }
      : { syncStatus: 'pending_sync', syncRetryCount: 0 };
    return {
      ...names,
      ...sync,
      ...communications(dice, `${slug(names.name)}.${index + 1}`),
      assignedUserId: dice.pick(HUMAN_USERS).id,
    };
  });
}

/** Adds the demo data to the state behind `context`, created by `admin`. Returns the new ids per type. */
export function seedDemoData(
  context: Omit<RecordServiceOptions, 'ids' | 'listener'>,
  admin: SimUser,
): Record<'Account' | 'Contact' | 'CBeteiligte', string[]> {
  const dice = new Dice(seededRandom(DEMO_SEED));
  const service = new RecordService({
    ...context,
    ids: new IdGenerator(seededRandom(DEMO_SEED + 1)),
    listener: () => {},
  });
  let index = 0;
  const create = (type: 'Account' | 'Contact' | 'CBeteiligte', body: JsonObject) =>
    service.create(type, body, admin, { silent: true, skipDuplicateCheck: true, at: demoTime(index++) }).id;
  const accountIds = accounts(dice).map((body) => create('Account', body));
  const contactIds = contacts(dice, accountIds).map((body) => create('Contact', body));
  const beteiligteIds = beteiligte(dice).map((body) => create('CBeteiligte', body));
  return { Account: accountIds, Contact: contactIds, CBeteiligte: beteiligteIds };
}
