import { Client } from 'pg';
import request from 'supertest';
import { balanceOf, createAccount } from '../support/factories';
import { LogCapture } from '../support/log-capture';
import { createTestApp, ManualClock, TestApp } from '../support/test-app';

interface AuditBody {
  ok: boolean;
  accountsChecked: number;
  entriesChecked: number;
  totalBalance: number;
  mismatches: { accountId: string; balance: number; ledgerSum: number; detail: string }[];
}

const AUDIT_APP = 'banking-ledger-api:audit';

/** Polls until `check()` holds (never a blind sleep); fails after 20 s. */
async function waitUntil(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * `accounts` accounts of `entriesEach` DEPOSIT entries of 100 each, written straight in SQL
 * (session_replication_role = replica skips the per-row foreign-key triggers: the rows are
 * built consistent). Returns what the audit must find.
 */
async function seedLedger(
  t: TestApp,
  accounts: number,
  entriesEach: number,
): Promise<{ ids: string[]; total: number; entries: number }> {
  await t.sql(`SET session_replication_role = replica`);
  try {
    await t.sql(
      `INSERT INTO accounts (account_id, currency, created_at, balance, last_entry_at)
       SELECT 'bulk-' || lpad(a::text, 5, '0'), 'USD', 1, $2::bigint * 100, $2::bigint
         FROM generate_series(1, $1::int) a`,
      [accounts, entriesEach],
    );
    await t.sql(
      `INSERT INTO ledger_transactions
         (movement_id, account_id, timestamp, operation, amount, balance_after)
       SELECT gen_random_uuid(), 'bulk-' || lpad(a::text, 5, '0'), i, 'DEPOSIT', 100, i * 100
         FROM generate_series(1, $1::int) a, generate_series(1, $2::int) i`,
      [accounts, entriesEach],
    );
  } finally {
    await t.sql(`RESET session_replication_role`);
  }
  await t.sql('ANALYZE accounts');
  await t.sql('ANALYZE ledger_transactions');
  const ids = Array.from({ length: accounts }, (_, i) => `bulk-${String(i + 1).padStart(5, '0')}`);
  return { ids, total: accounts * entriesEach * 100, entries: accounts * entriesEach };
}

async function audit(t: TestApp): Promise<{ status: number; body: AuditBody; ms: number }> {
  const started = Date.now();
  const res = await request(t.app.getHttpServer()).get('/audit');
  return { status: res.status, body: res.body as AuditBody, ms: Date.now() - started };
}

/** Connections to the test database now, by application_name. */
async function backendsByApp(t: TestApp): Promise<Map<string, number>> {
  const rows = await t.sql<{ app: string; n: string }>(
    `SELECT application_name AS app, count(*)::text AS n FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid()
      GROUP BY application_name`,
  );
  return new Map(rows.map((r) => [r.app, Number(r.n)]));
}

describe('GET /audit on a ledger large enough to take seconds (issue #15, item 2)', () => {
  let t: TestApp;
  let seeded: { ids: string[]; total: number; entries: number };

  beforeAll(async () => {
    t = await createTestApp({
      env: {
        // A small pool: ten audits holding pooled connections would starve every other request.
        DB_POOL_SIZE: '3',
        AUDIT_CHUNK_ACCOUNTS: '10',
        CASHBACK_WORKER_INTERVAL_MS: '3600000',
      },
    });
    seeded = await seedLedger(t, 300, 1500);
  });
  afterAll(async () => t.close());

  it('10 concurrent audits share one run on one connection outside the pool, while deposits and /health keep answering', async () => {
    const http = () => request(t.app.getHttpServer());
    let auditsDone = false;
    const audits = Promise.all(Array.from({ length: 10 }, () => audit(t))).finally(() => {
      auditsDone = true;
    });

    // Watch the database while the audits run: how many audit connections at once, at most.
    let maxAuditConnections = 0;
    const watcher = (async () => {
      while (!auditsDone) {
        const backends = await backendsByApp(t);
        maxAuditConnections = Math.max(maxAuditConnections, backends.get(AUDIT_APP) ?? 0);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();

    // Money keeps moving meanwhile: one deposit after another, each amount unique, so the sum
    // of the first k of them identifies exactly which deposits a snapshot contains.
    const acknowledged: number[] = [];
    const healthStatuses: number[] = [];
    const mover = (async () => {
      for (let i = 0; !auditsDone; i++) {
        const amount = 1 + i;
        const res = await http()
          .post('/deposits')
          .send({ accountId: seeded.ids[(i * 37) % seeded.ids.length], amount });
        expect(res.status).toBe(201);
        acknowledged.push(amount);
        if (i % 5 === 0) healthStatuses.push((await http().get('/health')).status);
      }
    })();

    const results = await audits;
    await Promise.all([watcher, mover]);

    // One run: every caller got the very same answer, and it is consistent.
    for (const r of results) expect(r.status).toBe(200);
    const first = results[0].body;
    for (const r of results) expect(r.body).toEqual(first);
    expect(first.ok).toBe(true);
    expect(first.mismatches).toEqual([]);
    expect(first.accountsChecked).toBe(seeded.ids.length);

    // One consistent snapshot: it holds exactly the first k sequential deposits, for some k.
    const k = first.entriesChecked - seeded.entries;
    expect(k).toBeGreaterThanOrEqual(0);
    expect(k).toBeLessThanOrEqual(acknowledged.length);
    const prefixSum = acknowledged.slice(0, k).reduce((s, a) => s + a, 0);
    expect(first.totalBalance).toBe(seeded.total + prefixSum);

    // Bounded cost: never more than one audit connection (none of the pool's: deposits and
    // /health kept being served while it ran).
    expect(maxAuditConnections).toBe(1);
    expect(acknowledged.length).toBeGreaterThanOrEqual(3);
    expect(healthStatuses.length).toBeGreaterThanOrEqual(1);
    expect(healthStatuses.every((s) => s === 200)).toBe(true);

    // Once money stops, a new run sees every acknowledged deposit, exactly.
    const settled = await audit(t);
    expect(settled.status).toBe(200);
    expect(settled.body).toMatchObject({
      ok: true,
      mismatches: [],
      accountsChecked: seeded.ids.length,
      entriesChecked: seeded.entries + acknowledged.length,
      totalBalance: seeded.total + acknowledged.reduce((s, a) => s + a, 0),
    });
  });

  it('completes although the whole run outlasts the pool statement timeout', async () => {
    // A second instance on the same data whose pool allows statements of 300 ms only.
    const strict = await createTestApp({
      database: t.database,
      env: { DB_STATEMENT_TIMEOUT_MS: '300', CASHBACK_WORKER_INTERVAL_MS: '3600000' },
    });
    try {
      const [expected] = await t.sql<{ total: string; entries: string }>(
        `SELECT (SELECT sum(balance) FROM accounts)::text AS total,
                (SELECT count(*) FROM ledger_transactions)::text AS entries`,
      );
      const result = await audit(strict);
      expect(result.status).toBe(200);
      expect(result.ms).toBeGreaterThan(300);
      expect(result.body).toMatchObject({
        ok: true,
        totalBalance: Number(expected?.total),
        entriesChecked: Number(expected?.entries),
      });
    } finally {
      await strict.close();
    }
  });

  it('stops a running audit on shutdown: 503 DATABASE_UNAVAILABLE (not SERVICE_BUSY), and the app closes promptly', async () => {
    // A second instance on the same data, whose audit we hold on a lock of the test's own.
    // Its log lines (the 503, a warning) are captured and asserted, not printed.
    const logs = new LogCapture();
    const other = await createTestApp({
      database: t.database,
      logs: logs.stream,
      env: { DB_LOCK_TIMEOUT_MS: '60000', CASHBACK_WORKER_INTERVAL_MS: '3600000' },
    });
    const locker = new Client({ connectionString: t.database.url });
    await locker.connect();
    let closed = false;
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE ledger_transactions IN ACCESS EXCLUSIVE MODE');
      const pending = request(other.app.getHttpServer()).get('/audit');
      const response = pending.then((res) => res);
      await waitUntil('the audit to wait for the lock', async () => {
        const rows = await t.sql(
          `SELECT 1 FROM pg_stat_activity
            WHERE datname = current_database() AND application_name = $1
              AND wait_event_type = 'Lock'`,
          [AUDIT_APP],
        );
        return rows.length === 1;
      });
      const started = Date.now();
      const closing = other.close().then(() => {
        closed = true;
      });
      const res = await response;
      await closing;
      expect(Date.now() - started).toBeLessThan(5000);
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ code: 'DATABASE_UNAVAILABLE' });
      expect(res.headers['retry-after']).toBeUndefined();
      // Expected, so a warning, not an error: by the filter, and on the request's own line.
      const requestId = res.headers['x-request-id'];
      const lines = logs.forRequest(requestId);
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.filter((l) => l.level === 'error')).toEqual([]);
      expect(lines.some((l) => l.level === 'warn' && l.status === 503)).toBe(true);
      const [left] = await t.sql<{ n: string }>(
        `SELECT count(*)::text AS n FROM pg_stat_activity
          WHERE datname = current_database() AND application_name = $1`,
        [AUDIT_APP],
      );
      expect(left?.n).toBe('0');
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
      if (!closed) await other.close();
    }
  });
});

