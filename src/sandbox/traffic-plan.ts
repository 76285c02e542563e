/**
 * What the simulated users do next, decided by a seeded PRNG: the same seed and the same starting records
 * give the same actions, so a demo or a test can be replayed. Pure: no I/O; the traffic generator performs
 * the planned action against the simulator and reports the id back.
 *
 * The mix mirrors what the enrichment flow must cope with in a shared tenant (seeds 000-002): new companies
 * (some with a name entered again within minutes, for the duplicate shield), renames and new web addresses
 * (relevant changes), department and phone edits (irrelevant changes), new persons with a job title and job
 * title changes. Whoever acts owns what they create, so companies created by WACK belong to the tenant's
 * foreign owner.
 */
import { seededRandom } from '../core/random.ts';

/** The kinds of action, as logged. */
export const TRAFFIC_ACTIONS = [
  'create-company',
  'rename-company',
  'change-company-url',
  'change-company-details',
  'create-person',
  'change-job-title',
] as const;

/** One kind of action. */
export type TrafficActionKind = (typeof TRAFFIC_ACTIONS)[number];

/** How often each action is chosen, relative to the others. */
const WEIGHTS: Readonly<Record<TrafficActionKind, number>> = {
  'create-company': 25,
  'rename-company': 10,
  'change-company-url': 10,
  'change-company-details': 20,
  'create-person': 15,
  'change-job-title': 20,
};

/** Chance that a new company repeats a name entered shortly before (a duplicate the flow should skip). */
const DUPLICATE_CHANCE = 0.3;
/** How many recently created names a duplicate is taken from (a few minutes at the default interval). */
const RECENT_NAMES = 5;

const REGIONS = [
  'Spreewald',
  'Hunsrück',
  'Odenwald',
  'Breisgau',
  'Wendland',
  'Altmühltal',
  'Kraichgau',
  'Erzgebirge',
  'Ammersee',
  'Westerwald',
  'Havelland',
  'Nordheide',
  'Fichtelgebirge',
  'Lahntal',
  'Elbsandstein',
];
const TRADES = [
  'Landmaschinen',
  'Feinkost',
  'Holzbau',
  'Reisen',
  'Medizintechnik',
  'Logistik',
  'Brauerei',
  'Kliniken',
  'Softwarehaus',
  'Backwaren',
  'Autohaus',
  'Energie',
  'Druckerei',
  'Hotelbetriebe',
  'Pflegedienst',
];
/** Longest first, so that "GmbH & Co. KG" is recognised before "KG". */
const LEGAL_FORMS = ['GmbH & Co. KG', 'GmbH', 'AG', 'KG', 'e.K.'];
const DEPARTMENTS = ['Zentrale', 'Vertrieb', 'Einkauf', 'Buchhaltung', 'Technik', 'Niederlassung Süd'];
const FIRST_NAMES = [
  'Hannah',
  'Moritz',
  'Johanna',
  'Leon',
  'Emilia',
  'Finn',
  'Greta',
  'Jakob',
  'Ida',
  'Karl',
];
const LAST_NAMES = ['Schulz', 'Krüger', 'Neumann', 'Schwarz', 'Zimmermann', 'Braun', 'Hartmann', 'Lange'];
const JOB_TITLES = [
  'Geschäftsführerin',
  'Geschäftsführer',
  'Leiterin Einkauf',
  'Vertriebsleiter',
  'Head of Marketing',
  'Technischer Leiter',
  'Prokuristin',
  'IT-Leiter',
  'Personalleiterin',
  'Assistenz der Geschäftsführung',
];

/** A company the planner may edit. */
export interface KnownCompany {
  readonly id: number;
  readonly name: string;
  readonly department: string;
  /** The first web address, or '' without one. */
  readonly website: string;
}

/** A person the planner may edit. */
export interface KnownPerson {
  readonly id: number;
  readonly jobTitle: string;
}

