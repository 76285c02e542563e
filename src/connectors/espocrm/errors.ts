/**
 * EspoCRM-specific errors. EspoCRM puts the reason of a failure into the `X-Status-Reason` header and mostly
 * sends an empty body (reference §2 "Error responses"); the client turns status, reason and body into one of
 * these. Each has a stable code; messages say what failed and how to fix it and never contain keys or secrets.
 *
 * | code                            | when                                                                  |
 * | ------------------------------- | --------------------------------------------------------------------- |
 * | ESPOCRM_AUTH_FAILED             | 401: wrong API key or HMAC secret, inactive user, 2FA required         |
 * | ESPOCRM_FORBIDDEN               | 403: no access to the scope or record, too many failed logins          |
 * | ESPOCRM_NOTIFICATION_FORBIDDEN  | 403 on POST Notification: only admins may create notifications         |
 * | ESPOCRM_MAX_SIZE                | 403: a list asked for more than 200 records                            |
 * | ESPOCRM_NOT_FOUND               | 404: record or entity type does not exist                              |
 * | ESPOCRM_VALIDATION              | 400 with a field validation failure (field and type known)             |
 * | ESPOCRM_BAD_REQUEST             | any other 400 (bad search params, bad input)                           |
 * | ESPOCRM_DUPLICATE               | 409 `duplicate`: the record matches existing ones (matches attached)   |
 * | STALE_WRITE                     | 409 `modified`: X-Version-Number is stale (current values attached)    |
 * | ESPOCRM_CONFLICT                | any other 409 (a locked record); retryable                             |
 * | ESPOCRM_UNAVAILABLE             | 0 (network, timeout), 429, 5xx, 503 maintenance; retryable             |
 * | ESPOCRM_API_ERROR               | any other unexpected answer                                            |
 *
 * A POST that was sent but got no usable answer (none, or a 5xx) is the vendors' shared
 * VENDOR_WRITE_AMBIGUOUS instead (../shared/api-error.ts): the record may have been created.
 */
import { StaleWriteError } from '../../core/errors.ts';
import type { JsonObject } from '../../core/types.ts';
import { VendorApiError, isTransientStatus } from '../shared/api-error.ts';
import type { VendorApiErrorOptions } from '../shared/api-error.ts';

/** Where a failed call went: the route template and, when known, the record it was about. */
export interface CallSite {
  /** Route template, e.g. `PATCH Account/:id`. */
  readonly route: string;
  /** The record or entity the call was about, e.g. `Account 5564764442a6d024c`, for messages. */
  readonly subject?: string | undefined;
}

/** Options of {@link EspoCrmApiError}. */
export interface EspoCrmApiErrorOptions extends CallSite, VendorApiErrorOptions {
  /** The `X-Status-Reason` header, if sent. */
  readonly reason?: string | null | undefined;
}

function codeOf(status: number): string {
  if (isTransientStatus(status)) return 'ESPOCRM_UNAVAILABLE';
  switch (status) {
    case 400:
      return 'ESPOCRM_BAD_REQUEST';
    case 401:
      return 'ESPOCRM_AUTH_FAILED';
    case 403:
      return 'ESPOCRM_FORBIDDEN';
    case 404:
      return 'ESPOCRM_NOT_FOUND';
    case 409:
      return 'ESPOCRM_CONFLICT';
    default:
      return 'ESPOCRM_API_ERROR';
  }
}

/**
 * The EspoCRM API answered with an error. The code follows the status (table above); retryable for network
 * errors, 409 other than duplicate/modified (a locked record), 429 and 5xx.
 */
export class EspoCrmApiError extends VendorApiError {
  /** The `X-Status-Reason` header, or null. */
  readonly reason: string | null;

  constructor(message: string, options: EspoCrmApiErrorOptions, code: string = codeOf(options.status)) {
    super(code, message, {
      ...options,
      retryable: (options.retryable ?? code === 'ESPOCRM_UNAVAILABLE') || code === 'ESPOCRM_CONFLICT',
      details: {
        ...(options.subject !== undefined && { subject: options.subject }),
        ...(options.reason != null && { reason: options.reason }),
        ...options.details,
      },
    });
    this.reason = options.reason ?? null;
  }
}

/** 401: the credentials were refused. Not retryable: the operator must fix the key or the user. */
export class EspoCrmAuthError extends EspoCrmApiError {
  constructor(site: CallSite, reason: string | null) {
    const why =
      reason === 'second-step-required'
        ? 'the user has two-factor authentication on; API users authenticate by key, use one of those'
        : 'the API key (or the HMAC secret key) is wrong, or the API user is unknown or inactive; check ESPOCRM_API_KEY / ESPOCRM_SECRET_KEY and the API user in Administration > API Users';
    super(`${site.route} answered 401: ${why}.`, { ...site, status: 401, reason, retryable: false });
  }
}

