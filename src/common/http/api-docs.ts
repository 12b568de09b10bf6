import { applyDecorators, Type } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiHeader,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  getSchemaPath,
  type LinksObject,
} from '@nestjs/swagger';
import { ERROR_STATUS, ErrorCode, FieldError } from '../errors/error-codes';
import { PROBLEM_CONTENT_TYPE } from '../errors/problem';
import { IDEMPOTENCY_KEY_HEADER } from './idempotency-headers';

export class FieldErrorDto {
  @ApiProperty({ example: 'amount' })
  field!: string;

  @ApiProperty({ example: 'amount must be an integer number of minor units' })
  message!: string;
}

/** RFC 9457 problem details, as every error response carries them. */
export class ProblemDto {
  @ApiProperty({ example: 'about:blank' })
  type!: string;

  @ApiProperty({ example: 'Unprocessable Entity' })
  title!: string;

  @ApiProperty({ example: 422, type: 'integer' })
  status!: number;

  @ApiProperty({ example: 'INSUFFICIENT_FUNDS', enum: Object.keys(ERROR_STATUS) })
  code!: string;

  @ApiProperty({ example: 'Account acc-1 has 500, needs 700.' })
  detail!: string;

  @ApiPropertyOptional({ type: [FieldErrorDto], description: 'Only for VALIDATION_FAILED.' })
  errors?: FieldErrorDto[];

  @ApiPropertyOptional({ description: 'Only for INTERNAL_ERROR: quote it to support.' })
  requestId?: string;
}

const EXAMPLE_DETAIL: Record<Exclude<ErrorCode, 'VALIDATION_FAILED'>, string> = {
  MALFORMED_JSON: 'The request body is not valid JSON.',
  ROUTE_NOT_FOUND: 'No such route.',
  METHOD_NOT_ALLOWED: 'PUT is not allowed on /accounts; allowed: GET, HEAD, POST.',
  REQUEST_TIMEOUT: 'The request was not received within 30000 ms.',
  ACCOUNT_NOT_FOUND: 'Account acc-404 does not exist.',
  PAYMENT_NOT_FOUND: 'Payment payment404 does not exist.',
  TRANSACTION_NOT_FOUND: 'Transaction 00000000-0000-0000-0000-000000000000 does not exist.',
  WEBHOOK_ENDPOINT_NOT_FOUND: 'Webhook endpoint we_404 does not exist.',
  CURSOR_EXPIRED:
    'This cursor points before the 30 days of events kept; start again from the oldest.',
  URL_NOT_ALLOWED: 'http://10.0.0.7/hook resolves to 10.0.0.7, a private address.',
  ACCOUNT_EXISTS: 'Account acc-alice already exists.',
  HOLD_NOT_FOUND: 'Hold hold_00000000000000000000000000000000 does not exist.',
  HOLD_NOT_ACTIVE: 'Hold hold_0b8e6f3a8a4e4a539d7c2f3b1c9e5a10 is CAPTURED, not AUTHORIZED.',
  CAPTURE_EXCEEDS_HOLD:
    'Hold hold_0b8e6f3a8a4e4a539d7c2f3b1c9e5a10 reserves 3000; 3001 cannot be captured.',
  IDEMPOTENCY_KEY_IN_PROGRESS: 'A request with this Idempotency-Key is still being processed.',
  PAYLOAD_TOO_LARGE: 'The request body is larger than 1 MB.',
  URI_TOO_LONG: 'The request URL is too long.',
  UNSUPPORTED_MEDIA_TYPE: 'The request body must be application/json (UTF-8).',
  HEADERS_TOO_LARGE: 'The request headers are too large.',
  SAME_ACCOUNT: 'Source and target account are the same.',
  INSUFFICIENT_FUNDS: 'Account acc-1 has 500, needs 700.',
  CURRENCY_MISMATCH: 'Account acc-1 holds USD but acc-2 holds EUR.',
  BALANCE_LIMIT_EXCEEDED: 'Account acc-1 would hold more than 9007199254740991.',
  DAILY_LIMIT_EXCEEDED:
    'Account acc-alice may debit 500 more today (daily debit limit 5000, 4500 used); needs 700.',
  ACCOUNT_FROZEN: 'Account acc-alice is frozen: it takes credits but no debits.',
  ACCOUNT_CLOSED: 'Account acc-alice is closed.',
  ACCOUNT_NOT_EMPTY: 'Account acc-alice cannot be closed: its balance is 2500, not 0.',
  LIMIT_BELOW_USAGE:
    'Account acc-carol uses 3000 below zero (balance -3000, held 0): its overdraft limit cannot go below that.',
  IDEMPOTENCY_KEY_REUSED: 'This Idempotency-Key was used with a different request.',
  PAYMENT_FULLY_REFUNDED: 'Payment payment1 is already fully refunded (2500).',
  REFUND_EXCEEDS_PAYMENT: 'Payment payment1 has 1500 left to refund, not 2000.',
  NOT_REVERSIBLE:
    'Transaction 2e6d9b14-7c3a-4f85-a0d2-5b18e9c7f364 (PAYMENT) cannot be reversed: only deposits, withdrawals and transfers can (payments are refunded).',
  REVERSAL_EXCEEDS_REMAINING:
    'Transaction 0b8e6f3a-8a4e-4a53-9d7c-2f3b1c9e5a10 has 1000 of 1500 left to reverse, not 1500.',
  INTERNAL_ERROR: 'An unexpected error occurred.',
  DATABASE_UNAVAILABLE: 'The database cannot be reached right now; the request changed nothing.',
  SERVICE_BUSY:
    'The service is too busy to serve this request in time; it changed nothing. Retry after the Retry-After header.',
};