/** An action to perform as a human user through the simulator's `/_sim/act/:user/:entity[/:id]`. */
export interface PlannedAction {
  readonly action: TrafficActionKind;
  readonly entity: 'Contact' | 'Person';
  /** Short name of the acting user. */
  readonly user: string;
  /** The record changed; absent for creates. */
  readonly id?: number;
  /** The fields set, in the WebAPI's REST names. */
  readonly body: Readonly<Record<string, unknown>>;
  /** One line for the log, e.g. `created company "Spreewald Feinkost GmbH"`. */
  readonly summary: string;
}

/** Options of {@link TrafficPlanner}. */
export interface TrafficPlannerOptions {
  readonly seed: number;
  /** Short names of the users who act; at least one. */
  readonly users: readonly string[];
  /** Records that exist before the first action (the seeded tenant). */
  readonly companies: readonly KnownCompany[];
  readonly persons: readonly KnownPerson[];
}

/** The web address the traffic gives a company name (the reserved `.example` TLD: never a real site). */
export function websiteOf(name: string): string {
  const stem = LEGAL_FORMS.reduce(
    (text, form) => (text.endsWith(` ${form}`) ? text.slice(0, -form.length - 1) : text),
    name,
  );
  const domain = stem
    .toLowerCase()
    .replaceAll('ß', 'ss')
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, (mark) => (mark === '\u0308' ? 'e' : ''))
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
  return `https://www.${domain}.example`;
}

/** Decides the next action of the simulated users; see the module comment. */
export class TrafficPlanner {
  readonly #random: () => number;
  readonly #users: readonly string[];
  readonly #companies: Map<number, KnownCompany>;
  readonly #persons: Map<number, KnownPerson>;
  readonly #recentNames: string[] = [];

  constructor(options: TrafficPlannerOptions) {
    if (options.users.length === 0) throw new RangeError('TrafficPlanner needs at least one user');
    this.#random = seededRandom(options.seed);
    this.#users = options.users;
    this.#companies = new Map(options.companies.map((company) => [company.id, company]));
    this.#persons = new Map(options.persons.map((person) => [person.id, person]));
  }

  /** The next action. Call {@link performed} once the simulator has carried it out. */
  next(): PlannedAction {
    const user = this.#pick(this.#users);
    const action = this.#chooseAction();
    switch (action) {
      case 'create-company':
        return this.#createCompany(user);
      case 'rename-company':
        return this.#renameCompany(user, this.#pick([...this.#companies.values()]));
      case 'change-company-url':
        return this.#changeUrl(user, this.#pick([...this.#companies.values()]));
      case 'change-company-details':
        return this.#changeDetails(user, this.#pick([...this.#companies.values()]));
      case 'create-person':
        return this.#createPerson(user, this.#pick([...this.#companies.values()]));
      case 'change-job-title':
        return this.#changeJobTitle(user, this.#pick([...this.#persons.values()]));
    }
  }

