import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { requestIdFor } from '../../common/http/request-id';
import { routePattern } from '../http-route';
import { serializeError } from './root-logger';

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
    route: routePattern(req as Request),
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
 * `req.log` becomes the request's child logger (`{ requestId }`) for everything else.
 *
 * Mount after the request-id middleware: the id is the one it put on `req.id`.
 */
export function requestLoggingMiddleware(root: Logger): RequestHandler {
  return pinoHttp({
    logger: root,
    genReqId: (req) => (req as Request & { id?: string }).id ?? requestIdFor(req as Request),
    customAttributeKeys: { reqId: 'requestId', responseTime: 'durationMs' },
    quietReqLogger: true,
    quietResLogger: true,
    // Serialized once per request by pino-http even when unused: keep it cheap and id-free.
    serializers: {
      req: (req: { method?: string }) => ({ method: req.method }),
      err: serializeError,
    },
    customLogLevel: (_req, res, error) => {
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
}
