import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { requestIdFor } from '../../common/http/request-id';
import { routePattern, UNMATCHED_ROUTE } from '../http-route';
import { serializeError } from './root-logger';

const ROUTE = Symbol('route');

/** Node's request as pino-http sees it: Fastify's request id and route pattern, then `log`. */
type RawRequest = IncomingMessage & { id?: string; [ROUTE]?: string; log?: Logger };

interface RequestLine {
  method: string | undefined;
  route: string;
  status: number;
  durationMs: number;
  aborted?: true;
}

function requestLine(req: IncomingMessage, res: ServerResponse, durationMs: unknown): RequestLine {
  const line: RequestLine = {
    method: req.method,
    route: (req as RawRequest)[ROUTE] ?? UNMATCHED_ROUTE,
    status: res.statusCode,
    durationMs: typeof durationMs === 'number' ? durationMs : -1,
  };
  if (!res.writableFinished) line.aborted = true;
  return line;
}

/**
 * One JSON line per request, written when the response is finished (or the client went away):
 * `{ requestId, method, route, status, durationMs }`. The route is the pattern, not the URL, and
 * no header, query or body is logged: account ids and amounts stay out of info-level logs.
 * The request's child logger (`{ requestId }`) is then `requestLoggerOf(request)`.
 *
 * Returns the body of an `onRequest` hook: Fastify has routed the request and set its id.
 */
export function requestLogging(
  root: Logger,
): (request: FastifyRequest, reply: FastifyReply) => void {
  const middleware = pinoHttp({
    logger: root,
    genReqId: (req) => (req as RawRequest).id ?? requestIdFor(req),
    customAttributeKeys: { reqId: 'requestId', responseTime: 'durationMs' },
    quietReqLogger: true,
    quietResLogger: true,
    // Serialized once per request by pino-http even when unused: keep it cheap and id-free.
    serializers: {
      req: (req: { method?: string }) => ({ method: req.method }),
      err: serializeError,
    },
    customLogLevel: (_req, res, error) => {
      // A 503 is an expected, answered condition (busy, or the database away): the filter has
      // logged its cause at warn, and this line follows suit. Other 5xx are errors.
      if (res.statusCode === 503) return 'warn';
      if (error || res.statusCode >= 500) return 'error';
      return res.writableFinished ? 'info' : 'warn';
    },
    customSuccessObject: (req, res, val: Record<string, unknown>) =>
      requestLine(req, res, val.durationMs),
    customErrorObject: (req, res, _error, val: Record<string, unknown>) =>
      requestLine(req, res, val.durationMs),
    customSuccessMessage: (_req, res) =>
      res.writableFinished ? 'request completed' : 'request aborted',
    customErrorMessage: () => 'request failed',
  });
  return (request, reply) => {
    const raw = request.raw as RawRequest;
    raw.id = request.id;
    raw[ROUTE] = routePattern(request);
    middleware(raw, reply.raw);
  };
}

/** The request's child logger (it carries the request id), once requestLogging has run. */
export function requestLoggerOf(request: FastifyRequest): Logger | undefined {
  return (request.raw as RawRequest).log;
}
