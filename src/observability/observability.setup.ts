import type { INestApplication } from '@nestjs/common';
import type { RequestHandler } from 'express';
import { AppLogger } from './logging/app-logger.service';
import { requestContextMiddleware } from './logging/request-context';
import { requestLoggingMiddleware } from './logging/request-logging';
import { MetricsService } from './metrics/metrics.service';

export interface ObservabilityMiddleware {
  /** Request line + request-scoped logger; after the request-id middleware. */
  requestLogging: RequestHandler;
  /** HTTP metrics; before body parsing, so refused bodies count. */
  requestMetrics: RequestHandler;
  /** The request's logger as async context; after body parsing (see requestContextMiddleware). */
  requestContext: RequestHandler;
}

/**
 * Makes the app's pino logger Nest's logger (flushing lines buffered during boot) and returns
 * the HTTP middleware, in the order configureApp must mount them.
 */
export function setupObservability(app: INestApplication): ObservabilityMiddleware {
  const logger = app.get(AppLogger);
  logger.capToNestLevels();
  app.useLogger(logger);
  return {
    requestLogging: requestLoggingMiddleware(logger.pino),
    requestMetrics: app.get(MetricsService).middleware,
    requestContext: requestContextMiddleware,
  };
}
