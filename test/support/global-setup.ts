import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from '../../src/database/data-source-options';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres';
import { runMigrations } from '../../src/database/migrate';
import { databaseUrl, freePort } from '../../scripts/lib/net';

interface TestDatabaseState {
  stop?: () => Promise<void>;
  adminUrl: string;
  template: string;
}

/**
 * One PostgreSQL for the whole run: the machine's when DATABASE_URL is set, else an embedded
 * cluster in a temp dir on a free port. Migrations are applied once, through the app's own
 * code path, to a template database; each test file clones it (test/support/test-app.ts).
 */
export default async function globalSetup(): Promise<void> {
  let adminUrl = process.env.DATABASE_URL;
  let stop: (() => Promise<void>) | undefined;
  if (!adminUrl) {
    const dir = await mkdtemp(join(tmpdir(), 'ledger-test-pg-'));
    // When run as root the server runs as `postgres`, which must be able to enter the dir.
    await chmod(dir, 0o755);
    const handle = await startEmbeddedPostgres({
      dataDir: join(dir, 'data'),
      port: await freePort(),
    });
    adminUrl = handle.url;
    stop = async () => {
      await handle.stop();
      await rm(dir, { recursive: true, force: true });
    };
  }
  const template = `ledger_tpl_${process.pid}_${Date.now()}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${template}`);
  await admin.end();

  const dataSource = await new DataSource(
    buildDataSourceOptions(databaseUrl(adminUrl, template), { size: 2 }),
  ).initialize();
  await runMigrations(dataSource);
  await dataSource.destroy();

  process.env.TEST_PG_ADMIN_URL = adminUrl;
  process.env.TEST_PG_TEMPLATE = template;
  (globalThis as { __TEST_DB__?: TestDatabaseState }).__TEST_DB__ = { stop, adminUrl, template };
}
