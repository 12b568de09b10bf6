import request from 'supertest';
import { waitFor } from '../../scripts/lib/wait';
import { worker } from '../support/cashback-worker';
import { createAccount, pay, PaymentBody } from '../support/factories';
import { cashbackEntryCounts, expectLedgerConsistent } from '../support/ledger-invariants';
import { createTestApp, ManualClock, TestApp } from '../support/test-app';

const START = 1_763_700_000_000;

// Hundreds of requests and two app instances on a shared, slow machine.
jest.setTimeout(300_000);

interface Scenario {
  accounts: { accountId: string; initial: number }[];
  payments: PaymentBody[];
}

/**
 * Two instances of the service on one database, each with its own clock and its own worker
 * (both ticking every 200 ms, as in production), racing to settle the same cashbacks.
 */
describe('cashback settlement: exactly once across instances', () => {
  let a: TestApp;
  let b: TestApp;
  const clockA = new ManualClock(START);
  const clockB = new ManualClock(START);
  const setBoth = (ms: number) => {
    clockA.set(ms);
    clockB.set(ms);
  };

  beforeAll(async () => {
    a = await createTestApp({ clock: clockA });
    b = await createTestApp({ clock: clockB, database: a.database });
  });
  afterEach(async () => {
    await expectLedgerConsistent(a);
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  /** `perAccount` payments on each of `accountCount` new accounts, sent through both apps. */
  async function scenario(accountCount: number, perAccount: number): Promise<Scenario> {
    const accounts = [];
    for (let i = 0; i < accountCount; i++) {
      const initial = 1_000_000 + i;
      accounts.push({
        accountId: (await createAccount(a, { initialDeposit: initial })).accountId,
        initial,
      });
    }
    const payments: PaymentBody[] = [];
    for (let round = 0; round < perAccount; round++) {
      // Ten at a time: enough concurrency, gentle on a shared machine.
      for (let i = 0; i < accounts.length; i += 10) {
        const chunk = accounts.slice(i, i + 10);
        payments.push(
          ...(await Promise.all(
            chunk.map((acc, j) =>
              pay((i + j) % 2 === 0 ? a : b, acc.accountId, 1000 + 37 * round + j),
            ),
          )),
        );
      }
    }
    return { accounts, payments };
  }

  async function pendingOf(payments: PaymentBody[]): Promise<number> {
    const [row] = await a.sql<{ n: string }>(
      `SELECT count(*)::text AS n FROM scheduled_credits WHERE settled_at IS NULL AND reference = ANY($1)`,
      [payments.map((p) => p.paymentId)],
    );
    return Number(row.n);
  }

  /** Every cashback booked once, every balance exact. */
  async function expectCreditedOnce(s: Scenario, extra = new Map<string, number>()) {
    const counts = await cashbackEntryCounts(a);
    for (const p of s.payments) {
      expect([p.paymentId, counts.get(p.paymentId) ?? 0]).toEqual([
        p.paymentId,
        p.cashbackAmount > 0 ? 1 : 0,
      ]);
    }
    const rows = await a.sql<{ account_id: string; balance: string }>(
      `SELECT account_id, balance::text FROM accounts WHERE account_id = ANY($1)`,
      [s.accounts.map((x) => x.accountId)],
    );
    const actual = new Map(rows.map((r) => [r.account_id, Number(r.balance)]));
    for (const acc of s.accounts) {
      const mine = s.payments.filter((p) => p.accountId === acc.accountId);
      const expected =
        acc.initial +
        (extra.get(acc.accountId) ?? 0) -
        mine.reduce((sum, p) => sum + p.amount - p.cashbackAmount, 0);
      expect([acc.accountId, actual.get(acc.accountId)]).toEqual([acc.accountId, expected]);
    }
  }

  it('credits each of 200 due cashbacks once while two workers race for them', async () => {
    const s = await scenario(40, 5);
    expect(s.payments).toHaveLength(200);
    expect(await pendingOf(s.payments)).toBe(200);
    const due = Math.max(...s.payments.map((p) => p.cashbackDueAt));

    // Both scheduled workers may start now; drive both explicitly too, several batches at once.
    setBoth(due);
    await Promise.all(
      [a, b, a, b].map(async (app) => {
        for (let i = 0; i < 100; i++) {
          if ((await worker(app).runOnce()).accounts === 0) break;
        }
      }),
    );
    await waitFor(async () => (await pendingOf(s.payments)) === 0, { what: 'all settled' });
    await expectCreditedOnce(s);

    const statuses = await Promise.all(
      s.payments.map(async (p, i) => {
        const res = await request((i % 2 ? a : b).app.getHttpServer())
          .get(`/payments/${p.paymentId}`)
          .expect(200);
        return res.body.status as string;
      }),
    );
    expect(new Set(statuses)).toEqual(new Set(['CASHBACK_RECEIVED']));
  });

  it('credits once when settle-on-touch reads and movements race both workers', async () => {
    const s = await scenario(30, 2);
    const due = Math.max(...s.payments.map((p) => p.cashbackDueAt));
    setBoth(due + 1);
    const deposits = new Map<string, number>();
    const touches = s.accounts.flatMap(({ accountId }, i) => {
      const [x, y] = i % 2 ? [a, b] : [b, a];
      const paymentIds = s.payments.filter((p) => p.accountId === accountId);
      deposits.set(accountId, 3);
      return [
        request(x.app.getHttpServer()).get(`/accounts/${accountId}/balance`).expect(200),
        request(y.app.getHttpServer()).get(`/payments/${paymentIds[0].paymentId}`).expect(200),
        request(x.app.getHttpServer()).get(`/payments/${paymentIds[1].paymentId}`).expect(200),
        request(y.app.getHttpServer()).post('/deposits').send({ accountId, amount: 3 }).expect(201),
        request(x.app.getHttpServer()).get(`/accounts/${accountId}/transactions`).expect(200),
      ];
    });
    const [responses] = await Promise.all([
      Promise.all(touches),
      worker(a).runOnce(),
      worker(b).runOnce(),
      worker(a).runOnce(),
      worker(b).runOnce(),
    ]);

    // Every request started after the due time, so every one saw the credits.
    for (const res of responses) {
      const body = res.body as { status?: string; balance?: number; accountId?: string };
      if (body.status !== undefined) expect(body.status).toBe('CASHBACK_RECEIVED');
    }
    for (const acc of s.accounts) {
      const mine = s.payments.filter((p) => p.accountId === acc.accountId);
      const settled = acc.initial - mine.reduce((sum, p) => sum + p.amount - p.cashbackAmount, 0);
      const seen = responses
        .filter((r) => r.body.accountId === acc.accountId && r.body.at !== undefined)
        .map((r) => r.body.balance as number);
      expect(seen).toHaveLength(1);
      expect([settled, settled + 3]).toContain(seen[0]);
    }
    expect(await pendingOf(s.payments)).toBe(0);
    await expectCreditedOnce(s, deposits);
  });
});
