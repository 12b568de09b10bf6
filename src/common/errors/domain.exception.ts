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
