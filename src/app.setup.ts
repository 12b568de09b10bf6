import type { NestExpressApplication } from '@nestjs/platform-express';
import { json } from 'express';
import { bodyParserErrorHandler } from './common/errors/problem-details.filter';
import { answerClientErrorsWithProblems } from './common/http/client-error';
import { rejectDeepJson } from './common/http/json-depth';
import { requestIdMiddleware } from './common/http/request-id';
import { createValidationPipe } from './common/http/validation';
import { setupObservability } from './observability/observability.setup';
import { setupOpenApi } from './openapi';

export const BODY_LIMIT = '1mb';

/**
 * Everything about the HTTP pipeline that is not a module: shared by main.ts and the e2e
 * tests so that both serve exactly the same app. Create the app with `bodyParser: false`.
 */
export function configureApp(app: NestExpressApplication): NestExpressApplication {
  app.disable('x-powered-by');
  app.set('etag', false);
  answerClientErrorsWithProblems(app.getHttpServer());
  const observability = setupObservability(app);
  app.use(requestIdMiddleware);
  app.use(observability.requestLogging, observability.requestMetrics);
  // JSON only, 1 MB and 32 levels deep at most; parse errors and deeper bodies become
  // problem+json right here, before routing.
  app.use(
    json({ limit: BODY_LIMIT, strict: true, type: ['application/json', 'application/*+json'] }),
  );
  app.use(rejectDeepJson, bodyParserErrorHandler);
  app.use(observability.requestContext);
  app.useGlobalPipes(createValidationPipe());
  setupOpenApi(app);
  return app;
}
