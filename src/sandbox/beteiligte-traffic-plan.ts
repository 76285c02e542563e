/**
 * What the simulated users of the Beteiligte demo do next, decided by a seeded PRNG: the same seed and the
 * same records give the same actions. Pure: no I/O. The traffic generator reads both simulators, hands the
 * records to {@link BeteiligtePlanner.next}, and performs the edits it returns through the simulators'
 * `/_sim/act/` routes (as a human in the vendor's UI).
 *
 * The mix is what the sync flow must cope with: new persons and companies on either side (first syncs),
 * first-name, last-name and company-name edits on either side (one-sided changes), and now and then the same
 * field of a linked pair edited on both sides at nearly the same time (a same-field conflict, which the
 * Beteiligte flow settles EspoCRM-wins). Records are persons (a first name) or companies (none), as the
 * `beteiligte-*` mapping modules read them.
 */
import { seededRandom } from '../core/random.ts';

/** The kinds of action, as logged. */
export const BETEILIGTE_ACTIONS = [
  'create-in-espocrm',
  'create-in-advoware',
  'edit-in-espocrm',
  'edit-in-advoware',
  'edit-on-both-sides',
] as const;

/** One kind of action. */
export type BeteiligteActionKind = (typeof BETEILIGTE_ACTIONS)[number];

/** How often each action is chosen, relative to the others (a both-sides edit is `conflictChance`). */
const WEIGHTS: Readonly<Record<Exclude<BeteiligteActionKind, 'edit-on-both-sides'>, number>> = {
  'create-in-espocrm': 15,
  'create-in-advoware': 15,
  'edit-in-espocrm': 35,
  'edit-in-advoware': 35,
};

/** Below this many records on a side, the users create rather than edit (an empty demo fills up first). */
const FEW_RECORDS = 3;

const FIRST_NAMES = ['Anna', 'Lukas', 'Marie', 'Paul', 'Sophie', 'Felix', 'Clara', 'Jonas', 'Lena', 'Max'];
const LAST_NAMES = ['Becker', 'Hoffmann', 'Fischer', 'Wagner', 'Koch', 'Richter', 'Klein', 'Wolf', 'Vogel'];
const COMPANY_STEMS = [
  'Rheinblick',
  'Nordlicht',
  'Bergquell',
  'Lindenhof',
  'Seeblick',
  'Sonnenfeld',
  'Tannenau',
];
const COMPANY_TRADES = ['Immobilien', 'Bau', 'Versicherungen', 'Handel', 'Kanzleibedarf', 'Logistik'];
const LEGAL_FORMS = ['GmbH', 'AG', 'KG', 'GmbH & Co. KG', 'e.K.'];

/** A CBeteiligter as the planner sees it (EspoCRM's attributes). */
export interface EspoBeteiligter {
  readonly id: string;
  readonly firstName: string | null;
  readonly lastName: string | null;
  readonly firmenname: string | null;
  /** The linked Beteiligter's betNr, once the sync linked it. */
  readonly advowareId: number | null;
}

/** A Beteiligter as the planner sees it (Advoware's fields). */
export interface AdvoBeteiligter {
  readonly betNr: number;
  readonly name: string;
  readonly vorname: string | null;
}

/** Both sides' records now. */
export interface BeteiligteWorld {
  readonly espocrm: readonly EspoBeteiligter[];
  readonly advoware: readonly AdvoBeteiligter[];
}

/** One call of a simulator's `/_sim/act/:user/<entity>[/:id]`. */
export interface BeteiligteEdit {
  readonly side: 'espocrm' | 'advoware';
  /** The acting user (the simulators know admin, anna and ben). */
  readonly user: string;
  /** The record changed (CBeteiligte id or betNr); absent for creates. */
  readonly id?: string;
  /** The vendor fields set. */
  readonly body: Readonly<Record<string, string>>;
}

/** A planned action: one edit, or two for a both-sides edit (EspoCRM first, Advoware right after). */
export interface BeteiligteAction {
  readonly action: BeteiligteActionKind;
  readonly edits: readonly BeteiligteEdit[];
  /** One line for the log, e.g. `anna renamed CBeteiligte 6651… "Koch" to "Vogel" in EspoCRM`. */
  readonly summary: string;
}