describe('GET /audit reports what is wrong', () => {
  let t: TestApp;

  beforeAll(async () => {
    // Two accounts per chunk: the accounts below land in different chunks.
    t = await createTestApp({
      env: { AUDIT_CHUNK_ACCOUNTS: '2', CASHBACK_WORKER_INTERVAL_MS: '3600000' },
    });
  });
  afterAll(async () => t.close());

  it('finds a tampered balance and a broken balanceAfter chain, in whichever chunk they are', async () => {
    const clean = await createAccount(t, { initialDeposit: 1000 });
    const empty = await createAccount(t);
    const tampered = await createAccount(t, { initialDeposit: 50 });
    const broken = await createAccount(t, { initialDeposit: 100 });
    await request(t.app.getHttpServer())
      .post('/transfers')
      .send({ sourceAccountId: clean.accountId, targetAccountId: broken.accountId, amount: 10 })
      .expect(201);

    const before = await audit(t);
    expect(before.body).toMatchObject({ ok: true, accountsChecked: 4, entriesChecked: 5 });
    expect(before.body.totalBalance).toBe(1150);

    // Behind the service's back: a balance that disagrees with its ledger, and an entry whose
    // balance_after does not follow from the previous one (the balance is made to match it).
    await t.sql(`UPDATE accounts SET balance = 60 WHERE account_id = $1`, [tampered.accountId]);
    const [bad] = await t.sql<{ id: string }>(
      `INSERT INTO ledger_transactions
         (movement_id, account_id, timestamp, operation, amount, balance_after)
       SELECT gen_random_uuid(), account_id, last_entry_at + 1, 'DEPOSIT', 5, 999
         FROM accounts WHERE account_id = $1
       RETURNING transaction_id::text AS id`,
      [broken.accountId],
    );
    await t.sql(`UPDATE accounts SET balance = 999 WHERE account_id = $1`, [broken.accountId]);

    const after = await audit(t);
    expect(after.status).toBe(200);
    expect(after.body.ok).toBe(false);
    expect(after.body).toMatchObject({ accountsChecked: 4, entriesChecked: 6 });
    expect(after.body.totalBalance).toBe(990 + 0 + 60 + 999);
    const byId = new Map(after.body.mismatches.map((m) => [m.accountId, m]));
    expect([...byId.keys()].sort()).toEqual([broken.accountId, tampered.accountId].sort());
    expect(byId.get(tampered.accountId)).toEqual({
      accountId: tampered.accountId,
      balance: 60,
      ledgerSum: 50,
      detail:
        'balance 60 differs from the ledger sum 50; balance 60 differs from the last balanceAfter 50',
    });
    expect(byId.get(broken.accountId)).toEqual({
      accountId: broken.accountId,
      balance: 999,
      ledgerSum: 115,
      detail: `balance 999 differs from the ledger sum 115; 1 entries break the balanceAfter chain (first: entry ${bad?.id})`,
    });
    expect(await balanceOf(t, empty.accountId)).toBe(0);
  });
});

