/**
 * Base-URL discovery (reference §2): `GET {configuratorUrl}?Kanzlei=<Kanzleikennung>` answers
 * `{relayUrl, connectorUrl, securityGateway}`. The docs' rule: when `connectorUrl` is set it MUST be the API
 * base, otherwise `relayUrl` is. The URLs carry a trailing slash and paths are appended without a leading
 * one; a missing slash is added here, so `https://host:88` and `https://host:88/` behave alike.
 */
import { getField, isObject } from '../shared/casing.ts';
import { AdvowareAuthError } from './errors.ts';

/** Where the API and the token endpoint live for one firm. */
export interface Discovery {
  /** The API base, ending in `/`; paths such as `api/v1/advonet/Beteiligte` are appended. */
  readonly apiBaseUrl: string;
  /** The security gateway, ending in `/`; the token endpoint is `api/v1/Token` below it. */
  readonly securityGatewayUrl: string;
  /** Which configurator field the API base came from. */
  readonly source: 'connectorUrl' | 'relayUrl';
}

/** `url` with exactly one trailing slash, or null when it is not an absolute http(s) URL. */
export function withTrailingSlash(url: unknown): string | null {
  if (typeof url !== 'string' || url.trim() === '') return null;
  const trimmed = url.trim().replace(/\/+$/, '');
  try {
    const parsed = new URL(`${trimmed}/`);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.toString() : null;
  } catch {
    return null;
  }
}

/** Reads the configurator's answer; throws ADVOWARE_DISCOVERY_FAILED naming what is missing. */
export function parseConfiguratorAnswer(body: unknown, kanzlei: string): Discovery {
  if (!isObject(body)) {
    throw new AdvowareAuthError(
      `The advoware configurator answered for Kanzlei "${kanzlei}" without a JSON object; check ADVOWARE_KANZLEI and ADVOWARE_CONFIGURATOR_URL.`,
      { code: 'ADVOWARE_DISCOVERY_FAILED' },
    );
  }
  const connectorUrl = withTrailingSlash(getField(body, 'connectorUrl'));
  const relayUrl = withTrailingSlash(getField(body, 'relayUrl'));
  const securityGatewayUrl = withTrailingSlash(getField(body, 'securityGateway'));
  const apiBaseUrl = connectorUrl ?? relayUrl;
  if (apiBaseUrl === null || securityGatewayUrl === null) {
    const missing = [
      ...(apiBaseUrl === null ? ['connectorUrl or relayUrl'] : []),
      ...(securityGatewayUrl === null ? ['securityGateway'] : []),
    ].join(' and ');
    throw new AdvowareAuthError(
      `The advoware configurator gave no usable ${missing} for Kanzlei "${kanzlei}": check ADVOWARE_KANZLEI (the Kanzleikennung) and that the firm's advoware Manager is set up for API access.`,
      { code: 'ADVOWARE_DISCOVERY_FAILED' },
    );
  }
  return { apiBaseUrl, securityGatewayUrl, source: connectorUrl === null ? 'relayUrl' : 'connectorUrl' };
}
