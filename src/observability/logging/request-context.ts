import { AsyncLocalStorage } from 'node:async_hooks';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';

const requestLoggers = new AsyncLocalStorage<Logger>();

/** The logger of the request being served (it carries the request id), if any. */
export function currentRequestLogger(): Logger | undefined {
  return requestLoggers.getStore();
}

/**
 * Express middleware: runs the rest of the request inside an async context holding the
 * request's child logger, so any log line written while serving it (Nest's Logger included)
 * carries its request id. Mount it AFTER body parsing: body-parser resumes from stream events,
 * which run in the socket's async context and would drop the store.
 */
export function requestContextMiddleware(req: Request, _res: Response, next: NextFunction): void {
  const logger = (req as Request & { log?: Logger }).log;
  if (!logger) {
    next();
    return;
  }
  requestLoggers.run(logger, next);
}