describe('GET /audit after a cashback fell due (issue #15, item 8)', () => {
  let t: TestApp;
  const clock = new ManualClock();

  beforeAll(async () => {
    // The worker is slowed to once an hour: only the audit itself can book the credit.
    t = await createTestApp({ clock, env: { CASHBACK_WORKER_INTERVAL_MS: '3600000' } });
  });
  afterAll(async () => t.close());

  it('books cashbacks already due before its snapshot, so its total matches every balance read', async () => {
    const { accountId } = await createAccount(t, { initialDeposit: 10_000 });
    const paid = await request(t.app.getHttpServer())
      .post('/payments')
      .send({ accountId, amount: 5000 })
      .expect(201);
    const before = await audit(t);
    expect(before.body.totalBalance).toBe(5000);

    clock.set((paid.body as { cashbackDueAt: number }).cashbackDueAt);
    const after = await audit(t);
    expect(after.body).toMatchObject({ ok: true, totalBalance: 5100, entriesChecked: 3 });
    const [credit] = await t.sql<{ settled: boolean }>(
      `SELECT settled_at IS NOT NULL AS settled FROM scheduled_credits WHERE reference = $1`,
      [(paid.body as { paymentId: string }).paymentId],
    );
    expect(credit.settled).toBe(true);
    expect(await balanceOf(t, accountId)).toBe(5100);
  });

  it("checks each payment's cashback and refunds against its entries (issue #18)", async () => {
    const http = () => request(t.app.getHttpServer());
    const { accountId } = await createAccount(t, { initialDeposit: 10_000 });
    const paid = (await http().post('/payments').send({ accountId, amount: 5000 }).expect(201))
      .body as { paymentId: string; cashbackDueAt: number };
    await http().post(`/payments/${paid.paymentId}/refunds`).send({ amount: 1000 }).expect(201);
    clock.set(paid.cashbackDueAt);
    await http().post(`/payments/${paid.paymentId}/refunds`).send({ amount: 1000 }).expect(201);
    // Credited 80 (2 % of 4000), reversed 20: 60 = 2 % of the 3000 not refunded.
    const clean = await audit(t);
    expect(clean.body).toMatchObject({ ok: true, mismatches: [] });

    // Behind the service's back: a cashbackAmount that the entries do not explain.
    await t.sql(`UPDATE payments SET cashback_amount = 61 WHERE payment_id = $1`, [paid.paymentId]);
    const after = await audit(t);
    expect(after.body.ok).toBe(false);
    expect(after.body.mismatches).toEqual([
      {
        accountId,
        balance: 5000 + 1000 + 80 + 1000 - 20,
        ledgerSum: 5000 + 1000 + 80 + 1000 - 20,
        detail: `1 payments' cashback or refunds disagree with their entries (first: ${paid.paymentId})`,
      },
    ]);
    await t.sql(`UPDATE payments SET cashback_amount = 60 WHERE payment_id = $1`, [paid.paymentId]);
    expect((await audit(t)).body.ok).toBe(true);
  });
});
