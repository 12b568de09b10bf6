import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { defer, lastValueFrom, map, Observable } from 'rxjs';
import { PROBLEM_CONTENT_TYPE } from '../common/errors/problem';
import {
  IDEMPOTENCY_KEY_HEADER,
  IDEMPOTENT_REPLAYED_HEADER,
} from '../common/http/idempotency-headers';
import { parseIdempotencyKey, requestFingerprint } from './idempotency-key';
import { IdempotencyScope, runInIdempotencyScope } from './idempotency-scope';
import { IdempotencyService } from './idempotency.service';

/**
 * Global: every POST that carries an Idempotency-Key runs its handler inside an idempotency
 * scope; any other request passes through untouched. The code that runs the request's effects
 * (the ledger engine) takes the key from the scope, stores the response in the same
 * transaction as the effects, and leaves the answer in the scope. A handler that fails before
 * that (a 400 from validation: interceptors run before pipes) gets its 4xx stored here.
 *
 * The response is sent as the stored string (Nest sends a string as it is), with the status
 * and content type set here, so a first answer and its replays are byte-for-byte equal.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(private readonly idempotency: IdempotencyService) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const http = context.switchToHttp();
    const req = http.getRequest<FastifyRequest>();
    if (req.method !== 'POST') return next.handle();
    const key = parseIdempotencyKey(req.headers[IDEMPOTENCY_KEY_HEADER.toLowerCase()]);
    if (key === undefined) return next.handle();

    const res = http.getResponse<FastifyReply>();
    const scope: IdempotencyScope = {
      key,
      fingerprint: requestFingerprint(req.method, req.url, req.body),
      // Nest has already applied the route's @HttpCode before interceptors run.
      successStatus: res.statusCode,
    };
    const answer = async () => {
      try {
        await runInIdempotencyScope(scope, () =>
          lastValueFrom(next.handle(), { defaultValue: undefined }),
        );
      } catch (error) {
        if (!scope.answer) return this.idempotency.answerFailure(scope, error);
      }
      if (!scope.answer) {
        throw new Error(`${req.method} ${req.url} answered without storing its Idempotency-Key`);
      }
      return scope.answer;
    };
    return defer(answer).pipe(
      map((response) => {
        void res.status(response.statusCode);
        void res.type(response.statusCode >= 400 ? PROBLEM_CONTENT_TYPE : 'application/json');
        if (response.replayed) void res.header(IDEMPOTENT_REPLAYED_HEADER, 'true');
        return response.body;
      }),
    );
  }
}
