import type { App } from 'supertest/types';
import request from 'supertest';
import type { TestApp } from './test-app';

let sequence = 0;

/** A unique, valid account id for this test file. */
export function accountId(prefix = 'acc'): string {
  sequence += 1;
  return `${prefix}-${process.pid}-${sequence}-${Math.random().toString(36).slice(2, 8)}`;
}

export interface AccountBody {
  accountId: string;
  currency: string;
  balance: number;
  createdAt: number;
}

export async function createAccount(
  t: TestApp,
  body: { accountId?: string; currency?: string; initialDeposit?: number } = {},
): Promise<AccountBody> {
  const res = await request(t.app.getHttpServer() as App)
    .post('/accounts')
    .send({ accountId: accountId(), ...body })
    .expect(201);
  return res.body as AccountBody;
}

export async function balanceOf(t: TestApp, id: string): Promise<number> {
  const res = await request(t.app.getHttpServer() as App)
    .get(`/accounts/${id}/balance`)
    .expect(200);
  return (res.body as { balance: number }).balance;
}

/**
 * The ledger invariants of the contract, checked in SQL behind the API's back: per account,
 * entries in (timestamp, id) order chain balance_after = previous + amount, the id order
 * agrees with the history order, the last balance_after equals the balance, and the sum of
 * amounts equals the balance, and the cashback reservation equals what is still owed. Returns
 * the violations (empty when all hold).
 */
export async function ledgerViolations(t: TestApp): Promise<string[]> {
  const rows = await t.sql<{ account_id: string; problem: string }>(`
    WITH chain AS (
      SELECT account_id, transaction_id, amount, balance_after,
             LAG(balance_after, 1, 0::bigint) OVER w AS prev_after,
             LAG(transaction_id) OVER w AS prev_id
        FROM ledger_transactions
      WINDOW w AS (PARTITION BY account_id ORDER BY timestamp, transaction_id)
    )
    SELECT account_id, 'broken chain at entry ' || transaction_id AS problem
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
    SELECT account_id, 'negative balance' FROM accounts WHERE balance < 0
    UNION ALL
    SELECT a.account_id, 'pending_credits ' || a.pending_credits || ' <> owed ' || COALESCE(c.owed, 0)
      FROM accounts a
      LEFT JOIN (SELECT account_id, SUM(amount) AS owed FROM scheduled_credits
                  WHERE settled_at IS NULL GROUP BY 1) c USING (account_id)
     WHERE a.pending_credits <> COALESCE(c.owed, 0)`);
  return rows.map((r) => `${r.account_id}: ${r.problem}`);
}

/** Total money: the sum of all balances. */
export async function totalBalance(t: TestApp): Promise<number> {
  const [row] = await t.sql<{ total: string }>(
    `SELECT COALESCE(SUM(balance), 0)::text AS total FROM accounts`,
  );
  return Number(row?.total ?? 0);
}
