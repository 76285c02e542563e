/**
 * The SuperOffice side of the `enrich` flow (seeds 000-002): reads a Contact (or a Person and its Contact)
 * with the facts an enricher needs, and writes the results into user-defined fields by ProgId, in one merge
 * patch conditional on the record's UpdatedDate.
 *
 * API calls: one GET per company event, two per person event (person + company), one more when sale
 * headings are wanted; the vertical list is read once per cache period; one PATCH when something differs.
 * A call's signal reaches the vendor client through the call-signal scope (src/connectors/shared/call-signal.ts).
 */
import { abortable } from '../../core/abortable.ts';
import { InputError } from '../../core/errors.ts';
import type { FieldChange, JsonObject, JsonValue, RecordRef } from '../../core/types.ts';
import type { Clock } from '../../ports/clock.ts';
import type { CallOptions } from '../../ports/connector.ts';
import type { EnrichRole, EnrichSubject, EnrichTarget, EnrichWrite } from '../../ports/enrich-target.ts';
import type { CompanyFacts, PersonFacts } from '../../ports/enricher.ts';
import { withCallSignal, withoutCallSignal } from '../shared/call-signal.ts';
import { getField, getId, isObject } from '../shared/casing.ts';
import { versionOf } from './endpoints.ts';
import type { SuperOfficeConnector } from './index.ts';
import { decodeUserDefinedFields, encodeUdfValue } from './udf.ts';
import type { UdfValue } from './udf.ts';

/** Where the results go and how verticals are found. */
export interface SuperOfficeEnrichSettings {
  /** ProgId of each role's user-defined field; null leaves the role unwritten. */
  readonly fields: Readonly<Record<EnrichRole, string | null>>;
  /** Name of the list holding the verticals. */
  readonly verticalList: string;
  /** Vertical name -> list item id; overrides (and extends) the list. */
  readonly verticalIds: Readonly<Record<string, number>>;
  /** How long the vertical list is cached, in ms. */
  readonly verticalCacheMs: number;
  /** Overrides the API user's associate id (otherwise read from the id_token). */
  readonly apiAssociateId?: number | undefined;
}

const COMPANY_ROLES: readonly EnrichRole[] = ['vertical', 'summary', 'companyOpener'];
const PERSON_ROLES: readonly EnrichRole[] = ['personOpener'];
/** How many sale headings the enricher sees. */
const SALE_HEADINGS = 10;

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** `Value` or `Name` of a list-ish sub-object (`{Id, Value}`), when set. */
function listValue(record: JsonObject, key: string): string | undefined {
  const item = getField(record, key);
  return isObject(item) ? (text(getField(item, 'Value')) ?? text(getField(item, 'Name'))) : undefined;
}

function urlsOf(record: JsonObject): string[] {
  const urls = getField(record, 'Urls');
  if (!Array.isArray(urls)) return [];
  return urls.flatMap((url) => {
    const value = isObject(url) ? text(getField(url, 'Value')) : undefined;
    return value === undefined ? [] : [value];
  });
}

function companyFacts(contact: JsonObject): CompanyFacts {
  const country = getField(contact, 'Country');
  const optional = {
    orgNr: text(getField(contact, 'OrgNr')),
    department: text(getField(contact, 'Department')),
    country: isObject(country) ? text(getField(country, 'Name')) : undefined,
    category: listValue(contact, 'Category'),
    business: listValue(contact, 'Business'),
  };
  return {
    name: text(getField(contact, 'Name')) ?? '',
    urls: urlsOf(contact),
    ...Object.fromEntries(Object.entries(optional).filter(([, value]) => value !== undefined)),
  };
}

function personFacts(person: JsonObject): PersonFacts {
  const optional = {
    firstName: text(getField(person, 'Firstname')),
    lastName: text(getField(person, 'Lastname')),
    jobTitle: text(getField(person, 'Title')),
    position: listValue(person, 'Position'),
  };
  return Object.fromEntries(Object.entries(optional).filter(([, value]) => value !== undefined));
}

/** The canonical value of a decoded UDF: list item id or text; null for empty. */
function canonical(value: UdfValue | undefined): JsonValue {
  if (value === undefined) return null;
  if (value.type === 'list') return value.value === null || value.value === 0 ? null : value.value;
  if (value.type === 'text') return value.value === '' ? null : value.value;
  return value.value;
}

/** The UDF value to write for a role's canonical value. */
function udfValueOf(role: EnrichRole, value: JsonValue): UdfValue {
  if (role === 'vertical') return { type: 'list', value: typeof value === 'number' ? value : null };
  return { type: 'text', value: typeof value === 'string' ? value : '' };
}

function ownerOf(contact: JsonObject): EnrichSubject['owner'] {
  const associate = getField(contact, 'Associate');
  if (!isObject(associate)) return { id: null, shortName: null };
  return {
    id: getId(associate, 'AssociateId') ?? null,
    shortName: text(getField(associate, 'Name')) ?? null,
  };
}

/** The enrich target of one SuperOffice connection. */
export class SuperOfficeEnrichTarget implements EnrichTarget {
  readonly #connector: SuperOfficeConnector;
  readonly #settings: SuperOfficeEnrichSettings;
  readonly #clock: Clock;
  #verticals: { readonly map: ReadonlyMap<string, number>; readonly until: number } | null = null;
  #verticalsLoading: Promise<ReadonlyMap<string, number>> | null = null;

  constructor(connector: SuperOfficeConnector, settings: SuperOfficeEnrichSettings, clock: Clock) {
    this.#connector = connector;
    this.#settings = settings;
    this.#clock = clock;
  }

