import { applyDecorators, Type } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiHeader,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import { ERROR_STATUS, ErrorCode } from '../errors/error-codes';
import { PROBLEM_CONTENT_TYPE } from '../errors/problem';
import { IDEMPOTENCY_KEY_HEADER } from '../../idempotency/idempotency-headers';

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

const EXAMPLE_DETAIL: Record<ErrorCode, string> = {
  VALIDATION_FAILED: 'amount: amount must be an integer number of minor units',
  MALFORMED_JSON: 'The request body is not valid JSON.',
  ROUTE_NOT_FOUND: 'No such route.',
  ACCOUNT_NOT_FOUND: 'Account acc-404 does not exist.',
  PAYMENT_NOT_FOUND: 'Payment payment404 does not exist.',
  TRANSACTION_NOT_FOUND: 'Transaction 00000000-0000-0000-0000-000000000000 does not exist.',
  ACCOUNT_EXISTS: 'Account acc-alice already exists.',
  IDEMPOTENCY_KEY_IN_PROGRESS: 'A request with this Idempotency-Key is still being processed.',
  PAYLOAD_TOO_LARGE: 'The request body is larger than 1 MB.',
  UNSUPPORTED_MEDIA_TYPE: 'The request body encoding is not supported.',
  SAME_ACCOUNT: 'Source and target account are the same.',
  INSUFFICIENT_FUNDS: 'Account acc-1 has 500, needs 700.',
  CURRENCY_MISMATCH: 'Account acc-1 holds USD but acc-2 holds EUR.',
  BALANCE_LIMIT_EXCEEDED: 'Account acc-1 would hold more than 9007199254740991.',
  IDEMPOTENCY_KEY_REUSED: 'This Idempotency-Key was used with a different request.',
  INTERNAL_ERROR: 'An unexpected error occurred.',
  DATABASE_UNAVAILABLE: 'The database cannot be reached right now; the request changed nothing.',
};

/** A success response with its schema and an example. */
export function ApiSuccess(status: number, type: Type<unknown>, example: unknown) {
  return ApiResponse({ status, type, example, description: 'Success' });
}

/**
 * Documents every error a route can answer, grouped by status, each with the problem+json
 * schema and one example per code. Every route can also fail with 503 and 500.
 */
export function ApiProblems(codes: ErrorCode[], options: { idempotent?: boolean } = {}) {
  const all: ErrorCode[] = [...codes];
  if (options.idempotent) all.push('IDEMPOTENCY_KEY_REUSED', 'IDEMPOTENCY_KEY_IN_PROGRESS');
  if (options.idempotent || codes.includes('MALFORMED_JSON')) all.push('PAYLOAD_TOO_LARGE');
  all.push('DATABASE_UNAVAILABLE', 'INTERNAL_ERROR');
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set(all)) {
    const status = ERROR_STATUS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const decorators = [...byStatus].map(([status, statusCodes]) =>
    ApiResponse({
      status,
      description: statusCodes.map((c) => `\`${c}\``).join(', '),
      content: {
        [PROBLEM_CONTENT_TYPE]: {
          schema: { $ref: getSchemaPath(ProblemDto) },
          examples: Object.fromEntries(
            statusCodes.map((code) => [
              code,
              {
                value: {
                  type: 'about:blank',
                  title: titleFor(status),
                  status,
                  code,
                  detail: EXAMPLE_DETAIL[code],
                },
              },
            ]),
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

function titleFor(status: number): string {
  const titles: Record<number, string> = {
    400: 'Bad Request',
    404: 'Not Found',
    409: 'Conflict',
    413: 'Payload Too Large',
    415: 'Unsupported Media Type',
    422: 'Unprocessable Entity',
    500: 'Internal Server Error',
    503: 'Service Unavailable',
  };
  return titles[status] ?? 'Error';
}
