import type { DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../migrations';
import type { AppConfig } from '../config/app-config';

/**
 * Server-side limits applied to a PostgreSQL session as startup parameters, so they hold from
 * its first statement and survive every `RESET` (values in milliseconds).
 */
export interface SessionTimeouts {
  /** `statement_timeout`: the server cancels a statement running longer (SQLSTATE 57014). */
  statementTimeoutMs: number;
  /** `lock_timeout`: a statement waiting longer for any one lock fails (SQLSTATE 55P03). */
  lockTimeoutMs: number;
  /** `idle_in_transaction_session_timeout`: a session idle inside a transaction is ended. */
  idleInTransactionSessionTimeoutMs: number;
}

/** The defaults of DB_STATEMENT_TIMEOUT_MS, DB_LOCK_TIMEOUT_MS, DB_IDLE_IN_…_TIMEOUT_MS. */
export const DEFAULT_SESSION_TIMEOUTS: SessionTimeouts = {
  statementTimeoutMs: 15_000,
  lockTimeoutMs: 5_000,
  idleInTransactionSessionTimeoutMs: 30_000,
};

/** The pool's timeouts as configured (DB_STATEMENT_TIMEOUT_MS, DB_LOCK_TIMEOUT_MS, …). */
export function configuredSessionTimeouts(config: AppConfig): SessionTimeouts {
  return {
    statementTimeoutMs: config.get('DB_STATEMENT_TIMEOUT_MS'),
    lockTimeoutMs: config.get('DB_LOCK_TIMEOUT_MS'),
    idleInTransactionSessionTimeoutMs: config.get('DB_IDLE_IN_TRANSACTION_SESSION_TIMEOUT_MS'),
  };
}

/**
 * How long the driver itself waits for any answer beyond the statement timeout before it gives
 * the connection up (`query_timeout`, "Query read timeout"): only a dead server or network gets
 * that far, so the server's own, cleaner 57014 always comes first.
 */
const CLIENT_READ_MARGIN_MS = 5_000;

/** node-postgres client settings carrying `timeouts` (for a Pool's or a Client's config). */
export function sessionSettings(timeouts: SessionTimeouts): {
  statement_timeout: number;
  lock_timeout: number;
  idle_in_transaction_session_timeout: number;
  query_timeout: number;
} {
  return {
    statement_timeout: timeouts.statementTimeoutMs,
    lock_timeout: timeouts.lockTimeoutMs,
    idle_in_transaction_session_timeout: timeouts.idleInTransactionSessionTimeoutMs,
    query_timeout: timeouts.statementTimeoutMs + CLIENT_READ_MARGIN_MS,
  };
}

export interface PoolSettings {
  size: number;
  timeouts?: SessionTimeouts;
}

/** The `application_name` of the pool's sessions; dedicated connections append a suffix. */
export const APPLICATION_NAME = 'banking-ledger-api';

/**
 * TypeORM options shared by the app, the tests and the migration script.
 * `synchronize` is off everywhere: the schema comes only from reviewed migrations.
 */
export function buildDataSourceOptions(
  url: string,
  pool: PoolSettings = { size: 10 },
): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    synchronize: false,
    migrationsRun: false,
    migrations: MIGRATIONS,
    migrationsTableName: 'typeorm_migrations',
    logging: false,
    extra: {
      max: pool.size,
      // Waiting longer than this for a free pooled connection is 503 SERVICE_BUSY; a server that
      // does not accept a new connection in time is 503 DATABASE_UNAVAILABLE.
      connectionTimeoutMillis: 3000,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
      // A statement stuck on a lock or a dead server must not hold a request forever.
      ...sessionSettings(pool.timeouts ?? DEFAULT_SESSION_TIMEOUTS),
      application_name: APPLICATION_NAME,
    },
  };
}
