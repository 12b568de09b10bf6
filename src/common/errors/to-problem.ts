import { HttpException } from '@nestjs/common';
import { DomainException } from './domain.exception';
import { ErrorCode } from './error-codes';
import { isBusyError, isConnectionError } from './pg-errors';
import { Problem, problem } from './problem';

/** What Fastify's own errors carry (FST_ERR_*), e.g. from body reading or routing. */
interface FrameworkError {
  code?: unknown;
  statusCode?: unknown;
  message?: unknown;
}

const FRAMEWORK_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'MALFORMED_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MALFORMED_JSON',
};

const HTTP_STATUS_CODES: Record<number, ErrorCode> = {
  404: 'ROUTE_NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  408: 'REQUEST_TIMEOUT',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  431: 'HEADERS_TOO_LARGE',
};

function frameworkProblem(error: FrameworkError): Problem | undefined {
  if (typeof error.code !== 'string' || !error.code.startsWith('FST_')) return undefined;
  const status = typeof error.statusCode === 'number' ? error.statusCode : 500;
  if (status < 400 || status >= 500) return undefined;
  const code = FRAMEWORK_CODES[error.code] ?? HTTP_STATUS_CODES[status];
  switch (code) {
    case 'PAYLOAD_TOO_LARGE':
      return problem(code, 'The request body is larger than 1 MB.');
    case 'UNSUPPORTED_MEDIA_TYPE':
      return problem(code, 'Send the body as application/json (UTF-8).');
    case 'MALFORMED_JSON':
      return problem(code, 'The request body is incomplete or does not match its Content-Length.');
    case undefined:
      // A URL that cannot be decoded, and the like.
      return problem('VALIDATION_FAILED', 'The request URL is not valid.', [
        { field: 'url', message: 'url is not a valid URL' },
      ]);
    default:
      return problem(code, String(error.message));
  }
}

/**
 * Maps anything thrown while serving a request to the problem+json body of the contract.
 * Known errors keep their code; connection failures are 503; everything else is a 500 whose
 * body says nothing about internals (the error is logged with the request id instead).
 */
export function toProblem(error: unknown): Problem | undefined {
  if (error instanceof DomainException) {
    return problem(error.code, error.detail, error.errors, error.status);
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const code = HTTP_STATUS_CODES[status];
    if (code === 'ROUTE_NOT_FOUND') return problem(code, 'No such route.');
    if (code) return problem(code, error.message);
    if (status >= 400 && status < 500) {
      return problem('VALIDATION_FAILED', error.message, [
        { field: 'request', message: error.message },
      ]);
    }
  }
  if (error && typeof error === 'object') {
    const framework = frameworkProblem(error);
    if (framework) return framework;
  }
  if (isBusyError(error)) {
    return problem(
      'SERVICE_BUSY',
      'The service is too busy to serve this request in time; the request changed nothing. Retry later.',
    );
  }
  if (isConnectionError(error)) {
    return problem(
      'DATABASE_UNAVAILABLE',
      'The database cannot be reached right now; the request changed nothing. Retry later.',
    );
  }
  return undefined;
}