/** What a debit of an account can meet (API.md v1.1, "Accounts gain controls"). */
export const DEBIT_PROBLEMS = [
  'VALIDATION_FAILED',
  'MALFORMED_JSON',
  'ACCOUNT_NOT_FOUND',
  'INSUFFICIENT_FUNDS',
  'DAILY_LIMIT_EXCEEDED',
  'ACCOUNT_FROZEN',
  'ACCOUNT_CLOSED',
] as const satisfies readonly ErrorCode[];

/** Sent with every 503 SERVICE_BUSY. */
const RETRY_AFTER_HEADER = {
  'Retry-After': {
    description: 'With `SERVICE_BUSY` only: seconds to wait before retrying.',
    schema: { type: 'integer' as const, example: 1 },
  },
};

/**
 * OpenAPI links from a response to the operation that reads what it created. Swagger UI shows
 * them under the response, and the page follows them (see swagger-ui-follow-links.ts): after a
 * deposit, GET /transactions/{transactionId} is pre-filled with its transactionId.
 */
export const LINK_TO_TRANSACTION: LinksObject = {
  GetTransaction: {
    operationId: 'TransactionsController_transaction',
    parameters: { transactionId: '$response.body#/transactionId' },
    description: 'The movement with all its ledger entries: GET /transactions/{transactionId}.',
  },
};
export const LINK_TO_PAYMENT: LinksObject = {
  GetPayment: {
    operationId: 'PaymentsController_get',
    parameters: { paymentId: '$response.body#/paymentId' },
    description: 'The payment and its cashback status: GET /payments/{paymentId}.',
  },
};

export const LINK_TO_REVERSAL: LinksObject = {
  ReverseTransaction: {
    operationId: 'TransactionsController_reverse',
    parameters: { transactionId: '$response.body#/transactionId' },
    description: 'Reverse this movement: POST /transactions/{transactionId}/reversals.',
  },
};
export const LINK_TO_REFUND: LinksObject = {
  RefundPayment: {
    operationId: 'PaymentsController_refund',
    parameters: { paymentId: '$response.body#/paymentId' },
    description: 'Refund this payment: POST /payments/{paymentId}/refunds.',
  },
};

/** A success response with its schema, an example and, optionally, links. */
export function ApiSuccess(
  status: number,
  type: Type<unknown>,
  example: unknown,
  links?: LinksObject,
) {
  return ApiResponse({ status, type, example, description: 'Success', ...(links && { links }) });
}