/** Options of {@link BeteiligtePlanner}. */
export interface BeteiligtePlannerOptions {
  readonly seed: number;
  /** Chance (0..1) that an action is a both-sides edit of a linked pair, when one exists. */
  readonly conflictChance: number;
  /** Who acts; at least one (each must be a human user of both simulators). */
  readonly users?: readonly string[];
}

/** The users both simulators know. */
const DEFAULT_USERS = ['anna', 'ben'];

/** A person's or a company's names, as the mapping modules' canonical fields. */
interface Names {
  readonly firstName: string | null;
  readonly lastName: string | null;
  readonly companyName: string | null;
}

/** Decides the next action of the simulated users; see the module comment. */
export class BeteiligtePlanner {
  readonly #random: () => number;
  readonly #conflictChance: number;
  readonly #users: readonly string[];

  constructor(options: BeteiligtePlannerOptions) {
    const users = options.users ?? DEFAULT_USERS;
    if (users.length === 0) throw new RangeError('BeteiligtePlanner needs at least one user');
    this.#random = seededRandom(options.seed);
    this.#conflictChance = options.conflictChance;
    this.#users = users;
  }

  /** The next action on `world`. */
  next(world: BeteiligteWorld): BeteiligteAction {
    const user = this.#pick(this.#users);
    const pairs = linkedPairs(world);
    if (pairs.length > 0 && this.#random() < this.#conflictChance)
      return this.#editBothSides(user, this.#pick(pairs));
    switch (this.#chooseAction(world)) {
      case 'create-in-espocrm':
        return this.#createInEspoCrm(user);
      case 'create-in-advoware':
        return this.#createInAdvoware(user);
      case 'edit-in-espocrm':
        return this.#editInEspoCrm(user, this.#pick(world.espocrm));
      default:
        return this.#editInAdvoware(user, this.#pick(world.advoware));
    }
  }

  #chooseAction(world: BeteiligteWorld): Exclude<BeteiligteActionKind, 'edit-on-both-sides'> {
    if (world.espocrm.length < FEW_RECORDS) return 'create-in-espocrm';
    if (world.advoware.length < FEW_RECORDS) return 'create-in-advoware';
    const kinds = Object.keys(WEIGHTS) as (keyof typeof WEIGHTS)[];
    const total = kinds.reduce((sum, kind) => sum + WEIGHTS[kind], 0);
    let roll = this.#random() * total;
    for (const kind of kinds) {
      roll -= WEIGHTS[kind];
      if (roll < 0) return kind;
    }
    return 'edit-in-advoware';
  }

