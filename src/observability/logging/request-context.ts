import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from 'pino';

const requestLoggers = new AsyncLocalStorage<Logger>();

/** The logger of the request being served (it carries the request id), if any. */
export function currentRequestLogger(): Logger | undefined {
  return requestLoggers.getStore();
}

/**
 * Runs the rest of the request (`next`) inside an async context holding the request's child
 * logger, so any log line written while serving it (Nest's Logger included) carries its
 * request id. Call it from a `preHandler` hook, after the body is read: Fastify reads it from
 * stream events, which run in the socket's async context and would drop the store.
 */
export function runInRequestContext(logger: Logger | undefined, next: () => void): void {
  if (!logger) {
    next();
    return;
  }
  requestLoggers.run(logger, next);
}
