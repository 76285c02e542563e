/**
 * The deterministic demo tenant: users of the shared tenant of seed 001 (the team's RKAB and RCGO, the API
 * user 528, a foreign owner WACK), the lists and user-defined fields the enrichment connector writes, ~30
 * German companies with persons, and ~120 sales whose headings carry product words (seed 000), some of them
 * without a company. The same seed always gives the same data; no UDF values are filled yet.
 */
import type {
  Associate,
  CommItem,
  ContactRecord,
  ListDefinition,
  PersonRecord,
  SaleRecord,
  SaleStatus,
  SimState,
  UdefDefinition,
} from './model.ts';
import { seededRandom } from '../../core/random.ts';

/** Seed of the demo data's random choices. */
export const DEMO_SEED = 20260322;

/** The tenant's users. `apiAssociateId` becomes the API user (seed 000: 528). */
function seedAssociates(apiAssociateId: number): Associate[] {
  const user = (
    associateId: number,
    name: string,
    firstname: string,
    lastname: string,
    email: string,
    roleName: string,
    isAdministrator = false,
  ): Associate => ({
    associateId,
    name,
    fullName: `${firstname} ${lastname}`,
    firstname,
    lastname,
    email,
    personId: associateId + 10_000,
    contactId: 1,
    isAdministrator,
    roleName,
  });
  return [
    user(apiAssociateId, 'CRMSYNC', 'crmsync', 'API', 'crmsync-api@example.invalid', 'API user'),
    user(485, 'RKAB', 'Robin', 'Kabel', 'r.kabel@example.invalid', 'Sales', true),
    user(486, 'RCGO', 'Rita', 'Gothe', 'r.gothe@example.invalid', 'Sales'),
    user(700, 'WACK', 'Walter', 'Ackermann', 'w.ackermann@example.invalid', 'Sales (Wackler)'),
  ];
}

const VERTICALS = [
  'Leisure & Tourism',
  'Healthcare',
  'Logistics',
  'Manufacturing',
  'Retail',
  'Public Sector',
  'Hospitality',
  'Education',
  'Real Estate',
];

/** Lists: the user-defined "Vertical" list (ids 1613.. as in seed 001), ProductFamily, Category, Business, Position. */
export function seedLists(): ListDefinition[] {
  const items = (names: readonly string[], firstId: number, step = 1) =>
    names.map((name, index) => ({
      id: firstId + index * step,
      name,
      tooltip: '',
      deleted: false,
      rank: index + 1,
    }));
  const verticalItems = items(VERTICALS, 1613, 3);
  // A deleted item, so that `includeDeleted` is observable.
  verticalItems.push({ id: 1640, name: 'Other (old)', tooltip: 'no longer used', deleted: true, rank: 99 });
  return [
    { name: 'Vertical', udListDefinitionId: 331, items: verticalItems },
    {
      name: 'ProductFamily',
      udListDefinitionId: 0,
      items: items(['OMNIE', 'CD-01', 'Service', 'Zubehör', 'Software'], 1),
    },
    {
      name: 'Category',
      udListDefinitionId: 0,
      items: items(['Kunde', 'Interessent', 'Partner', 'Lieferant'], 1),
    },
    {
      name: 'Business',
      udListDefinitionId: 0,
      items: items(['Dienstleistung', 'Handel', 'Industrie', 'Öffentlich', 'Gesundheit'], 1),
    },
    {
      name: 'Position',
      udListDefinitionId: 0,
      items: items(['Geschäftsführer', 'Einkauf', 'Vertrieb', 'Technik', 'Assistenz'], 1),
    },
  ];
}

