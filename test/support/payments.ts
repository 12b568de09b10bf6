import request from 'supertest';
import type { App } from 'supertest/types';
import { ScheduledCreditsWorker } from '../../src/ledger/scheduled-credits.worker';
import { ledgerViolations } from './factories';
import type { TestApp } from './test-app';

export interface PaymentBody {
  paymentId: string;
  transactionId: string;
  accountId: string;
  amount: number;
  cashbackAmount: number;
  cashbackDueAt: number;
  status: 'IN_PROGRESS' | 'CASHBACK_RECEIVED';
  timestamp: number;
  balance?: number;
}

export async function pay(t: TestApp, accountId: string, amount: number): Promise<PaymentBody> {
  const res = await request(t.app.getHttpServer() as App)
    .post('/payments')
    .send({ accountId, amount })
    .expect(201);
  return res.body as PaymentBody;
}

export function paymentNumber(paymentId: string): number {
  const match = /^payment(\d+)$/.exec(paymentId);
  if (!match) throw new Error(`not a payment id: ${paymentId}`);
  return Number(match[1]);
}

export function worker(t: TestApp): ScheduledCreditsWorker {
  return t.app.get(ScheduledCreditsWorker);
}

/** Runs a worker batch after batch until a run finds nothing due. */
export async function drain(t: TestApp): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    const run = await worker(t).runOnce();
    if (run.accounts === 0) return;
  }
  throw new Error('the cashback worker did not drain the due cashbacks');
}

/** Polls until `check` returns true or the deadline passes (no fixed sleeps). */
export async function waitFor(
  check: () => Promise<boolean>,
  { timeoutMs = 60_000, intervalMs = 50, what = 'condition' } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** CASHBACK entries per payment id, straight from the ledger. */
export async function cashbackEntryCounts(t: TestApp): Promise<Map<string, number>> {
  const rows = await t.sql<{ payment_ref: string; n: string }>(
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
