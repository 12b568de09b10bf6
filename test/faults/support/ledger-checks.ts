import type { Cluster } from './cluster';

/**
 * The ledger invariants of the contract, checked in SQL behind the API's back: no
 * half-applied transfer (each has exactly one TRANSFER_OUT and one TRANSFER_IN that cancel
 * out), every balance_after chain holds in history order, each balance equals the sum of its
 * entries and is never negative. Returns the violations (empty when all hold).
 */
export async function ledgerViolations(cluster: Cluster, database: string): Promise<string[]> {
  const rows = await cluster.query<{ problem: string }>(
    database,
    `WITH chain AS (
       SELECT account_id, transaction_id, amount, balance_after,
              LAG(balance_after, 1, 0::bigint) OVER w AS prev_after
         FROM ledger_transactions
       WINDOW w AS (PARTITION BY account_id ORDER BY timestamp, transaction_id)
     )
     SELECT 'half-applied transfer ' || movement_id AS problem
       FROM ledger_transactions
      WHERE operation IN ('TRANSFER_OUT', 'TRANSFER_IN')
      GROUP BY movement_id
     HAVING count(*) <> 2 OR sum(amount) <> 0 OR count(DISTINCT operation) <> 2
     UNION ALL
     SELECT 'broken balanceAfter chain at entry ' || transaction_id || ' of ' || account_id
       FROM chain WHERE balance_after <> prev_after + amount
     UNION ALL
     SELECT 'balance of ' || a.account_id || ' is ' || a.balance || ', ledger sum ' || COALESCE(s.total, 0)
       FROM accounts a
       LEFT JOIN (SELECT account_id, SUM(amount) AS total FROM ledger_transactions GROUP BY 1) s
         USING (account_id)
      WHERE a.balance <> COALESCE(s.total, 0)
     UNION ALL
     SELECT 'negative balance on ' || account_id FROM accounts WHERE balance < 0`,
  );
  return rows.map((r) => r.problem);
}

/** Sum of all balances. */
export async function totalBalance(cluster: Cluster, database: string): Promise<number> {
  const [row] = await cluster.query<{ total: string }>(
    database,
    `SELECT COALESCE(SUM(balance), 0)::text AS total FROM accounts`,
  );
  return Number(row?.total ?? 0);
}

export async function balances(cluster: Cluster, database: string): Promise<Map<string, number>> {
  const rows = await cluster.query<{ account_id: string; balance: string }>(
    database,
    `SELECT account_id, balance::text AS balance FROM accounts`,
  );
  return new Map(rows.map((r) => [r.account_id, Number(r.balance)]));
}
