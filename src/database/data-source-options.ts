import type { DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../migrations';

export interface PoolSettings {
  size: number;
}

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
      // Fail fast when the database is down instead of queueing requests for minutes.
      connectionTimeoutMillis: 3000,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
      // A statement stuck on a lock or a dead server must not hold a request forever.
      statement_timeout: 15_000,
      query_timeout: 20_000,
      application_name: 'banking-ledger-api',
    },
  };
}