/** UDF definitions: what the enrichment writes (Vertical, AI Summary, Opener) plus one of every other type. */
function seedUdefs(): UdefDefinition[] {
  return [
    {
      owner: 'contact',
      udefFieldId: 83,
      progId: 'SuperOffice:83',
      fieldLabel: 'Vertical',
      fieldType: 'List',
      listName: 'Vertical',
    },
    {
      owner: 'contact',
      udefFieldId: 84,
      progId: 'SuperOffice:84',
      fieldLabel: 'AI Summary',
      fieldType: 'LongText',
    },
    {
      owner: 'contact',
      udefFieldId: 85,
      progId: 'SuperOffice:85',
      fieldLabel: 'Opener',
      fieldType: 'ShortText',
    },
    {
      owner: 'contact',
      udefFieldId: 86,
      progId: 'SuperOffice:86',
      fieldLabel: 'Last enriched',
      fieldType: 'Date',
    },
    {
      owner: 'contact',
      udefFieldId: 87,
      progId: 'SuperOffice:87',
      fieldLabel: 'Employees',
      fieldType: 'Number',
    },
    {
      owner: 'contact',
      udefFieldId: 88,
      progId: 'SuperOffice:88',
      fieldLabel: 'Enrichment approved',
      fieldType: 'Checkbox',
    },
    {
      owner: 'person',
      udefFieldId: 91,
      progId: 'SuperOffice:91',
      fieldLabel: 'Person opener',
      fieldType: 'ShortText',
    },
    {
      owner: 'person',
      udefFieldId: 92,
      progId: 'SuperOffice:92',
      fieldLabel: 'Person vertical',
      fieldType: 'List',
      listName: 'Vertical',
    },
    {
      owner: 'sale',
      udefFieldId: 95,
      progId: 'SuperOffice:95',
      fieldLabel: 'Product code',
      fieldType: 'ShortText',
    },
  ];
}

const COMPANY_STEMS = [
  'Bremer Abenteuerland',
  'Hanse Logistik',
  'Elbtal Kliniken',
  'Schwarzwald Hotels',
  'Ruhr Stahlbau',
  'Alpen Tourismus',
  'Nordsee Fischhandel',
  'Pfalz Weinkontor',
  'Spree Bildungswerk',
  'Main Immobilien',
  'Isar Medizintechnik',
  'Weser Spedition',
  'Harz Ferienparks',
  'Lausitz Maschinenbau',
  'Rhein Einzelhandel',
  'Mosel Gastronomie',
  'Oder Bauhof',
  'Eifel Landtechnik',
  'Saale Stadtwerke',
  'Allgäu Molkerei',
  'Sauerland Kunststoff',
  'Ostsee Reisen',
  'Taunus Pflegedienste',
  'Vogtland Textil',
  'Emsland Agrar',
  'Chiemgau Brauerei',
  'Uckermark Energie',
  'Bodensee Yachtwerft',
  'Altmark Holzbau',
  'Rhön Reha-Zentrum',
];
const LEGAL_FORMS = ['GmbH', 'GmbH & Co. KG', 'AG', 'KG', 'e.K.'];
const FIRSTNAMES = ['Anna', 'Jonas', 'Lena', 'Felix', 'Mia', 'Paul', 'Sophie', 'Lukas', 'Clara', 'Tim'];
const LASTNAMES = [
  'Müller',
  'Schmidt',
  'Schneider',
  'Fischer',
  'Weber',
  'Meyer',
  'Wagner',
  'Becker',
  'Hoffmann',
  'Koch',
];
const SALE_HEADINGS = [
  '2xOmnie CD-01 mit Nachlass',
  'Service Vertrag OMNIE',
  '1x OMNIE Grundgerät',
  'CD-01 Ersatzteile',
  'Wartung OMNIE 12 Monate',
  'Software Update OMNIE',
  '3xOmnie CD-01 Rahmenvertrag',
  'Zubehörpaket CD-01',
];
const SALE_STATUSES: readonly SaleStatus[] = ['Open', 'Open', 'Sold', 'Sold', 'Lost', 'Stalled'];

const DAY_MS = 86_400_000;
/** Seeded records date from 2024, before the default test clock (2025-01-01), whatever the clock says. */
const SEED_EPOCH = Date.UTC(2024, 0, 15, 9, 0, 0);

function pick<T>(random: () => number, values: readonly T[]): T {
  const value = values[Math.floor(random() * values.length)];
  if (value === undefined) throw new Error('pick from an empty list');
  return value;
}