export interface ApiProblemsOptions {
  /** A POST that takes `Idempotency-Key`: adds the header and the idempotency errors. */
  idempotent?: boolean;
  /**
   * This operation's own 400 VALIDATION_FAILED example: a request to it with a bad value, and
   * the `errors` the service answers to it. Required when the codes include VALIDATION_FAILED,
   * so no operation shows another operation's fields.
   */
  invalid?: InvalidExample;
  /** Codes this operation answers with another status than usual (DomainException.status). */
  statusOf?: Partial<Record<ErrorCode, 409>>;
}

export interface InvalidExample {
  /**
   * What to send, over the operation's own examples. Kept in the document as the example's
   * `x-request` (test/e2e/openapi.e2e-spec.ts sends it and compares the answer).
   */
  request: { path?: Record<string, string>; query?: Record<string, string>; body?: unknown };
  summary: string;
  errors: FieldError[];
}

/**
 * Documents every error a route can answer, grouped by status, each with the problem+json
 * schema and one example per code. Every route can also fail with 503 and 500.
 */
export function ApiProblems(codes: ErrorCode[], options: ApiProblemsOptions = {}) {
  if (codes.includes('VALIDATION_FAILED') && !options.invalid?.errors.length) {
    throw new Error('ApiProblems: VALIDATION_FAILED needs its own `invalid` example');
  }
  const all: ErrorCode[] = [...codes];
  if (options.idempotent) all.push('IDEMPOTENCY_KEY_REUSED', 'IDEMPOTENCY_KEY_IN_PROGRESS');
  if (options.idempotent || codes.includes('MALFORMED_JSON')) all.push('PAYLOAD_TOO_LARGE');
  all.push('DATABASE_UNAVAILABLE', 'SERVICE_BUSY', 'INTERNAL_ERROR');
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set(all)) {
    const status = options.statusOf?.[code] ?? ERROR_STATUS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const decorators = [...byStatus].map(([status, statusCodes]) =>
    ApiResponse({
      status,
      description: statusCodes.map((c) => `\`${c}\``).join(', '),
      ...(statusCodes.includes('SERVICE_BUSY') ? { headers: RETRY_AFTER_HEADER } : {}),
      content: {
        [PROBLEM_CONTENT_TYPE]: {
          schema: { $ref: getSchemaPath(ProblemDto) },
          examples: Object.fromEntries(
            statusCodes.map((code) => [code, exampleProblem(code, status, options.invalid)]),
          ),
        },
      },
    }),
  );
  if (options.idempotent) {
    decorators.push(
      ApiHeader({
        name: IDEMPOTENCY_KEY_HEADER,
        required: false,
        description:
          'Makes a retry safe: 1–255 visible ASCII characters, e.g. a new UUID per operation. The first response (2xx or 4xx) is stored with the effects; a retry with the same key and body gets it again with `Idempotent-Replayed: true`. Kept at least 24 h.',
        schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7E]+$' },
        // No `example`: Swagger UI pre-fills "Try it out" with it, so every user would send the
        // same key and get each other's replays or IDEMPOTENCY_KEY_REUSED.
      }),
    );
  }
  return applyDecorators(ApiExtraModels(ProblemDto, FieldErrorDto), ...decorators);
}

/** An OpenAPI Example Object: `value` is the problem+json body. */
function exampleProblem(code: ErrorCode, status: number, invalid?: InvalidExample): object {
  const base = { type: 'about:blank', title: titleFor(status), status, code };
  if (code !== 'VALIDATION_FAILED' || !invalid) {
    return { value: { ...base, detail: EXAMPLE_DETAIL[code as keyof typeof EXAMPLE_DETAIL] } };
  }
  // The same detail the service writes (ValidationFailedException): "field: message; …".
  const detail = invalid.errors.map((e) => `${e.field}: ${e.message}`).join('; ');
  return {
    summary: invalid.summary,
    value: { ...base, detail, errors: invalid.errors },
    'x-request': invalid.request,
  };
}

function titleFor(status: number): string {
  const titles: Record<number, string> = {
    400: 'Bad Request',
    404: 'Not Found',
    409: 'Conflict',
    413: 'Payload Too Large',
    410: 'Gone',
    415: 'Unsupported Media Type',
    422: 'Unprocessable Entity',
    500: 'Internal Server Error',
    503: 'Service Unavailable',
  };
  return titles[status] ?? 'Error';
}
