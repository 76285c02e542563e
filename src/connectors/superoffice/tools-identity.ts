/**
 * `crmsync superoffice whoami`: who the API user is (seed 002's `who_am_i.py`). The seeds hard-coded the API
 * user's associate id (528) for their echo breaker and found `Associate/Me` answering 500; this asks
 * `User/currentPrincipal` (reference §2.5) and compares it with the id_token's `associateid` claim and the
 * configured override, so a wrong id is seen before it lets echoes through.
 */
import { getField } from '../shared/casing.ts';
import type { SuperOfficeApi } from './endpoints.ts';

/** Where an associate id came from. */
export type IdentitySource = 'User/currentPrincipal' | 'id_token' | 'config';

/** What {@link identifyApiUser} found. */
export interface ApiUserIdentity {
  /** The API user's associate id by the best source that answered, or null when none did. */
  readonly associateId: number | null;
  /** Which source {@link associateId} came from. */
  readonly source: IdentitySource | null;
  /** Login (short) name, from the principal. */
  readonly name: string | null;
  readonly fullName: string | null;
  /** The id per source (null: that source did not say). */
  readonly bySource: Readonly<Record<IdentitySource, number | null>>;
  /** The id the connector uses to recognise its own writes: the configured override, else the id_token's. */
  readonly usedForEchoDetection: number | null;
  /** Why `User/currentPrincipal` could not be read, if it could not. */
  readonly principalError: string | null;
  /** Disagreements between the sources, as sentences. */
  readonly warnings: readonly string[];
}

function positiveInteger(value: unknown): number | null {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof number === 'number' && Number.isInteger(number) && number > 0 ? number : null;
}

function nonEmpty(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/**
 * Identifies the API user. `configured` is the connection's `apiAssociateId` override, if set. A failing
 * principal call does not fail the whole answer: the id_token usually still says who the user is.
 */
export async function identifyApiUser(
  api: SuperOfficeApi,
  configured: number | undefined,
): Promise<ApiUserIdentity> {
  const idToken = (await api.client.session()).associateId;
  let principal: Readonly<Record<string, unknown>> | null = null;
  let principalError: string | null = null;
  try {
    principal = await api.currentPrincipal();
  } catch (error) {
    principalError = error instanceof Error ? error.message : String(error);
  }
  const bySource: Record<IdentitySource, number | null> = {
    'User/currentPrincipal': principal === null ? null : positiveInteger(getField(principal, 'AssociateId')),
    id_token: idToken,
    config: configured ?? null,
  };
  const source =
    (['User/currentPrincipal', 'id_token', 'config'] as const).find((name) => bySource[name] !== null) ??
    null;
  const associateId = source === null ? null : bySource[source];
  const usedForEchoDetection = configured ?? idToken;
  const warnings: string[] = [];
  for (const other of ['id_token', 'config'] as const) {
    const value = bySource[other];
    if (associateId !== null && value !== null && value !== associateId) {
      warnings.push(`The ${other} says associate ${value}, but ${source ?? '?'} says ${associateId}.`);
    }
  }
  if (usedForEchoDetection === null) {
    warnings.push(
      'Neither the id_token nor the config gives the API user, so the associate-id echo filter is off; ' +
        `set apiAssociateId${associateId === null ? '' : ` to ${associateId}`} on the connection.`,
    );
  } else if (associateId !== null && usedForEchoDetection !== associateId) {
    warnings.push(
      `Echo detection uses ${usedForEchoDetection}, not ${associateId}: the engine's own writes would not be recognised by the associate filter.`,
    );
  }
  return {
    associateId,
    source,
    name: principal === null ? null : nonEmpty(getField(principal, 'Associate')),
    fullName: principal === null ? null : nonEmpty(getField(principal, 'FullName')),
    bySource,
    usedForEchoDetection,
    principalError,
    warnings,
  };
}
