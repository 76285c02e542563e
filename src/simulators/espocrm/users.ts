/**
 * The simulated instance's users: the admin (id `1`, as in every EspoCRM install), two regular users who
 * play the humans working in the CRM (`anna`, `ben`), and the API user `crmsync-api` the connector logs in
 * as. Human users log in with `Espo-Authorization` or Basic; the API user with `X-Api-Key` or HMAC.
 */

/** The kinds of users that matter here. */
export type UserType = 'admin' | 'regular' | 'api';

/** A user of the simulated instance. */
export interface SimUser {
  readonly id: string;
  readonly userName: string;
  /** Display name, the value of `xxxName` attributes. */
  readonly name: string;
  readonly type: UserType;
  /** Human users only. Simulator credentials, not secrets of any real system. */
  readonly password?: string;
  /** API user only. */
  readonly apiKey?: string;
  /** API user only: the HMAC key. */
  readonly secretKey?: string;
  readonly emailAddress: string;
}

/** The API user's user name. */
export const API_USER_NAME = 'crmsync-api';

/** The default API key (32 hex characters, like the vendor's generated ones). */
export const DEFAULT_API_KEY = '5f0c2b6a9d1e4f7a8b3c6d9e0f1a2b3c';
/** The default HMAC secret key of the API user. */
export const DEFAULT_SECRET_KEY = 'a7e3c1f95b2d4e6f8091a2b3c4d5e6f7';

/** The human users with their passwords, for tests and demos (`Espo-Authorization: base64(user:password)`). */
export const HUMAN_USERS: readonly SimUser[] = [
  {
    id: '1',
    userName: 'admin',
    name: 'Admin',
    type: 'admin',
    password: 'admin-password',
    emailAddress: 'admin@example.invalid',
  },
  {
    id: '65a1f0c2b3d4e5f61',
    userName: 'anna',
    name: 'Anna Berger',
    type: 'regular',
    password: 'anna-password',
    emailAddress: 'anna.berger@example.invalid',
  },
  {
    id: '65a1f0c2b3d4e5f62',
    userName: 'ben',
    name: 'Ben Hoffmann',
    type: 'regular',
    password: 'ben-password',
    emailAddress: 'ben.hoffmann@example.invalid',
  },
];

/** All users: the humans and the API user with the given keys. */
export function buildUsers(apiKey: string, secretKey: string): SimUser[] {
  return [
    ...HUMAN_USERS,
    {
      id: '65a1f0c2b3d4e5f6a',
      userName: API_USER_NAME,
      name: 'crmsync API',
      type: 'api',
      apiKey,
      secretKey,
      emailAddress: 'crmsync-api@example.invalid',
    },
  ];
}

/** The users of an instance, looked up by id, user name or API key. */
export class UserDirectory {
  readonly #users: readonly SimUser[];

  constructor(users: readonly SimUser[]) {
    this.#users = users;
  }

  /** Every user, humans first. */
  all(): readonly SimUser[] {
    return this.#users;
  }

  /** The user with id `id`. */
  byId(id: string): SimUser | undefined {
    return this.#users.find((user) => user.id === id);
  }

  /** The user who logs in as `userName`. */
  byUserName(userName: string): SimUser | undefined {
    return this.#users.find((user) => user.userName === userName);
  }

  /** The API user with key `apiKey`. */
  byApiKey(apiKey: string): SimUser | undefined {
    return this.#users.find((user) => user.type === 'api' && user.apiKey === apiKey);
  }

  /** The API user (there is exactly one). */
  get apiUser(): SimUser {
    const user = this.#users.find((candidate) => candidate.type === 'api');
    if (user === undefined) throw new Error('The simulator has no API user.');
    return user;
  }

  /** The display name of user `id`, or null (the value of `xxxName` attributes). */
  nameOf(id: string | null | undefined): string | null {
    if (id === null || id === undefined) return null;
    return this.byId(id)?.name ?? null;
  }
}
