import request from 'supertest';
import { createAccount } from '../support/factories';
import { ledgerViolations } from '../support/ledger-invariants';
import { createTestApp, ManualClock, TestApp } from '../support/test-app';

const MAX = Number.MAX_SAFE_INTEGER; // 9_007_199_254_740_991
const DAY = 86_400_000;

describe('a promised cashback always fits under the 2^53−1 balance limit', () => {
  let t: TestApp;
  const clock = new ManualClock(1_764_000_000_000);
  beforeAll(async () => {
    t = await createTestApp({
      clock,
      env: { CASHBACK_DELAY_MS: String(DAY), CASHBACK_WORKER_INTERVAL_MS: '3600000' },
    });
  });
  afterAll(async () => {
    await t?.close();
  });
  const http = () => request(t.app.getHttpServer());

  it('refuses credits that would leave no room for a pending cashback, then credits it', async () => {
    const a = await createAccount(t, { initialDeposit: 1e15 });
    const pay = await http()
      .post('/payments')
      .send({ accountId: a.accountId, amount: 1e15 })
      .expect(201);
    const cashback = pay.body.cashbackAmount as number;
    expect(cashback).toBe(2e13);

    for (let i = 0; i < 8; i++) {
      await http().post('/deposits').send({ accountId: a.accountId, amount: 1e15 }).expect(201);
    }
    const room = MAX - 8e15 - cashback;
    const tooMuch = await http()
      .post('/deposits')
      .send({ accountId: a.accountId, amount: room + 1 })
      .expect(422);
    expect(tooMuch.body.code).toBe('BALANCE_LIMIT_EXCEEDED');
    expect(tooMuch.body.detail).toContain('cashback');

    const other = await createAccount(t, { initialDeposit: 10 });
    const transferIn = await http()
      .post('/transfers')
      .send({ sourceAccountId: other.accountId, targetAccountId: a.accountId, amount: room + 1 })
      .expect(422);
    expect(['BALANCE_LIMIT_EXCEEDED', 'INSUFFICIENT_FUNDS']).toContain(transferIn.body.code);

    await http().post('/deposits').send({ accountId: a.accountId, amount: room }).expect(201);
    expect((await http().get(`/accounts/${a.accountId}`)).body.balance).toBe(MAX - cashback);

    clock.set(pay.body.cashbackDueAt as number);
    const after = await http().get(`/accounts/${a.accountId}/balance`).expect(200);
    expect(after.body.balance).toBe(MAX);
    const status = await http().get(`/payments/${pay.body.paymentId}`).expect(200);
    expect(status.body.status).toBe('CASHBACK_RECEIVED');

    const [row] = await t.sql(`SELECT pending_credits FROM accounts WHERE account_id = $1`, [
      a.accountId,
    ]);
    expect(row).toEqual({ pending_credits: '0' });
    expect(await ledgerViolations(t)).toEqual([]);
    expect((await http().get('/audit').expect(200)).body.ok).toBe(true);
  });

  it('the database itself refuses balance + pending credits above the limit', async () => {
    const a = await createAccount(t);
    await expect(
      t.sql(`UPDATE accounts SET balance = $2, pending_credits = 2 WHERE account_id = $1`, [
        a.accountId,
        MAX - 1,
      ]),
    ).rejects.toThrow(/chk_accounts_pending_credits/);
  });
});
