import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { allowedMethodsFor } from '../http/route-table';
import { Problem, PROBLEM_CONTENT_TYPE, problem } from './problem';
import { toProblem } from './to-problem';

/** `Retry-After` of a 503 SERVICE_BUSY, in seconds: fixed, the busy spells it reports are short. */
export const SERVICE_BUSY_RETRY_AFTER_SECONDS = 1;

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
