import type { FastifyRequest } from 'fastify';

/** The `route` of requests no route handled: unknown paths and methods. */
export const UNMATCHED_ROUTE = '(unmatched)';

/**
 * The route pattern that served a request (`/accounts/:accountId`), never the raw URL: logs
 * and metric labels must not carry account ids, and a label with unbounded values would grow
 * the metrics registry without limit. Fastify routes a request before any hook runs, so the
 * pattern is known from the first hook on, also for a body refused while being read.
 */
export function routePattern(request: FastifyRequest): string {
  if (request.is404) return UNMATCHED_ROUTE;
  return request.routeOptions?.url ?? UNMATCHED_ROUTE;
}
