import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppLogger } from './logging/app-logger.service';
import { runInRequestContext } from './logging/request-context';
import { requestLoggerOf, requestLogging } from './logging/request-logging';
import { MetricsService } from './metrics/metrics.service';

/**
 * Makes the app's pino logger Nest's logger (flushing lines buffered during boot) and hooks
 * request logging, the request-id log context and HTTP metrics into Fastify. Call before any
 * route is registered (configureApp, before `init`).
 */
export function setupObservability(app: NestFastifyApplication): void {
  const logger = app.get(AppLogger);
  logger.capToNestLevels();
  app.useLogger(logger);
  const metrics = app.get(MetricsService);
  const logRequest = requestLogging(logger.pino);
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', (request, reply, done) => {
    logRequest(request, reply);
    done();
  });
  fastify.addHook('preHandler', (request, _reply, done) => {
    runInRequestContext(requestLoggerOf(request), done);
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    metrics.observe(request, reply);
    done();
  });
  // Requests the router refuses (an undecodable URL) run no hook: see createHttpAdapter.
  fastify.decorate('observeUnroutedRequest', (request: FastifyRequest, reply: FastifyReply) => {
    logRequest(request, reply);
    reply.raw.once('finish', () => metrics.observe(request, reply));
  });
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Logs and counts a request that no hook will see; set by setupObservability. */
    observeUnroutedRequest?: (request: FastifyRequest, reply: FastifyReply) => void;
  }
}
