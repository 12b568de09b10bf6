import type { Server } from 'node:http';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendProblem } from './common/errors/problem-details.filter';
import { toProblem } from './common/errors/to-problem';
import { problem } from './common/errors/problem';
import { answerClientErrorWithProblem } from './common/http/client-error';
import { assertJsonMediaType, parseJsonBody } from './common/http/json-body';
import { requestIdFor, REQUEST_ID_HEADER } from './common/http/request-id';
import { ROUTER_OPTIONS, trackRoutes } from './common/http/route-table';
import { createValidationPipe } from './common/http/validation';
import { AppConfig } from './config/app-config';
import { setupObservability } from './observability/observability.setup';
import { setupOpenApi } from './openapi';

/** The largest request body accepted; a larger one is 413 before it is read further. */
export const BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * Fastify's router refuses a URL it cannot decode (`%zz`) before any hook runs: answer it in
 * problem+json with the request id, and log and count it like any other request.
 */
function answerFrameworkError(error: Error, request: FastifyRequest, reply: FastifyReply): void {
  request.server.observeUnroutedRequest?.(request, reply);
  void reply.header(REQUEST_ID_HEADER, request.id);
  sendProblem(
    reply,
    toProblem(error) ??
      problem('VALIDATION_FAILED', 'The request URL is not valid.', [
        { field: 'url', message: 'url is not a valid URL' },
      ]),
  );
}

/**
 * The Fastify adapter main.ts and the e2e tests both build the app on. Node's HTTP parser
 * errors (malformed requests, 16 KB of URL or headers, a client too slow) are answered as
 * problem+json; request ids come from X-Request-Id when it is sane. No Nest middleware is
 * used, so @fastify/middie is not registered (`skipMiddie`).
 */
export function createHttpAdapter(): FastifyAdapter {
  return new FastifyAdapter({
    logger: false,
    bodyLimit: BODY_LIMIT_BYTES,
    routerOptions: ROUTER_OPTIONS,
    requestIdHeader: false,
    genReqId: requestIdFor,
    clientErrorHandler: answerClientErrorWithProblem,
    frameworkErrors: answerFrameworkError,
    skipMiddie: true,
    return503OnClosing: false,
  });
}

/**
 * Every body goes through one parser: `application/json` in UTF-8, uncompressed, else 415;
 * then parseJsonBody (depth, duplicate keys, number literals, top-level object). Fastify
 * calls it only when there is a body: a POST without one still reaches the handler.
 */
function installBodyParser(app: NestFastifyApplication): void {
  const fastify = app.getHttpAdapter().getInstance();
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit: BODY_LIMIT_BYTES },
    (request, body, done) => {
      try {
        const encoding = request.headers['content-encoding'];
        assertJsonMediaType(
          request.headers['content-type'],
          Array.isArray(encoding) ? encoding.join(', ') : encoding,
        );
        done(null, parseJsonBody(body as Buffer));
      } catch (error) {
        done(error as Error, undefined);
      }
    },
  );
}

/**
 * Node checks the header and request timeouts of open connections every
 * `connectionsCheckingInterval` (30 s by default), so a deadline of a few seconds would be
 * late by up to that much: check often enough for the configured deadline. Read when the
 * server starts listening.
 */
function applyTimeouts(
  server: Server & { connectionsCheckingInterval?: number },
  config: AppConfig,
): void {
  const headersTimeout = config.get('HTTP_HEADERS_TIMEOUT_MS');
  server.headersTimeout = headersTimeout;
  server.requestTimeout = config.get('HTTP_REQUEST_TIMEOUT_MS');
  server.connectionsCheckingInterval = Math.max(50, Math.min(1000, Math.floor(headersTimeout / 4)));
}

/**
 * Everything about the HTTP pipeline that is not a module: shared by main.ts and the e2e
 * tests so that both serve exactly the same app. Create the app on createHttpAdapter() with
 * `bodyParser: false`, and call this before `init`/`listen` (hooks must precede the routes).
 */
export function configureApp(app: NestFastifyApplication): NestFastifyApplication {
  const fastify = app.getHttpAdapter().getInstance();
  trackRoutes(fastify);
  applyTimeouts(app.getHttpServer(), app.get(AppConfig));
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header(REQUEST_ID_HEADER, request.id);
    done();
  });
  setupObservability(app);
  installBodyParser(app);
  app.useGlobalPipes(createValidationPipe());
  setupOpenApi(app);
  return app;
}
