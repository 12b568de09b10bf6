import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Request, Response } from 'express';
import { defer, lastValueFrom, map, Observable } from 'rxjs';
import { PROBLEM_CONTENT_TYPE } from '../common/errors/problem';
import { IDEMPOTENCY_KEY_HEADER, IDEMPOTENT_REPLAYED_HEADER } from './idempotency-headers';
import { parseIdempotencyKey, requestFingerprint } from './idempotency-key';
import { IdempotencyService } from './idempotency.service';

/**
 * Global: every POST that carries an Idempotency-Key runs through IdempotencyService; any
 * other request passes through untouched. Interceptors run before pipes, so the body's
 * validation happens inside the unit of work and its 400 is stored like any other 4xx.
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
    const req = http.getRequest<Request>();
    if (req.method !== 'POST') return next.handle();
    const key = parseIdempotencyKey(req.headers[IDEMPOTENCY_KEY_HEADER.toLowerCase()]);
    if (key === undefined) return next.handle();

    const res = http.getResponse<Response>();
    const request = { key, fingerprint: requestFingerprint(req.method, req.originalUrl, req.body) };
    // Nest has already applied the route's @HttpCode before interceptors run.
    const successStatus = res.statusCode;
    // next.handle() is called inside the unit of work, once per attempt: the handler then
    // runs in its AsyncLocalStorage scope (so its TransactionRunner.run joins), and again
    // from the start when the unit is retried.
    const handle = () => lastValueFrom(next.handle(), { defaultValue: undefined });
    return defer(() => this.idempotency.execute(request, successStatus, handle)).pipe(
      map((response) => {
        res.status(response.statusCode);
        res.type(response.statusCode >= 400 ? PROBLEM_CONTENT_TYPE : 'application/json');
        if (response.replayed) res.setHeader(IDEMPOTENT_REPLAYED_HEADER, 'true');
        return response.body;
      }),
    );
  }
}