/**
 * 400 with a field validation failure: `Field validation failure; entityType: Account, field: name, type:
 * required.` and a body naming field and type. Not retryable: the value must change.
 */
export class EspoCrmValidationError extends EspoCrmApiError {
  /** The field that failed, e.g. `name`. */
  readonly field: string | null;
  /** The failed rule, e.g. `required`, `maxLength`, `valid`. */
  readonly validationType: string | null;
  /** The entity type the server named, if any. */
  readonly entityType: string | null;

  constructor(
    site: CallSite,
    reason: string | null,
    failure: { field: string | null; type: string | null; entityType: string | null },
  ) {
    const what = [failure.entityType, failure.field].filter((part) => part !== null).join('.');
    super(
      `${site.subject ?? site.route}: EspoCRM rejected the value of ${what === '' ? 'a field' : what}` +
        `${failure.type === null ? '' : ` (rule: ${failure.type})`}; fix the value or the field's settings in the Entity Manager.`,
      { ...site, status: 400, reason, retryable: false, details: { ...failure } },
      'ESPOCRM_VALIDATION',
    );
    this.field = failure.field;
    this.validationType = failure.type;
    this.entityType = failure.entityType;
  }
}

/**
 * 409 `duplicate`: the duplicate check found records with the same name or a shared email address. The body
 * holds up to 5 matches with their attributes. Not retryable: link to a match, or create again with
 * `skipDuplicateCheck`.
 */
export class EspoCrmDuplicateError extends EspoCrmApiError {
  /** The matching records as the server sent them (at most 5). */
  readonly matches: readonly JsonObject[];

  constructor(site: CallSite, matches: readonly JsonObject[]) {
    const ids = matches.map((match) => (typeof match['id'] === 'string' ? match['id'] : '?'));
    super(
      `${site.subject ?? site.route} looks like a duplicate of ${matches.length} existing record(s) (${ids.join(', ')}); ` +
        'link to one of them, or create with X-Skip-Duplicate-Check (entity setting skipDuplicateCheck).',
      { ...site, status: 409, reason: 'duplicate', retryable: false, details: { matchIds: ids } },
      'ESPOCRM_DUPLICATE',
    );
    this.matches = matches;
  }
}

/** 403 `Max size should not exceed 200`: a list asked for a larger page. A bug of the caller, not retryable. */
export class EspoCrmMaxSizeError extends EspoCrmApiError {
  constructor(site: CallSite, reason: string | null) {
    super(
      `${site.route}: the page size is over the server's recordListMaxSizeLimit (${reason ?? '403'}); ask for 200 or fewer.`,
      { ...site, status: 403, reason, retryable: false },
      'ESPOCRM_MAX_SIZE',
    );
  }
}

/**
 * 403 on `POST Notification`: EspoCRM gives every non-admin user, API users included, `create: no` on
 * Notification (reference §6), so only an admin user can send in-app messages.
 */
export class EspoCrmNotificationForbiddenError extends EspoCrmApiError {
  constructor(site: CallSite, reason: string | null) {
    super(
      `${site.route} answered 403: EspoCRM lets only admin users create notifications (every other user, API ` +
        'users included, has "create: no" on Notification). Send notifications with an admin user\'s ' +
        'credentials, or notify through an assignment or a stream post instead.',
      { ...site, status: 403, reason, retryable: false },
      'ESPOCRM_NOTIFICATION_FORBIDDEN',
    );
  }
}

/**
 * 409 `modified`: the record changed since the version the write was based on (`X-Version-Number`). Carries
 * the current stored values of the fields the write wanted to change, and the current version number, so the
 * caller can merge without another read. Retryable (re-read and merge), code STALE_WRITE.
 */
export class EspoCrmStaleWriteError extends StaleWriteError {
  /** Current stored values of the conflicting attributes. */
  readonly currentValues: JsonObject;
  /** The record's current `versionNumber`, or null when the server did not send it. */
  readonly currentVersionNumber: number | null;

  constructor(site: CallSite, currentValues: JsonObject, currentVersionNumber: number | null) {
    super(
      `${site.subject ?? site.route} was changed in EspoCRM after the version this write was based on ` +
        `(now version ${currentVersionNumber ?? '?'}; conflicting: ${Object.keys(currentValues).join(', ') || '-'}); re-read and merge.`,
      { route: site.route, status: 409, reason: 'modified', versionNumber: currentVersionNumber },
    );
    this.currentValues = currentValues;
    this.currentVersionNumber = currentVersionNumber;
  }
}
