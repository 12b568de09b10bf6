import { Client } from 'pg';

interface TestDatabaseState {
  stop?: () => Promise<void>;
  adminUrl: string;
  template: string;
}

/** Drops every database this run created on a shared server, then stops an embedded one. */
export default async function globalTeardown(): Promise<void> {
  const state = (globalThis as { __TEST_DB__?: TestDatabaseState }).__TEST_DB__;
  if (!state) return;
  if (state.stop) {
    await state.stop();
    return;
  }
  const admin = new Client({ connectionString: state.adminUrl });
  await admin.connect();
  try {
    const prefix = state.template.replace('ledger_tpl_', 'ledger_t_');
    const { rows } = await admin.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname = $1 OR datname LIKE $2`,
      [state.template, `${prefix}%`],
    );
    for (const { datname } of rows) {
      await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    }
  } finally {
    await admin.end();
  }
}
