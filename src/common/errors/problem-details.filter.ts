import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { allowedMethodsFor } from '../http/route-table';
import { isBusyError, isConnectionError } from './pg-errors';
import { DomainException } from './domain.exception';
import { ErrorCode } from './error-codes';
import { Problem, PROBLEM_CONTENT_TYPE, problem } from './problem';

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

/** `Retry-After` of a 503 SERVICE_BUSY, in seconds: fixed, the busy spells it reports are short. */
export const SERVICE_BUSY_RETRY_AFTER_SECONDS = 1;

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
  if (error instanceof DomainException) return problem(error.code, error.detail, error.errors);
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

export function sendProblem(reply: FastifyReply, body: Problem): void {
  void reply
    .status(body.status)
    .type(`${PROBLEM_CONTENT_TYPE}; charset=utf-8`)
    .send(JSON.stringify(body));
}

/** A method the path does not support: 405 naming the ones it does, in `Allow`. */
function methodNotAllowed(request: FastifyRequest, reply: FastifyReply): Problem | undefined {
  const allowed = allowedMethodsFor(request);
  if (allowed.length === 0) return undefined;
  void reply.header('Allow', allowed.join(', '));
  return problem(
    'METHOD_NOT_ALLOWED',
    `${request.method} is not allowed here; allowed: ${allowed.join(', ')}.`,
  );
}

@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemDetailsFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    if (reply.sent) return;
    let body = toProblem(exception);
    if (body?.code === 'ROUTE_NOT_FOUND') body = methodNotAllowed(request, reply) ?? body;
    if (body?.code === 'DATABASE_UNAVAILABLE' || body?.code === 'SERVICE_BUSY') {
      this.logger.warn(
        `request ${request.id}: ${body.code === 'SERVICE_BUSY' ? 'service busy' : 'database unavailable'}: ${(exception as Error)?.message}`,
      );
    }
    if (body?.code === 'SERVICE_BUSY') {
      void reply.header('Retry-After', String(SERVICE_BUSY_RETRY_AFTER_SECONDS));
    }
    if (!body) {
      this.logger.error(
        `request ${request.id} ${request.method} ${request.url} failed`,
        exception instanceof Error ? exception.stack : String(exception),
      );
      body = {
        ...problem(
          'INTERNAL_ERROR',
          'An unexpected error occurred. Quote the request id to support.',
        ),
        requestId: request.id,
      };
    }
    sendProblem(reply, body);
  }
}
