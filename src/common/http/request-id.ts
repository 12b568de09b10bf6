import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

export const REQUEST_ID_HEADER = 'X-Request-Id';
const VALID_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export type RequestWithId = Request & { id?: string };

/** The client's X-Request-Id when it is sane, else a new UUID. */
export function requestIdFor(req: Request): string {
  const sent = req.headers['x-request-id'];
  return typeof sent === 'string' && VALID_REQUEST_ID.test(sent) ? sent : randomUUID();
}

/** Express middleware: stamps every request and response with a request id. */
export function requestIdMiddleware(req: RequestWithId, res: Response, next: NextFunction): void {
  req.id ??= requestIdFor(req);
  res.setHeader(REQUEST_ID_HEADER, req.id);
  next();
}
