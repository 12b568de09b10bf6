import type { DataSource, Migration } from 'typeorm';

/** Arbitrary constant shared by every instance: the key of the migration advisory lock. */
const MIGRATION_LOCK_KEY = 4_242_001;

/**
 * Runs pending migrations while holding a session-level advisory lock, so instances that start
 * together apply them one at a time: the first applies, the others wait and find nothing to do.
 */
export async function runMigrations(dataSource: DataSource): Promise<Migration[]> {
  const lockRunner = dataSource.createQueryRunner();
  await lockRunner.connect();
  try {
    // Another instance may hold the lock for as long as its migrations take: wait for it
    // without the pool's DB_LOCK_TIMEOUT_MS (restored below, before the connection goes back).
    await lockRunner.query('SET lock_timeout = 0');
    await lockRunner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    return await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    await lockRunner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => {});
    await lockRunner.query('RESET lock_timeout').catch(() => {});
    await lockRunner.release();
  }
}

/** Reverts the newest applied migration, under the same lock. */
export async function revertLastMigration(dataSource: DataSource): Promise<void> {
  const lockRunner = dataSource.createQueryRunner();
  await lockRunner.connect();
  try {
    // Another instance may hold the lock for as long as its migrations take: wait for it
    // without the pool's DB_LOCK_TIMEOUT_MS (restored below, before the connection goes back).
    await lockRunner.query('SET lock_timeout = 0');
    await lockRunner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await dataSource.undoLastMigration({ transaction: 'each' });
  } finally {
    await lockRunner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => {});
    await lockRunner.query('RESET lock_timeout').catch(() => {});
    await lockRunner.release();
  }
}
