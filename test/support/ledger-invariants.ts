import request from 'supertest';
import type { App } from 'supertest/types';
import type { TestApp } from './test-app';

/** Plain SQL on one database, behind the API's back: a TestApp, or a fault test's cluster. */
export interface SqlTarget {
  sql<T extends Record<string, unknown> = Record<string, unknown>>(
    text: string,
    params?: unknown[],
  ): Promise<T[]>;
}

/**
 * The ledger invariants of the contract, checked in SQL: no half-applied transfer (exactly
 * one TRANSFER_OUT and one TRANSFER_IN that cancel out); per account, entries in (timestamp,
 * id) order chain balance_after = previous + amount and the id order agrees with the history
 * order; each balance equals the sum of its entries and is never below −overdraft_limit (nor its
 * available balance negative); the cashback reservation equals what is still owed; a reversal
 * has one opposite line per line of its original, and the reversals of a movement add up to at
 * most it; a payment's refunds add up to its refundedAmount (at most its amount), its
 * cashbackAmount is floor((amount − refundedAmount) × rate / 10000), and that is what its
 * credit still owes (pending) or what was credited net of reversals (settled). Returns the
 * violations (empty when all hold).
 */
export async function ledgerViolations(db: SqlTarget): Promise<string[]> {
  const rows = await db.sql<{ account_id: string; problem: string }>(`
    WITH chain AS (
      SELECT account_id, transaction_id, amount, balance_after,
             LAG(balance_after, 1, 0::bigint) OVER w AS prev_after,
             LAG(transaction_id) OVER w AS prev_id
        FROM ledger_transactions
      WINDOW w AS (PARTITION BY account_id ORDER BY timestamp, transaction_id)
    )
    SELECT min(account_id) AS account_id, 'half-applied transfer ' || movement_id AS problem
      FROM ledger_transactions
     WHERE operation IN ('TRANSFER_OUT', 'TRANSFER_IN')
     GROUP BY movement_id
    HAVING count(*) <> 2 OR sum(amount) <> 0 OR count(DISTINCT operation) <> 2
    UNION ALL
    SELECT account_id, 'broken chain at entry ' || transaction_id
      FROM chain WHERE balance_after <> prev_after + amount
    UNION ALL
    SELECT account_id, 'history order differs from posting order at ' || transaction_id
      FROM chain WHERE prev_id IS NOT NULL AND prev_id > transaction_id
    UNION ALL
    SELECT a.account_id, 'balance ' || a.balance || ' <> ledger sum ' || COALESCE(s.total, 0)
      FROM accounts a
      LEFT JOIN (SELECT account_id, SUM(amount) AS total FROM ledger_transactions GROUP BY 1) s
        USING (account_id)
     WHERE a.balance <> COALESCE(s.total, 0)
    UNION ALL
    SELECT account_id, 'balance below −overdraft_limit' FROM accounts
     WHERE balance < -overdraft_limit
    UNION ALL
    SELECT account_id, 'held_amount above what the account has' FROM accounts
     WHERE balance + overdraft_limit - held_amount < 0
    UNION ALL
    SELECT a.account_id, 'held_amount ' || a.held_amount || ' <> authorized holds ' || COALESCE(h.held, 0)
      FROM accounts a
      LEFT JOIN (SELECT account_id, SUM(amount) AS held FROM holds
                  WHERE status = 'AUTHORIZED' GROUP BY 1) h USING (account_id)
     WHERE a.held_amount <> COALESCE(h.held, 0)
    UNION ALL
    SELECT a.account_id, 'pending_credits ' || a.pending_credits || ' <> owed ' || COALESCE(c.owed, 0)
      FROM accounts a
      LEFT JOIN (SELECT account_id, SUM(amount) AS owed FROM scheduled_credits
                  WHERE settled_at IS NULL GROUP BY 1) c USING (account_id)
     WHERE a.pending_credits <> COALESCE(c.owed, 0)
    UNION ALL
    SELECT min(r.account_id), 'reversal ' || r.movement_id || ' does not mirror ' || min(r.reversed_transaction_id::text)
      FROM ledger_transactions r
      LEFT JOIN ledger_transactions o
        ON o.movement_id = r.reversed_transaction_id AND o.account_id = r.account_id
     WHERE r.operation = 'REVERSAL'
     GROUP BY r.movement_id
    HAVING count(DISTINCT r.reversed_transaction_id) <> 1
        OR count(o.*) <> count(*)
        OR bool_or(sign(o.amount) = sign(r.amount))
        OR count(*) <> (SELECT count(*) FROM ledger_transactions x
                         WHERE x.movement_id = min(r.reversed_transaction_id::text)::uuid)
        OR count(DISTINCT abs(r.amount)) <> 1
    UNION ALL
    SELECT o.account_id, 'movement ' || o.movement_id || ' reversed ' || s.reversed || ' of ' || abs(o.amount)
      FROM ledger_transactions o
      JOIN (SELECT reversed_transaction_id, account_id, SUM(abs(amount)) AS reversed
              FROM ledger_transactions WHERE operation = 'REVERSAL' GROUP BY 1, 2) s
        ON s.reversed_transaction_id = o.movement_id AND s.account_id = o.account_id
     WHERE s.reversed > abs(o.amount)
    UNION ALL
    SELECT p.account_id, 'payment ' || p.payment_id || ': refunded ' || p.refunded_amount
             || ', REFUND entries ' || s.refunded || ', cashback ' || p.cashback_amount
             || ', credit ' || c.amount || CASE WHEN c.settled_at IS NULL THEN ' pending' ELSE ' settled' END
             || ', credited net ' || s.credited
      FROM payments p
      JOIN scheduled_credits c ON c.reference = p.payment_id
      CROSS JOIN LATERAL (
             SELECT COALESCE(SUM(e.amount) FILTER (WHERE e.operation = 'REFUND'), 0) AS refunded,
                    COALESCE(SUM(e.amount) FILTER (
                      WHERE e.operation IN ('CASHBACK', 'CASHBACK_REVERSAL')), 0) AS credited
               FROM ledger_transactions e WHERE e.payment_ref = p.payment_id) s
     WHERE s.refunded <> p.refunded_amount
        OR p.refunded_amount > p.amount
        OR p.cashback_amount
           <> floor((p.amount - p.refunded_amount)::numeric * p.cashback_rate_bps / 10000)
        OR CASE WHEN c.settled_at IS NULL THEN c.amount ELSE s.credited END <> p.cashback_amount`);
  return rows.map((r) => `${r.account_id}: ${r.problem}`);
}