function slug(text: string): string {
  return text
    .toLowerCase()
    .replaceAll('ä', 'ae')
    .replaceAll('ö', 'oe')
    .replaceAll('ü', 'ue')
    .replaceAll('ß', 'ss')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

const comm = (value: string, description = ''): CommItem => ({ value, description });

/**
 * Fills `state` with the demo tenant: users, lists, UDF definitions, and (unless `records` is false) the demo
 * companies, persons and sales.
 */
export function seedDemoTenant(state: SimState, apiAssociateId: number, records = true): void {
  state.associates = seedAssociates(apiAssociateId);
  state.lists = seedLists();
  state.udefs = seedUdefs();
  if (records) addDemoRecords(state);
}

/** Adds the demo companies, persons and sales (deterministic, {@link DEMO_SEED}). */
export function addDemoRecords(state: SimState): void {
  const random = seededRandom(DEMO_SEED);
  // Mixed owners: mostly the team, some the foreign owner of the shared tenant (seed 001).
  const owners = [485, 485, 486, 486, 700];
  const contactIds: number[] = [];
  COMPANY_STEMS.forEach((stem, index) => {
    const contactId = state.allocateId('contact');
    contactIds.push(contactId);
    const legalForm = pick(random, LEGAL_FORMS);
    const created = SEED_EPOCH + index * DAY_MS;
    const owner = pick(random, owners);
    const contact: ContactRecord = {
      contactId,
      name: `${stem} ${legalForm}`,
      department: index % 4 === 0 ? 'Zentrale' : '',
      orgNr: index % 3 === 0 ? `HRB ${10_000 + Math.floor(random() * 89_999)}` : '',
      number1: String(10_000 + contactId),
      number2: '',
      description: '',
      associateId: owner,
      categoryId: 1 + Math.floor(random() * 4),
      businessId: 1 + Math.floor(random() * 5),
      countryId: 276,
      emails: [comm(`info@${slug(stem)}.example`)],
      urls: index % 2 === 0 ? [comm(`https://www.${slug(stem)}.example`, 'Website')] : [],
      phones: [comm(`+49 ${400 + index} ${100_000 + Math.floor(random() * 899_999)}`)],
      createdDate: created,
      updatedDate: created + Math.floor(random() * 200) * DAY_MS,
      createdBy: owner,
      updatedBy: owner,
      udf: {},
    };
    state.put('contact', contactId, contact);
    const personCount = 1 + Math.floor(random() * 3);
    for (let n = 0; n < personCount; n++) {
      const personId = state.allocateId('person');
      const firstname = pick(random, FIRSTNAMES);
      const lastname = pick(random, LASTNAMES);
      const person: PersonRecord = {
        personId,
        contactId,
        firstname,
        middleName: '',
        lastname,
        title: n === 0 ? 'Dr.' : '',
        positionId: 1 + Math.floor(random() * 5),
        associateId: owner,
        emails: [comm(`${slug(firstname)}.${slug(lastname)}@${slug(stem)}.example`)],
        mobilePhones: n === 0 ? [comm(`+49 170 ${1_000_000 + Math.floor(random() * 8_999_999)}`)] : [],
        officePhones: [],
        createdDate: created,
        updatedDate: created,
        createdBy: owner,
        updatedBy: owner,
        udf: {},
      };
      state.put('person', personId, person);
    }
  });
  const persons = [...state.persons.values()];
  for (let n = 0; n < 120; n++) {
    const saleId = state.allocateId('sale');
    // Every fifth sale has no company, as seed 000 found many of them.
    const contactId = n % 5 === 4 ? 0 : pick(random, contactIds);
    const person = persons.find((candidate) => candidate.contactId === contactId);
    const created = SEED_EPOCH + Math.floor(random() * 300) * DAY_MS;
    const owner = pick(random, owners);
    const sale: SaleRecord = {
      saleId,
      heading: pick(random, SALE_HEADINGS),
      amount: Math.round(random() * 500) * 100,
      status: pick(random, SALE_STATUSES),
      saledate: created + 30 * DAY_MS,
      contactId,
      personId: person?.personId ?? 0,
      associateId: owner,
      productFamilyId: 1 + Math.floor(random() * 5),
      createdDate: created,
      updatedDate: created,
      createdBy: owner,
      updatedBy: owner,
      udf: {},
    };
    state.put('sale', saleId, sale);
  }
}