  async apiActorId(options: CallOptions = {}): Promise<string | null> {
    options.signal?.throwIfAborted();
    const id =
      this.#settings.apiAssociateId ??
      (await withCallSignal(options.signal, () => this.#connector.apiAssociateId()));
    return id === null ? null : String(id);
  }

  async load(
    ref: RecordRef,
    options: CallOptions & { includeSaleHeadings: boolean },
  ): Promise<EnrichSubject | null> {
    options.signal?.throwIfAborted();
    return await withCallSignal(options.signal, () => this.#load(ref, options));
  }

  async #load(ref: RecordRef, options: { includeSaleHeadings: boolean }): Promise<EnrichSubject | null> {
    const api = this.#connector.api;
    if (ref.entityType === 'Contact') {
      const contact = await api.getEntity('Contact', ref.id);
      if (contact === null) return null;
      return this.#subject(ref, contact, contact, null, options);
    }
    if (ref.entityType === 'Person') {
      const person = await api.getEntity('Person', ref.id);
      if (person === null) return null;
      const link = getField(person, 'Contact');
      const contactId = isObject(link) ? getId(link, 'ContactId') : undefined;
      const contact =
        contactId === undefined || contactId === '0' ? null : await api.getEntity('Contact', contactId);
      return this.#subject(ref, person, contact ?? {}, person, options);
    }
    throw new InputError(
      'ENRICH_ENTITY_UNSUPPORTED',
      `The enrich flow handles Contact and Person records, not ${ref.entityType}; remove its events from the flow's \`events\`.`,
    );
  }

  async verticals(options: CallOptions = {}): Promise<ReadonlyMap<string, number>> {
    options.signal?.throwIfAborted();
    const now = this.#clock.now();
    if (this.#verticals !== null && this.#verticals.until > now) return this.#verticals.map;
    // Concurrent runs share one list request, so no one run's signal may stop it: each run's wait stops.
    this.#verticalsLoading ??= withoutCallSignal(() => this.#loadVerticals()).finally(() => {
      this.#verticalsLoading = null;
    });
    return abortable(this.#verticalsLoading, options.signal);
  }

  async write(
    subject: EnrichSubject,
    values: Partial<Record<EnrichRole, JsonValue>>,
    options: CallOptions = {},
  ): Promise<EnrichWrite> {
    options.signal?.throwIfAborted();
    return await withCallSignal(options.signal, () => this.#write(subject, values));
  }

  async #write(subject: EnrichSubject, values: Partial<Record<EnrichRole, JsonValue>>): Promise<EnrichWrite> {
    const encoded: Record<string, string> = {};
    const changes: FieldChange[] = [];
    for (const [role, value] of Object.entries(values) as [EnrichRole, JsonValue][]) {
      const field = subject.fieldNames[role];
      if (field === undefined) continue;
      encoded[field] = encodeUdfValue(field, udfValueOf(role, value));
      changes.push({ ref: subject.ref, field, before: subject.current[role] ?? null, after: value });
    }
    if (changes.length === 0) return { changes, version: subject.version };
    const entity = subject.kind === 'company' ? 'Contact' : 'Person';
    const updated = await this.#connector.api.patchEntity(
      entity,
      subject.ref.id,
      { UserDefinedFields: encoded },
      subject.version === null ? {} : { ifUnmodifiedSince: subject.version },
    );
    return { changes, version: versionOf(updated) };
  }

  async #loadVerticals(): Promise<ReadonlyMap<string, number>> {
    const items = await this.#connector.api.listItems(this.#settings.verticalList);
    const map = new Map<string, number>();
    for (const item of items) if (!item.deleted && item.name !== '') map.set(item.name, item.id);
    for (const [name, id] of Object.entries(this.#settings.verticalIds)) map.set(name, id);
    this.#verticals = { map, until: this.#clock.now() + this.#settings.verticalCacheMs };
    return map;
  }

  async #subject(
    ref: RecordRef,
    record: JsonObject,
    contact: JsonObject,
    person: JsonObject | null,
    options: { includeSaleHeadings: boolean },
  ): Promise<EnrichSubject> {
    const company = companyFacts(contact);
    const roles = person === null ? COMPANY_ROLES : PERSON_ROLES;
    const udfs = decodeUserDefinedFields(getField(record, 'UserDefinedFields'));
    const current: Partial<Record<EnrichRole, JsonValue>> = {};
    const fieldNames: Partial<Record<EnrichRole, string>> = {};
    for (const role of roles) {
      const field = this.#settings.fields[role];
      if (field === null) continue;
      fieldNames[role] = field;
      current[role] = canonical(udfs[field]);
    }
    const contactId = getId(contact, 'ContactId');
    const saleHeadings =
      options.includeSaleHeadings && contactId !== undefined
        ? await this.#saleHeadings(contactId)
        : undefined;
    const facts = person === null ? null : personFacts(person);
    const personName = [facts?.firstName, facts?.lastName].filter(Boolean).join(' ');
    return {
      ref,
      kind: person === null ? 'company' : 'person',
      version: versionOf(record),
      displayName: person === null ? company.name : `${personName} (${company.name || 'no company'})`,
      owner: ownerOf(contact),
      company: saleHeadings === undefined ? company : { ...company, saleHeadings },
      ...(facts !== null && { person: facts }),
      current,
      fieldNames,
    };
  }

  async #saleHeadings(contactId: string): Promise<string[]> {
    const headings: string[] = [];
    const rows = this.#connector.api.archiveRows('Sale', {
      select: ['saleId', 'heading'],
      filter: `contactId eq ${contactId}`,
      orderBy: 'saleId desc',
      top: SALE_HEADINGS,
    });
    for await (const row of rows) {
      const heading = text(getField(row.columns, 'heading'));
      if (heading !== undefined) headings.push(heading);
    }
    return headings;
  }
}
