import request from 'supertest';
import { waitFor } from '../../scripts/lib/wait';
import { createAccount, pay } from '../support/factories';
import { expectLedgerConsistent } from '../support/ledger-invariants';
import { createTestApp, TestApp } from '../support/test-app';

jest.setTimeout(120_000);

/**
 * The real thing: the system clock, a cashback due about a second after the payment, and the
 * background worker as configured in production (every 200 ms here). Nothing but the worker
 * touches the account between the payment and the assertions, which read SQL directly.
 */
describe('cashback worker on the system clock', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      env: { CASHBACK_DELAY_MS: '1000', CASHBACK_WORKER_INTERVAL_MS: '200' },
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('credits the cashback at its due time without any request touching the account', async () => {
    const { accountId } = await createAccount(t, { initialDeposit: 10_000 });
    const p = await pay(t, accountId, 5000);
    expect(p.cashbackDueAt).toBe(p.timestamp + 1000);
    expect(p.cashbackAmount).toBe(100);

    const settledAt = async () => {
      const [row] = await t.sql<{ settled_at: string | null }>(
        `SELECT settled_at::text FROM scheduled_credits WHERE reference = $1`,
        [p.paymentId],
      );
      return row?.settled_at ?? null;
    };
    await waitFor(async () => (await settledAt()) !== null, {
      timeoutMs: 60_000,
      intervalMs: 100,
      what: `the worker to settle ${p.paymentId}`,
    });

    // Never early: settled at or after the due time, booked at exactly the due time.
    expect(Number(await settledAt())).toBeGreaterThanOrEqual(p.cashbackDueAt);
    const entries = await t.sql(
      `SELECT operation, amount::text, balance_after::text, timestamp::text, payment_ref
         FROM ledger_transactions WHERE account_id = $1 ORDER BY timestamp, transaction_id`,
      [accountId],
    );
    expect(entries.slice(1)).toEqual([
      {
        operation: 'PAYMENT',
        amount: '-5000',
        balance_after: '5000',
        timestamp: String(p.timestamp),
        payment_ref: p.paymentId,
      },
      {
        operation: 'CASHBACK',
        amount: '100',
        balance_after: '5100',
        timestamp: String(p.cashbackDueAt),
        payment_ref: p.paymentId,
      },
    ]);
    const [account] = await t.sql(
      `SELECT balance::text, next_credit_due_at FROM accounts WHERE account_id = $1`,
      [accountId],
    );
    expect(account).toEqual({ balance: '5100', next_credit_due_at: null });

    const got = await request(t.app.getHttpServer()).get(`/payments/${p.paymentId}`).expect(200);
    expect(got.body.status).toBe('CASHBACK_RECEIVED');
    await expectLedgerConsistent(t);
  });
});
