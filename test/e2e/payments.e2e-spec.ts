import request from 'supertest';
import { drain, worker } from '../support/cashback-worker';
import {
  accountId,
  balanceOf,
  createAccount,
  pay,
  PaymentBody,
  paymentNumber,
} from '../support/factories';
import { cashbackEntryCounts } from '../support/ledger-invariants';
import { ManualClock, TestApp, useLedgerTestApp } from '../support/test-app';

const PROBLEM = /application\/problem\+json/;
const DAY = 86_400_000;

// Generous: parallel requests on a shared, slow machine.
jest.setTimeout(120_000);

/**
 * Payments with the default rule (2 %, due 24 h later) and a hand-moved clock. The background
 * worker is slowed to once an hour here, so what these tests see is settle-on-touch, unless a
 * test runs a worker batch itself.
 */
describe('payments', () => {
  const clock = new ManualClock(1_763_700_000_000);
  const app = useLedgerTestApp(clock);
  let t: TestApp;
  beforeAll(() => (t = app()));
  const http = () => request(t.app.getHttpServer());

  const entriesOf = async (id: string) =>
    (await http().get(`/accounts/${id}/transactions`).query({ limit: 500 }).expect(200)).body
      .data as {
      type: string;
      amount: number;
      balanceAfter: number;
      timestamp: number;
      paymentId: string | null;
      transactionId: string;
    }[];

  describe('POST /payments', () => {
    it('debits the account, books a PAYMENT entry and schedules a 2 % cashback in 24 h', async () => {
      clock.advance(1000);
      const { accountId: id } = await createAccount(t, { initialDeposit: 10_000 });
      const res = await http().post('/payments').send({ accountId: id, amount: 1234 }).expect(201);
      expect(res.body).toEqual({
        paymentId: expect.stringMatching(/^payment[1-9][0-9]*$/),
        transactionId: expect.any(String),
        accountId: id,
        amount: 1234,
        refundedAmount: 0,
        cashbackAmount: 24,
        cashbackRateBps: 200,
        cashbackDueAt: clock.now() + DAY,
        status: 'IN_PROGRESS',
        timestamp: clock.now(),
        balance: 10_000 - 1234,
      });
      expect(await balanceOf(t, id)).toBe(8766);
      const entries = await entriesOf(id);
      expect(entries[1]).toMatchObject({
        type: 'PAYMENT',
        amount: -1234,
        balanceAfter: 8766,
        timestamp: clock.now(),
        paymentId: res.body.paymentId,
        transactionId: res.body.transactionId,
      });
      const movement = await http().get(`/transactions/${res.body.transactionId}`).expect(200);
      expect(movement.body).toMatchObject({ type: 'PAYMENT', timestamp: clock.now() });

      const got = await http().get(`/payments/${res.body.paymentId}`).expect(200);
      const payment: Partial<PaymentBody> = { ...res.body };
      delete payment.balance;
      expect(got.body).toEqual(payment);
    });

    it('refuses an overdraft with 422 INSUFFICIENT_FUNDS, records nothing and consumes no id', async () => {
      const { accountId: id } = await createAccount(t, { initialDeposit: 500 });
      const first = await pay(t, id, 100);
      const res = await http().post('/payments').send({ accountId: id, amount: 401 }).expect(422);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body).toMatchObject({
        status: 422,
        code: 'INSUFFICIENT_FUNDS',
        detail: `Account ${id} has 400, needs 401.`,
      });
      const payments = await t.sql(`SELECT payment_id FROM payments WHERE account_id = $1`, [id]);
      expect(payments).toHaveLength(1);
      expect(await balanceOf(t, id)).toBe(400);
      const next = await pay(t, id, 400);
      expect(paymentNumber(next.paymentId)).toBe(paymentNumber(first.paymentId) + 1);
      expect(next.balance).toBe(0);
    });

    it('answers 404 ACCOUNT_NOT_FOUND for an unknown account and consumes no id', async () => {
      const { accountId: id } = await createAccount(t, { initialDeposit: 500 });
      const before = await pay(t, id, 1);
      const res = await http()
        .post('/payments')
        .send({ accountId: accountId('ghost'), amount: 10 })
        .expect(404);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body.code).toBe('ACCOUNT_NOT_FOUND');
      const after = await pay(t, id, 1);
      expect(paymentNumber(after.paymentId)).toBe(paymentNumber(before.paymentId) + 1);
    });

    it.each([
      ['a string amount', { amount: '100' }, 'amount'],
      ['a fractional amount', { amount: 10.5 }, 'amount'],
      ['amount 0', { amount: 0 }, 'amount'],
      ['a negative amount', { amount: -5 }, 'amount'],
      ['a null amount', { amount: null }, 'amount'],
      ['an amount above 10^15', { amount: 1e15 + 1 }, 'amount'],
      ['a missing amount', { amount: undefined }, 'amount'],
      ['an invalid account id', { accountId: 'bad id' }, 'accountId'],
      ['a numeric account id', { accountId: 42 }, 'accountId'],
      ['an unknown field', { cashbackAmount: 100 }, 'cashbackAmount'],
    ])('rejects %s with 400 VALIDATION_FAILED and changes nothing', async (_name, patch, field) => {
      const { accountId: id } = await createAccount(t, { initialDeposit: 1000 });
      const res = await http()
        .post('/payments')
        .send({ accountId: id, amount: 100, ...patch })
        .expect(400);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
      expect(await balanceOf(t, id)).toBe(1000);
      expect(await t.sql(`SELECT 1 FROM payments WHERE account_id = $1`, [id])).toEqual([]);
    });

    it('rejects a body that is not JSON with 400 MALFORMED_JSON', async () => {
      const res = await http()
        .post('/payments')
        .set('Content-Type', 'application/json')
        .send('{"accountId": "a", "amount": ')
        .expect(400);
      expect(res.body.code).toBe('MALFORMED_JSON');
    });

    it('gives 20 parallel payments on one account unique ids rising in commit order', async () => {
      const { accountId: id } = await createAccount(t, { initialDeposit: 100_000 });
      const results = await Promise.all(
        Array.from({ length: 20 }, () =>
          http().post('/payments').send({ accountId: id, amount: 1000 }),
        ),
      );
      expect(results.map((r) => r.status)).toEqual(Array(20).fill(201));
      const bodies = results.map((r) => r.body as Required<PaymentBody>);
      expect(new Set(bodies.map((b) => b.paymentId)).size).toBe(20);
      // Each payment saw the balance its predecessors left: commit order = falling balance.
      const byCommitOrder = [...bodies].sort((a, b) => b.balance - a.balance);
      expect(byCommitOrder.map((b) => b.balance)).toEqual(
        Array.from({ length: 20 }, (_, i) => 100_000 - 1000 * (i + 1)),
      );
      const numbers = byCommitOrder.map((b) => paymentNumber(b.paymentId));
      expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
      // The ledger agrees: PAYMENT entries in history order carry rising payment numbers.
      const ledgerOrder = (await entriesOf(id))
        .filter((e) => e.type === 'PAYMENT')
        .map((e) => paymentNumber(e.paymentId!));
      expect(ledgerOrder).toEqual(numbers);
      expect(await balanceOf(t, id)).toBe(80_000);
    });

    it('lets exactly the affordable share of 20 racing payments through, drawing no spare ids', async () => {
      const { accountId: id } = await createAccount(t, { initialDeposit: 10_000 });
      const results = await Promise.all(
        Array.from({ length: 20 }, () =>
          http().post('/payments').send({ accountId: id, amount: 1000 }),
        ),
      );
      const ok = results.filter((r) => r.status === 201);
      const refused = results.filter((r) => r.status === 422);
      expect(ok).toHaveLength(10);
      expect(refused).toHaveLength(10);
      refused.forEach((r) => expect(r.body.code).toBe('INSUFFICIENT_FUNDS'));
      expect(await balanceOf(t, id)).toBe(0);
      const numbers = ok.map((r) => paymentNumber(r.body.paymentId)).sort((a, b) => a - b);
      // Nothing else pays meanwhile in this file, so the ten drawn numbers are consecutive.
      expect(numbers[9] - numbers[0]).toBe(9);
    });
  });

  describe('GET /payments/{paymentId}', () => {
    it.each([
      ['an unknown id', 'payment999999999'],
      ['payment0', 'payment0'],
      ['a leading zero', 'payment01'],
      ['a non-payment id', 'abc'],
      ['a huge number', `payment${'9'.repeat(40)}`],
      ['an id with SQL in it', "payment1' OR '1'='1"],
    ])('answers 404 PAYMENT_NOT_FOUND for %s', async (_name, paymentId) => {
      const res = await http()
        .get(`/payments/${encodeURIComponent(paymentId)}`)
        .expect(404);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body).toMatchObject({ status: 404, code: 'PAYMENT_NOT_FOUND' });
    });
  });

  describe('cashback settlement', () => {
    it('credits nothing before the due time, then exactly once at it, at cashbackDueAt', async () => {
      const { accountId: id } = await createAccount(t, { initialDeposit: 10_000 });
      const p = await pay(t, id, 5000);
      expect(p.cashbackAmount).toBe(100);

      clock.set(p.cashbackDueAt - 1);
      await drain(t);
      expect((await http().get(`/payments/${p.paymentId}`).expect(200)).body.status).toBe(
        'IN_PROGRESS',
      );
      expect(await balanceOf(t, id)).toBe(5000);
      expect((await entriesOf(id)).map((e) => e.type)).toEqual(['DEPOSIT', 'PAYMENT']);

      clock.set(p.cashbackDueAt);
      const got = await http().get(`/payments/${p.paymentId}`).expect(200);
      expect(got.body).toMatchObject({ paymentId: p.paymentId, status: 'CASHBACK_RECEIVED' });
      expect(await balanceOf(t, id)).toBe(5100);
      clock.advance(DAY);
      await drain(t);
      await http().get(`/payments/${p.paymentId}`).expect(200);
      expect(await balanceOf(t, id)).toBe(5100);

      const entries = await entriesOf(id);
      expect(entries.map((e) => e.type)).toEqual(['DEPOSIT', 'PAYMENT', 'CASHBACK']);
      const cashback = entries[2];
      expect(cashback).toMatchObject({
        amount: 100,
        balanceAfter: 5100,
        timestamp: p.cashbackDueAt,
        paymentId: p.paymentId,
      });
      const movement = await http().get(`/transactions/${cashback.transactionId}`).expect(200);
      expect(movement.body).toMatchObject({ type: 'CASHBACK', timestamp: p.cashbackDueAt });
      expect((await cashbackEntryCounts(t)).get(p.paymentId)).toBe(1);
    });

    it.each([
      ['GET /accounts/{id}/balance', (id: string) => `/accounts/${id}/balance`],
      ['GET /accounts/{id}', (id: string) => `/accounts/${id}`],
      ['GET /accounts/{id}/transactions', (id: string) => `/accounts/${id}/transactions`],
    ])('settles on touch: the first %s after the due time sees the credit', async (_n, path) => {
      const { accountId: id } = await createAccount(t, { initialDeposit: 1000 });
      const p = await pay(t, id, 1000);
      clock.set(p.cashbackDueAt + 1);
      const res = await http().get(path(id)).expect(200);
      const body = res.body as { balance?: number; data?: { type: string }[] };
      if (body.data) expect(body.data.map((e) => e.type)).toContain('CASHBACK');
      else expect(body.balance).toBe(20);
      expect(await balanceOf(t, id)).toBe(20);
    });

    it('settles before a movement checks its rules: a withdrawal may spend the cashback', async () => {
      const { accountId: id } = await createAccount(t, { initialDeposit: 1000 });
      const p = await pay(t, id, 1000);
      clock.set(p.cashbackDueAt + 5);
      const res = await http().post('/withdrawals').send({ accountId: id, amount: 20 }).expect(201);
      expect(res.body.balance).toBe(0);
      const entries = await entriesOf(id);
      expect(entries.map((e) => [e.type, e.amount, e.balanceAfter, e.timestamp])).toEqual([
        ['DEPOSIT', 1000, 1000, p.timestamp],
        ['PAYMENT', -1000, 0, p.timestamp],
        ['CASHBACK', 20, 20, p.cashbackDueAt],
        ['WITHDRAWAL', -20, 0, p.cashbackDueAt + 5],
      ]);
      expect((await http().get(`/payments/${p.paymentId}`).expect(200)).body.status).toBe(
        'CASHBACK_RECEIVED',
      );
    });

    it('settles both sides of a transfer first, and the payment on the target too', async () => {
      const { accountId: a } = await createAccount(t, { initialDeposit: 1000 });
      const { accountId: b } = await createAccount(t, { initialDeposit: 1000 });
      const pa = await pay(t, a, 1000);
      const pb = await pay(t, b, 500);
      clock.set(pb.cashbackDueAt + 1);
      const res = await http()
        .post('/transfers')
        .send({ sourceAccountId: a, targetAccountId: b, amount: 20 })
        .expect(201);
      expect(res.body).toMatchObject({ sourceBalance: 0, targetBalance: 500 + 10 + 20 });
      expect((await entriesOf(b)).map((e) => e.type)).toEqual([
        'DEPOSIT',
        'PAYMENT',
        'CASHBACK',
        'TRANSFER_IN',
      ]);
      for (const p of [pa, pb]) {
        expect((await http().get(`/payments/${p.paymentId}`).expect(200)).body.status).toBe(
          'CASHBACK_RECEIVED',
        );
      }
    });

    it('keeps the balanceAfter chain when entries were booked between payment and due time', async () => {
      const { accountId: id } = await createAccount(t, { initialDeposit: 10_000 });
      const p1 = await pay(t, id, 5000); // cashback 100
      clock.advance(DAY / 2);
      await http().post('/deposits').send({ accountId: id, amount: 7 }).expect(201);
      const p2 = await pay(t, id, 2500); // cashback 50, due half a day after p1's
      clock.set(p1.cashbackDueAt + 1);
      await http().post('/deposits').send({ accountId: id, amount: 3 }).expect(201);
      const row = await t.sql<{ next: string }>(
        `SELECT next_credit_due_at::text AS next FROM accounts WHERE account_id = $1`,
        [id],
      );
      expect(row[0].next).toBe(String(p2.cashbackDueAt));
      clock.set(p2.cashbackDueAt);
      expect(await balanceOf(t, id)).toBe(10_000 - 5000 + 7 - 2500 + 100 + 3 + 50);
      const entries = await entriesOf(id);
      expect(entries.map((e) => [e.type, e.timestamp, e.balanceAfter])).toEqual([
        ['DEPOSIT', p1.timestamp, 10_000],
        ['PAYMENT', p1.timestamp, 5000],
        ['DEPOSIT', p2.timestamp, 5007],
        ['PAYMENT', p2.timestamp, 2507],
        ['CASHBACK', p1.cashbackDueAt, 2607],
        ['DEPOSIT', p1.cashbackDueAt + 1, 2610],
        ['CASHBACK', p2.cashbackDueAt, 2660],
      ]);
    });

    it('credits several cashbacks due at the same moment in payment order', async () => {
      const { accountId: id } = await createAccount(t, { initialDeposit: 100_000 });
      clock.advance(10);
      const ps: PaymentBody[] = [];
      for (const amount of [1000, 2000, 3000]) ps.push(await pay(t, id, amount));
      clock.set(ps[0].cashbackDueAt);
      await drain(t);
      const cashbacks = (await entriesOf(id)).filter((e) => e.type === 'CASHBACK');
      expect(cashbacks.map((e) => [e.paymentId, e.amount, e.timestamp])).toEqual(
        ps.map((p) => [p.paymentId, p.cashbackAmount, p.cashbackDueAt]),
      );
      expect(await balanceOf(t, id)).toBe(100_000 - 6000 + 120);
    });

    it('completes a cashback that rounds to 0 at its due time without booking an entry', async () => {
      const { accountId: id } = await createAccount(t, { initialDeposit: 100 });
      const p = await pay(t, id, 49);
      expect(p.cashbackAmount).toBe(0);
      expect((await http().get(`/payments/${p.paymentId}`).expect(200)).body.status).toBe(
        'IN_PROGRESS',
      );
      clock.set(p.cashbackDueAt);
      expect((await http().get(`/payments/${p.paymentId}`).expect(200)).body).toMatchObject({
        status: 'CASHBACK_RECEIVED',
        cashbackAmount: 0,
      });
      expect((await entriesOf(id)).map((e) => e.type)).toEqual(['DEPOSIT', 'PAYMENT']);
      expect(await balanceOf(t, id)).toBe(51);
      const [row] = await t.sql(
        `SELECT c.settled_at IS NOT NULL AS settled, c.movement_id, a.next_credit_due_at
           FROM scheduled_credits c JOIN accounts a USING (account_id) WHERE c.reference = $1`,
        [p.paymentId],
      );
      expect(row).toEqual({ settled: true, movement_id: null, next_credit_due_at: null });
    });

    it('is settled by the worker without any request touching the account', async () => {
      const { accountId: id } = await createAccount(t, { initialDeposit: 1000 });
      const p = await pay(t, id, 1000);
      clock.set(p.cashbackDueAt);
      expect(await worker(t).runOnce()).toEqual({ accounts: 1 });
      expect(await worker(t).runOnce()).toEqual({ accounts: 0 });
      const [row] = await t.sql<{ balance: string }>(
        `SELECT balance FROM accounts WHERE account_id = $1`,
        [id],
      );
      expect(row.balance).toBe('20');
    });
  });

  describe('OpenAPI', () => {
    it('documents both payment routes with their success and error responses', async () => {
      const doc = (await http().get('/docs-json').expect(200)).body;
      const post = doc.paths['/payments']?.post;
      const get = doc.paths['/payments/{paymentId}']?.get;
      expect(Object.keys(post.responses)).toEqual(
        expect.arrayContaining(['201', '400', '404', '422']),
      );
      expect(Object.keys(get.responses)).toEqual(expect.arrayContaining(['200', '404']));
      const created = doc.components.schemas.PaymentCreatedDto;
      expect(Object.keys(created.properties).sort()).toEqual(
        [
          'paymentId',
          'transactionId',
          'accountId',
          'amount',
          'refundedAmount',
          'cashbackAmount',
          'cashbackRateBps',
          'cashbackDueAt',
          'status',
          'timestamp',
          'balance',
        ].sort(),
      );
      expect(created.properties.status.enum).toEqual([
        'IN_PROGRESS',
        'CASHBACK_RECEIVED',
        'REFUNDED',
      ]);
    });
  });
});