/** Total money: the sum of all balances. */
export async function totalBalance(db: SqlTarget): Promise<number> {
  const [row] = await db.sql<{ total: string }>(
    `SELECT COALESCE(SUM(balance), 0)::text AS total FROM accounts`,
  );
  return Number(row?.total ?? 0);
}

/** Every account's balance. */
export async function balances(db: SqlTarget): Promise<Map<string, number>> {
  const rows = await db.sql<{ account_id: string; balance: string }>(
    `SELECT account_id, balance::text AS balance FROM accounts`,
  );
  return new Map(rows.map((r) => [r.account_id, Number(r.balance)]));
}

/** CASHBACK entries per payment id, straight from the ledger. */
export async function cashbackEntryCounts(db: SqlTarget): Promise<Map<string, number>> {
  const rows = await db.sql<{ payment_ref: string; n: string }>(
    `SELECT payment_ref, count(*)::text AS n FROM ledger_transactions
      WHERE operation = 'CASHBACK' GROUP BY payment_ref`,
  );
  return new Map(rows.map((r) => [r.payment_ref, Number(r.n)]));
}

/** The contract's ledger invariants, checked in SQL and through GET /audit. */
export async function expectLedgerConsistent(t: TestApp): Promise<void> {
  expect(await ledgerViolations(t)).toEqual([]);
  const audit = await request(t.app.getHttpServer() as App)
    .get('/audit')
    .expect(200);
  expect(audit.body).toMatchObject({ ok: true, mismatches: [] });
  // next_credit_due_at is exactly the earliest pending due time (NULL when none).
  const stale = await t.sql(
    `SELECT a.account_id, a.next_credit_due_at, p.next_due
       FROM accounts a
       LEFT JOIN (SELECT account_id, min(due_at) AS next_due FROM scheduled_credits
                   WHERE settled_at IS NULL GROUP BY account_id) p USING (account_id)
      WHERE a.next_credit_due_at IS DISTINCT FROM p.next_due`,
  );
  expect(stale).toEqual([]);
  // A settled cashback has its entry (unless it was 0), a pending one has none.
  const broken = await t.sql(
    `SELECT c.reference AS payment_id, c.amount, c.settled_at, c.movement_id, count(e.*) AS entries
       FROM scheduled_credits c
       LEFT JOIN ledger_transactions e
         ON e.payment_ref = c.reference AND e.operation = 'CASHBACK'
      GROUP BY c.reference
     HAVING count(e.*) <> CASE WHEN c.settled_at IS NOT NULL AND c.amount > 0 THEN 1 ELSE 0 END
         OR (c.amount > 0 AND c.settled_at IS NOT NULL AND c.movement_id IS NULL)
         OR bool_or(e.timestamp <> c.due_at OR e.amount <> c.amount OR e.movement_id <> c.movement_id)`,
  );
  expect(broken).toEqual([]);
}
