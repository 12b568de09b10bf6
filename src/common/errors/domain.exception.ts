import { ErrorCode, FieldError } from './error-codes';

/**
 * A rule of the domain was broken. Services throw these (never HttpExceptions); the global
 * filter turns the stable `code` into an HTTP status and a problem+json body.
 */
export class DomainException extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly errors?: FieldError[],
    /**
     * Only where the contract gives one code two statuses: ACCOUNT_CLOSED is 422 on a movement
     * but 409 on the account's own lifecycle operations (PATCH, freeze, unfreeze, close).
     */
    readonly status?: 409,
  ) {
    super(detail);
    this.name = 'DomainException';
  }
}

export class AccountNotFoundException extends DomainException {
  constructor(accountId: string) {
    super('ACCOUNT_NOT_FOUND', `Account ${accountId} does not exist.`);
  }
}

export class ValidationFailedException extends DomainException {
  constructor(errors: FieldError[]) {
    super(
      'VALIDATION_FAILED',
      errors.map((e) => `${e.field}: ${e.message}`).join('; ') || 'The request is invalid.',
      errors,
    );
  }
}