  /** Records the outcome of `action` (the simulator's id of the record), so later actions can edit it. */
  performed(action: PlannedAction, id: number): void {
    const body = action.body as {
      Name?: string;
      Department?: string;
      Title?: string;
      Urls?: { Value: string }[];
    };
    if (action.entity === 'Contact') {
      const before = this.#companies.get(id);
      this.#companies.set(id, {
        id,
        name: body.Name ?? before?.name ?? '',
        department: body.Department ?? before?.department ?? '',
        website: body.Urls?.[0]?.Value ?? before?.website ?? '',
      });
      if (action.action === 'create-company' && body.Name !== undefined) {
        this.#recentNames.push(body.Name);
        if (this.#recentNames.length > RECENT_NAMES) this.#recentNames.shift();
      }
    } else {
      this.#persons.set(id, { id, jobTitle: body.Title ?? this.#persons.get(id)?.jobTitle ?? '' });
    }
  }

  /** A weighted choice among the actions possible now (edits need something to edit). */
  #chooseAction(): TrafficActionKind {
    const possible = TRAFFIC_ACTIONS.filter((action) => {
      if (action === 'create-company') return true;
      if (action === 'change-job-title') return this.#persons.size > 0;
      return this.#companies.size > 0;
    });
    const total = possible.reduce((sum, action) => sum + WEIGHTS[action], 0);
    let roll = this.#random() * total;
    for (const action of possible) {
      roll -= WEIGHTS[action];
      if (roll < 0) return action;
    }
    return 'create-company';
  }

  #createCompany(user: string): PlannedAction {
    const repeat = this.#recentNames.length > 0 && this.#random() < DUPLICATE_CHANCE;
    const name = repeat
      ? this.#pick(this.#recentNames)
      : `${this.#pick(REGIONS)} ${this.#pick(TRADES)} ${this.#pick(LEGAL_FORMS)}`;
    return {
      action: 'create-company',
      entity: 'Contact',
      user,
      body: {
        Name: name,
        Urls: [{ Value: websiteOf(name), Description: 'Website' }],
        Phones: [{ Value: this.#phone(), Description: '' }],
      },
      summary: `created company "${name}"${repeat ? ' (entered again)' : ''}`,
    };
  }

  #renameCompany(user: string, company: KnownCompany): PlannedAction {
    const current = LEGAL_FORMS.find((form) => company.name.endsWith(` ${form}`));
    const stem = current === undefined ? company.name : company.name.slice(0, -current.length - 1);
    const name = `${stem} ${this.#pick(LEGAL_FORMS.filter((form) => form !== current))}`;
    return {
      action: 'rename-company',
      entity: 'Contact',
      user,
      id: company.id,
      body: { Name: name },
      summary: `renamed company ${company.id} "${company.name}" to "${name}"`,
    };
  }

  #changeUrl(user: string, company: KnownCompany): PlannedAction {
    const url = websiteOf(company.name).replace(
      'https://www.',
      this.#random() < 0.5 ? 'https://' : 'https://shop.',
    );
    return {
      action: 'change-company-url',
      entity: 'Contact',
      user,
      id: company.id,
      body: { Urls: [{ Value: url, Description: 'Website' }] },
      summary: `set the website of company ${company.id} to ${url}`,
    };
  }

  /** Department and phone only: fields the enrichment does not look at. */
  #changeDetails(user: string, company: KnownCompany): PlannedAction {
    const department = this.#pick(DEPARTMENTS.filter((candidate) => candidate !== company.department));
    return {
      action: 'change-company-details',
      entity: 'Contact',
      user,
      id: company.id,
      body: { Department: department, Phones: [{ Value: this.#phone(), Description: '' }] },
      summary: `set department "${department}" and a new phone number on company ${company.id}`,
    };
  }

  #createPerson(user: string, company: KnownCompany): PlannedAction {
    const firstname = this.#pick(FIRST_NAMES);
    const lastname = this.#pick(LAST_NAMES);
    const title = this.#pick(JOB_TITLES);
    return {
      action: 'create-person',
      entity: 'Person',
      user,
      body: {
        Firstname: firstname,
        Lastname: lastname,
        Title: title,
        Contact: { ContactId: company.id },
      },
      summary: `created person ${firstname} ${lastname} (${title}) at company ${company.id}`,
    };
  }

  #changeJobTitle(user: string, person: KnownPerson): PlannedAction {
    const title = this.#pick(JOB_TITLES.filter((candidate) => candidate !== person.jobTitle));
    return {
      action: 'change-job-title',
      entity: 'Person',
      user,
      id: person.id,
      body: { Title: title },
      summary: `changed the job title of person ${person.id} to "${title}"`,
    };
  }

  #phone(): string {
    return `+49 ${30 + Math.floor(this.#random() * 900)} ${100_000 + Math.floor(this.#random() * 900_000)}`;
  }

  #pick<T>(values: readonly T[]): T {
    const value = values[Math.floor(this.#random() * values.length)];
    if (value === undefined) throw new RangeError('pick from an empty list');
    return value;
  }
}
