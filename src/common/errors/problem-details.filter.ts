import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { isConnectionError } from './pg-errors';
import type { RequestWithId } from '../http/request-id';
import { DomainException } from './domain.exception';
import { ErrorCode } from './error-codes';
import { Problem, PROBLEM_CONTENT_TYPE, problem } from './problem';

interface BodyParserError {
  type?: unknown;
  status?: unknown;
  expose?: unknown;
}

const HTTP_STATUS_CODES: Record<number, ErrorCode> = {
  400: 'VALIDATION_FAILED',
  404: 'ROUTE_NOT_FOUND',
  405: 'ROUTE_NOT_FOUND',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
};

/**
 * Maps anything thrown while serving a request to the problem+json body of the contract.
 * Known errors keep their code; connection failures are 503; everything else is a 500 whose
 * body says nothing about internals (the error is logged with the request id instead).
 */
export function toProblem(error: unknown): Problem | undefined {
  if (error instanceof DomainException) return problem(error.code, error.detail, error.errors);
  const parser = error as BodyParserError;
  if (parser && typeof parser === 'object' && typeof parser.type === 'string') {
    switch (parser.type) {
      case 'entity.parse.failed':
        return problem('MALFORMED_JSON', 'The request body is not valid JSON.');
      case 'entity.too.large':
        return problem('PAYLOAD_TOO_LARGE', 'The request body is larger than 1 MB.');
      case 'encoding.unsupported':
      case 'charset.unsupported':
        return problem('UNSUPPORTED_MEDIA_TYPE', 'The request body encoding is not supported.');
      default:
        if (typeof parser.status === 'number' && parser.status >= 400 && parser.status < 500) {
          return problem('VALIDATION_FAILED', 'The request body could not be read.');
        }
    }
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const code = HTTP_STATUS_CODES[status];
    if (code === 'ROUTE_NOT_FOUND') return problem(code, 'No such route.');
    if (code) return problem(code, error.message);
  }
  if (isConnectionError(error)) {
    return problem(
      'DATABASE_UNAVAILABLE',
      'The database cannot be reached right now; the request changed nothing. Retry later.',
    );
  }
  return undefined;
}

export function sendProblem(res: Response, body: Problem): void {
  res.status(body.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
}

/** Express error middleware for failures before Nest routing (body parsing). */
export function bodyParserErrorHandler(
  error: unknown,
  req: RequestWithId,
  res: Response,
  next: (error?: unknown) => void,
): void {
  const body = toProblem(error);
  if (!body || res.headersSent) {
    next(error);
    return;
  }
  sendProblem(res, body);
}

@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemDetailsFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const res = http.getResponse<Response>();
    const req = http.getRequest<RequestWithId>();
    if (res.headersSent) return;
    let body = toProblem(exception);
    if (body?.code === 'DATABASE_UNAVAILABLE') {
      this.logger.warn(
        `request ${req.id ?? '-'}: database unavailable: ${(exception as Error)?.message}`,
      );
    }
    if (!body) {
      this.logger.error(
        `request ${req.id ?? '-'} ${req.method} ${req.originalUrl} failed`,
        exception instanceof Error ? exception.stack : String(exception),
      );
      body = {
        ...problem(
          'INTERNAL_ERROR',
          'An unexpected error occurred. Quote the request id to support.',
        ),
        requestId: req.id,
      };
    }
    sendProblem(res, body);
  }
}
