/**
 * `crmsync superoffice create-test-company` and `cleanup` (seeds 000-002: `create_company.py`,
 * `cleanup_test_data.py`). Test companies are created in a real tenant to trigger the webhook flow, so
 * cleaning up must never touch anything else. A company is deleted only when BOTH hold:
 * - its id was recorded by create-test-company in the store's connector state of this connection, and
 * - it still carries the marker in its Department field.
 * A record that lost the marker was taken over by a person and is left alone (and no longer tracked).
 */
import type { JsonValue } from '../../core/types.ts';
import type { ConnectorStateRepository } from '../../ports/store.ts';
import { getId } from '../shared/casing.ts';
import type { SuperOfficeApi } from './endpoints.ts';
import { SuperOfficeApiError } from './errors.ts';
import { textField } from './tools-fields.ts';

/** The Department value that marks a test company. */
export const TEST_DATA_MARKER = 'crmsync test data';

/** The seeds' test company. */
export const DEFAULT_TEST_COMPANY_NAME = 'Bremer Abenteuerland';

/** Connector-state key holding the ids of the test companies created on a connection. */
const TEST_COMPANIES_STATE_KEY = 'tools.testCompanies';

/** Where a connection's test company ids are kept. */
export interface TestDataLedger {
  readonly state: ConnectorStateRepository;
  readonly connection: string;
}

async function trackedIds(ledger: TestDataLedger): Promise<string[]> {
  const value = await ledger.state.get(ledger.connection, TEST_COMPANIES_STATE_KEY);
  return Array.isArray(value) ? value.filter((id): id is string => typeof id === 'string') : [];
}

async function saveTrackedIds(ledger: TestDataLedger, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) await ledger.state.delete(ledger.connection, TEST_COMPANIES_STATE_KEY);
  else await ledger.state.set(ledger.connection, TEST_COMPANIES_STATE_KEY, [...ids]);
}

/** A created test company. */
export interface TestCompany {
  readonly id: string;
  readonly name: string;
}

/**
 * Creates a marked test company (owner: `ownerAssociateId`, else the API user) and records its id. Ids are
 * kept with a read-modify-write, so two create-test-company runs at the same moment may lose one id; that
 * company is then left for manual deletion, never deleted by mistake.
 */
export async function createTestCompany(
  api: SuperOfficeApi,
  ledger: TestDataLedger,
  options: { name: string; ownerAssociateId?: number | undefined },
): Promise<TestCompany> {
  const body: Record<string, JsonValue> = { Name: options.name, Department: TEST_DATA_MARKER };
  if (options.ownerAssociateId !== undefined) body['Associate'] = { AssociateId: options.ownerAssociateId };
  const created = await api.createEntity('Contact', body);
  const id = getId(created, 'ContactId');
  if (id === undefined) {
    throw new SuperOfficeApiError('POST Contact answered without a ContactId.', {
      status: 200,
      route: 'POST Contact',
      retryable: false,
    });
  }
  await saveTrackedIds(ledger, [...(await trackedIds(ledger)), id]);
  return { id, name: options.name };
}

/** What {@link cleanupTestCompanies} did (or, in a dry run, would do). */
export interface CleanupResult {
  readonly dryRun: boolean;
  /** Deleted (or to delete). */
  readonly deleted: readonly TestCompany[];
  /** Recorded, but no longer in the tenant. */
  readonly alreadyGone: readonly string[];
  /** Recorded, but without the marker: left alone. */
  readonly kept: readonly (TestCompany & { readonly department: string })[];
}

/**
 * Deletes the recorded test companies that still carry the marker. The record of ids is updated after every
 * deletion, so an interrupted cleanup resumes where it stopped. A dry run reads but changes nothing.
 */
export async function cleanupTestCompanies(
  api: SuperOfficeApi,
  ledger: TestDataLedger,
  options: { dryRun: boolean },
): Promise<CleanupResult> {
  const ids = await trackedIds(ledger);
  let remaining = [...ids];
  const result = {
    deleted: [] as TestCompany[],
    alreadyGone: [] as string[],
    kept: [] as CleanupResult['kept'][number][],
  };
  const forget = async (id: string) => {
    remaining = remaining.filter((other) => other !== id);
    if (!options.dryRun) await saveTrackedIds(ledger, remaining);
  };
  for (const id of ids) {
    const contact = await api.getEntity('Contact', id);
    if (contact === null) {
      result.alreadyGone.push(id);
      await forget(id);
      continue;
    }
    const name = textField(contact, 'Name');
    const department = textField(contact, 'Department');
    if (department.trim() !== TEST_DATA_MARKER) {
      result.kept.push({ id, name, department });
      await forget(id);
      continue;
    }
    if (!options.dryRun) await api.deleteEntity('Contact', id);
    result.deleted.push({ id, name });
    await forget(id);
  }
  return { dryRun: options.dryRun, ...result };
}
