/**
 * Every machine-readable `code` of the contract (../shared/API.md), with its HTTP status.
 * The filter maps codes to statuses here and nowhere else.
 */
export const ERROR_STATUS = {
  VALIDATION_FAILED: 400,
  MALFORMED_JSON: 400,
  ROUTE_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  REQUEST_TIMEOUT: 408,
  ACCOUNT_NOT_FOUND: 404,
  PAYMENT_NOT_FOUND: 404,
  TRANSACTION_NOT_FOUND: 404,
  HOLD_NOT_FOUND: 404,
  ACCOUNT_EXISTS: 409,
  IDEMPOTENCY_KEY_IN_PROGRESS: 409,
  PAYLOAD_TOO_LARGE: 413,
  URI_TOO_LONG: 414,
  UNSUPPORTED_MEDIA_TYPE: 415,
  HEADERS_TOO_LARGE: 431,
  SAME_ACCOUNT: 422,
  INSUFFICIENT_FUNDS: 422,
  CURRENCY_MISMATCH: 422,
  BALANCE_LIMIT_EXCEEDED: 422,
  DAILY_LIMIT_EXCEEDED: 422,
  ACCOUNT_FROZEN: 422,
  /** 409 on the account's own lifecycle operations (DomainException.status). */
  ACCOUNT_CLOSED: 422,
  ACCOUNT_NOT_EMPTY: 409,
  HOLD_NOT_ACTIVE: 409,
  CAPTURE_EXCEEDS_HOLD: 422,
  LIMIT_BELOW_USAGE: 422,
  IDEMPOTENCY_KEY_REUSED: 422,
  INTERNAL_ERROR: 500,
  DATABASE_UNAVAILABLE: 503,
  SERVICE_BUSY: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface FieldError {
  field: string;
  message: string;
}
