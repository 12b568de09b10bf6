/**
 * Classification of PostgreSQL / node-postgres failures. TypeORM wraps driver errors in
 * QueryFailedError with the original under `driverError`; both layers are inspected.
 */
interface ErrorLike {
  code?: unknown;
  message?: unknown;
  driverError?: unknown;
  cause?: unknown;
}

function layers(error: unknown): ErrorLike[] {
  const out: ErrorLike[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const e = current as ErrorLike;
    out.push(e);
    current = e.driverError ?? e.cause;
  }
  return out;
}

export function sqlState(error: unknown): string | undefined {
  for (const e of layers(error)) {
    if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) return e.code;
  }
  return undefined;
}

/** SQLSTATEs after which re-running the whole transaction is safe and may succeed. */
const RETRYABLE = new Set(['40001', '40P01']);

export function isRetryableTransactionError(error: unknown): boolean {
  const state = sqlState(error);
  return state !== undefined && RETRYABLE.has(state);
}

const CONNECTION_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ECONNABORTED',
]);
const CONNECTION_MESSAGES = [
  'Connection terminated',
  'Client has encountered a connection error',
  'Connection is not established',
  'connect ECONNREFUSED',
  'the database system is',
  'terminating connection',
  'Query read timeout',
];

/**
 * TypeORM releases a checked-out query runner by itself when its connection emits `error`
 * (backend terminated, server shut down) while no query is running on it, e.g. between the
 * lock and the posting of a movement. The unit of work's next query, or its COMMIT, then fails
 * with one of these instead of the driver error. TransactionRunner releases a runner only after
 * its COMMIT or ROLLBACK, so inside a unit of work they mean: the connection was lost before
 * COMMIT was sent, and PostgreSQL rolled the transaction back.
 */
const RELEASED_BY_LOST_CONNECTION = new Set([
  'QueryRunnerAlreadyReleasedError',
  'QueryRunnerProviderAlreadyReleasedError',
]);

/**
 * The database could not be reached, or the connection died mid-request (server shut down,
 * backend terminated, no new connection accepted in time). Such a transaction never committed,
 * so the request changed nothing: the client gets 503 DATABASE_UNAVAILABLE, not 500.
 */
export function isConnectionError(error: unknown): boolean {
  if (isCancelledByService(error)) return true;
  for (const e of layers(error)) {
    const name = (e as { name?: unknown }).name;
    if (typeof name === 'string' && RELEASED_BY_LOST_CONNECTION.has(name)) return true;
    const code = typeof e.code === 'string' ? e.code : '';
    if (CONNECTION_ERRNOS.has(code)) return true;
    // Class 08 (connection exception), 57P01-57P03 (shutdown / cannot connect now), 53300.
    if (/^08/.test(code) || /^57P0[1-3]$/.test(code) || code === '53300') return true;
    const message = typeof e.message === 'string' ? e.message : '';
    if (CONNECTION_MESSAGES.some((m) => message.includes(m))) return true;
  }
  return false;
}

/**
 * pg-pool's error when no pooled connection became free within `connectionTimeoutMillis`
 * (the pool is busy, the database may be fine). A server that does not accept a *new*
 * connection in time fails with "Connection terminated due to connection timeout" instead.
 */
const POOL_ACQUIRE_TIMEOUT = 'timeout exceeded when trying to connect';

/** 57014 query_canceled (statement_timeout), 55P03 lock_not_available (lock_timeout). */
const BUSY_STATES = new Set(['57014', '55P03']);

function isBusyLayer(e: ErrorLike): boolean {
  if (typeof e.code === 'string' && BUSY_STATES.has(e.code)) return true;
  return typeof e.message === 'string' && e.message === POOL_ACQUIRE_TIMEOUT;
}

/**
 * The service was too busy to serve the request in time: a statement or lock timeout, or no
 * free pooled connection. The transaction was rolled back (or never started), so the request
 * changed nothing: the client gets 503 SERVICE_BUSY with Retry-After, not 500.
 *
 * A 57014 raised by a cancel the service requested itself (on shutdown) is not "busy": see
 * `markCancelledByService`.
 */
export function isBusyError(error: unknown): boolean {
  if (isCancelledByService(error)) return false;
  return layers(error).some(isBusyLayer);
}

const CANCELLED_BY_SERVICE = Symbol('cancelledByService');

/**
 * Marks the error of a statement the service cancelled on purpose (shutting down). It then
 * counts as a lost connection (503 DATABASE_UNAVAILABLE, nothing changed: this instance is
 * going away), never as SERVICE_BUSY, whose Retry-After would invite a retry here.
 */
export function markCancelledByService<E>(error: E): E {
  if (error && typeof error === 'object') {
    Object.defineProperty(error, CANCELLED_BY_SERVICE, { value: true });
  }
  return error;
}

function isCancelledByService(error: unknown): boolean {
  return (
    !!error &&
    typeof error === 'object' &&
    (error as { [CANCELLED_BY_SERVICE]?: boolean })[CANCELLED_BY_SERVICE] === true
  );
}
