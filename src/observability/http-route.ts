import type { Request } from 'express';

/** The `route` of requests no route handled: unknown paths, and bodies refused before routing. */
export const UNMATCHED_ROUTE = '(unmatched)';

/**
 * The route pattern that served a request (`/accounts/:accountId`), never the raw URL: logs
 * and metric labels must not carry account ids, and a label with unbounded values would grow
 * the metrics registry without limit. Read it once the response is finished: Express sets
 * `req.route` only when a route matched.
 */
export function routePattern(req: Request): string {
  const route: unknown = req.route;
  if (route && typeof route === 'object' && 'path' in route && typeof route.path === 'string') {
    return `${req.baseUrl ?? ''}${route.path}` || '/';
  }
  return UNMATCHED_ROUTE;
}