  #createInEspoCrm(user: string): BeteiligteAction {
    const names = this.#newNames();
    return {
      action: 'create-in-espocrm',
      edits: [{ side: 'espocrm', user, body: espoBody(names) }],
      summary: `${user} created ${describe(names)} in EspoCRM`,
    };
  }

  #createInAdvoware(user: string): BeteiligteAction {
    const names = this.#newNames();
    return {
      action: 'create-in-advoware',
      edits: [{ side: 'advoware', user, body: advoBody(names) }],
      summary: `${user} created ${describe(names)} in Advoware`,
    };
  }

  #editInEspoCrm(user: string, record: EspoBeteiligter): BeteiligteAction {
    const before = espoNames(record);
    const after = this.#edited(before);
    return {
      action: 'edit-in-espocrm',
      edits: [{ side: 'espocrm', user, id: record.id, body: espoBody(after) }],
      summary: `${user} changed CBeteiligte ${record.id} from ${describe(before)} to ${describe(after)} in EspoCRM`,
    };
  }

  #editInAdvoware(user: string, record: AdvoBeteiligter): BeteiligteAction {
    const before = advoNames(record);
    const after = this.#edited(before);
    return {
      action: 'edit-in-advoware',
      edits: [{ side: 'advoware', user, id: String(record.betNr), body: advoBody(after) }],
      summary: `${user} changed Beteiligter ${record.betNr} from ${describe(before)} to ${describe(after)} in Advoware`,
    };
  }

  /** The last name (a person) or company name (a company) of a linked pair, differently on each side. */
  #editBothSides(user: string, pair: LinkedPair): BeteiligteAction {
    const before = espoNames(pair.espocrm);
    const inEspo = this.#edited(before, 'name');
    let inAdvo = this.#edited(before, 'name');
    while (describe(inAdvo) === describe(inEspo)) inAdvo = this.#edited(before, 'name');
    const other = this.#pick(this.#users.filter((candidate) => candidate !== user).concat(user));
    return {
      action: 'edit-on-both-sides',
      edits: [
        { side: 'espocrm', user, id: pair.espocrm.id, body: espoBody(inEspo) },
        { side: 'advoware', user: other, id: String(pair.advoware.betNr), body: advoBody(inAdvo) },
      ],
      summary:
        `same field, both sides at once: ${user} changed CBeteiligte ${pair.espocrm.id} to ${describe(inEspo)} in EspoCRM ` +
        `and ${other} its Beteiligter ${pair.advoware.betNr} to ${describe(inAdvo)} in Advoware (EspoCRM should win)`,
    };
  }

  /** A new person (two in three) or company. */
  #newNames(): Names {
    if (this.#random() < 2 / 3)
      return { firstName: this.#pick(FIRST_NAMES), lastName: this.#pick(LAST_NAMES), companyName: null };
    return { firstName: null, lastName: null, companyName: this.#companyName() };
  }

  /** `names` with one field changed: a person's first or last name, or a company's name. */
  #edited(names: Names, only?: 'name'): Names {
    if (names.firstName === null) {
      let companyName = this.#companyName();
      while (companyName === names.companyName) companyName = this.#companyName();
      return { ...names, companyName };
    }
    const field = only === 'name' || this.#random() < 0.5 ? 'lastName' : 'firstName';
    const choices = (field === 'lastName' ? LAST_NAMES : FIRST_NAMES).filter(
      (value) => value !== names[field],
    );
    return { ...names, [field]: this.#pick(choices) };
  }

  #companyName(): string {
    return `${this.#pick(COMPANY_STEMS)} ${this.#pick(COMPANY_TRADES)} ${this.#pick(LEGAL_FORMS)}`;
  }

  #pick<T>(values: readonly T[]): T {
    const value = values[Math.floor(this.#random() * values.length)];
    if (value === undefined) throw new RangeError('pick from an empty list');
    return value;
  }
}

/** A CBeteiligter and the Beteiligter its `advowareId` names. */
interface LinkedPair {
  readonly espocrm: EspoBeteiligter;
  readonly advoware: AdvoBeteiligter;
}

function linkedPairs(world: BeteiligteWorld): LinkedPair[] {
  const byBetNr = new Map(world.advoware.map((record) => [record.betNr, record]));
  return world.espocrm.flatMap((espocrm) => {
    const advoware = espocrm.advowareId === null ? undefined : byBetNr.get(espocrm.advowareId);
    return advoware === undefined ? [] : [{ espocrm, advoware }];
  });
}

const blank = (value: string | null): boolean => value === null || value.trim() === '';

/** As `beteiligte-espocrm` reads a record: a company when `firmenname` is set or no first name is. */
function espoNames(record: EspoBeteiligter): Names {
  if (!blank(record.firmenname) || blank(record.firstName))
    return { firstName: null, lastName: null, companyName: record.firmenname ?? record.lastName };
  return { firstName: record.firstName, lastName: record.lastName, companyName: null };
}

/** As `beteiligte-advoware` reads a record: a person exactly when `vorname` is set. */
function advoNames(record: AdvoBeteiligter): Names {
  if (blank(record.vorname)) return { firstName: null, lastName: null, companyName: record.name };
  return { firstName: record.vorname, lastName: record.name, companyName: null };
}

/** The CBeteiligte attributes a human sets in EspoCRM's form. */
function espoBody(names: Names): Record<string, string> {
  if (names.firstName === null) {
    const companyName = names.companyName ?? '';
    return { firmenname: companyName, name: companyName };
  }
  const lastName = names.lastName ?? '';
  return { firstName: names.firstName, lastName, name: `${names.firstName} ${lastName}` };
}

/** The Beteiligte fields a human sets in Advoware. */
function advoBody(names: Names): Record<string, string> {
  if (names.firstName === null) return { name: names.companyName ?? '', vorname: '' };
  return { name: names.lastName ?? '', vorname: names.firstName };
}

function describe(names: Names): string {
  return names.firstName === null
    ? `company "${names.companyName ?? ''}"`
    : `person "${names.firstName} ${names.lastName ?? ''}"`;
}
