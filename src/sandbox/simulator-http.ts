/**
 * Small HTTP helpers for talking to an in-process simulator: JSON calls with a timeout and an error that says
 * which call failed and what the simulator answered, and an access token of the SuperOffice simulator's API
 * user from its token endpoint (the refresh-token grant, as a real connection gets one).
 */
import type { SuperOfficeSimulator } from '../simulators/superoffice/index.ts';
import { SandboxError } from './errors.ts';

/** Simulators run on this machine; a call taking longer than this is a hung simulator. */
const CALL_TIMEOUT_MS = 10_000;

/** One JSON call. */
export interface SimulatorCall {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly url: string;
  /** Sent as JSON. */
  readonly body?: unknown;
  readonly token?: string;
  /** Further request headers (EspoCRM's `X-Api-Key`). */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * Sends `call` and returns the parsed JSON answer (undefined for an empty one). Any status other than 2xx is
 * a {@link SandboxError} naming the call and quoting the start of the answer.
 */
export async function callSimulator(call: SimulatorCall): Promise<unknown> {
  const headers: Record<string, string> = { accept: 'application/json', ...call.headers };
  if (call.body !== undefined) headers['content-type'] = 'application/json';
  if (call.token !== undefined) headers['authorization'] = `Bearer ${call.token}`;
  const response = await send(call.method, call.url, {
    headers,
    ...(call.body !== undefined && { body: JSON.stringify(call.body) }),
  });
  return readAnswer(`${call.method} ${call.url}`, response);
}

/** An access token of the simulator's API user (the one its default refresh token belongs to). */
export async function simulatorAccessToken(
  simulator: Pick<SuperOfficeSimulator, 'url' | 'credentials'>,
): Promise<string> {
  const { clientId, clientSecret, refreshToken } = simulator.credentials;
  const url = `${simulator.url}/login/common/oauth/tokens`;
  const response = await send('POST', url, {
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      client_id: clientId,
      client_secret: clientSecret,
      refresh_token: refreshToken,
    }).toString(),
  });
  // The token request's URL carries no secret (they are in the body), so it may appear in the message.
  const answer = await readAnswer(`POST ${url}`, response);
  const token = (answer as { access_token?: unknown } | undefined)?.access_token;
  if (typeof token !== 'string')
    throw new SandboxError('SANDBOX_SIMULATOR_FAILED', `POST ${url} answered without an access_token.`);
  return token;
}

async function send(method: string, url: string, init: { headers: Record<string, string>; body?: string }) {
  try {
    return await fetch(url, { method, ...init, signal: AbortSignal.timeout(CALL_TIMEOUT_MS) });
  } catch (error) {
    throw new SandboxError(
      'SANDBOX_SIMULATOR_FAILED',
      `${method} ${url} failed: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}

async function readAnswer(what: string, response: Response): Promise<unknown> {
  const text = await response.text();
  if (!response.ok)
    throw new SandboxError(
      'SANDBOX_SIMULATOR_FAILED',
      `${what} answered ${response.status}: ${text.slice(0, 300)}`,
    );
  return text === '' ? undefined : (JSON.parse(text) as unknown);
}
