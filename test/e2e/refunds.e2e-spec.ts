import request from 'supertest';
import type { LedgerEntryDto as Entry } from '../../src/ledger/dto/ledger-entry.dto';
import { drain } from '../support/cashback-worker';
import { balanceOf, createAccount, pay } from '../support/factories';
import { expectLedgerConsistent } from '../support/ledger-invariants';
import { createTestApp, ManualClock, TestApp, useLedgerTestApp } from '../support/test-app';

const PROBLEM = /application\/problem\+json/;

// Generous: parallel requests on a shared, slow machine.
jest.setTimeout(120_000);

/**
 * A POST under an Idempotency-Key when one is given; an undefined body sends no body at all,
 * a request distinct from one with `{}`.
 */
function post(t: TestApp, path: string, body?: object, key?: string) {
  const req = request(t.app.getHttpServer()).post(path);
  if (key) void req.set('Idempotency-Key', key);
  return body === undefined ? req : req.send(body);
}

/**
 * POST /payments/{paymentId}/refunds, with the default rule (2 %, due 24 h later) and a
 * hand-moved clock; the background worker is slowed to once an hour, so a test settles
 * cashbacks itself (drain) or by touching the account. Every test ends with the ledger
 * invariants and GET /audit, which also checks each payment's cashback against its entries.
 */
describe('refunds', () => {
  const clock = new ManualClock(1_763_700_000_000);
  const app = useLedgerTestApp(clock);
  let t: TestApp;
  beforeAll(() => (t = app()));
  const http = () => request(t.app.getHttpServer());
  const refund = (paymentId: string, body?: object, key?: string) =>
    post(t, `/payments/${paymentId}/refunds`, body, key);
  const entriesOf = async (id: string): Promise<Entry[]> =>
    (await http().get(`/accounts/${id}/transactions`).query({ limit: 500 }).expect(200)).body
      .data as Entry[];
  /** An account with 10000 that paid 10000: cashback 200 due a day later. */
  const paid = async () => {
    const account = await createAccount(t, { initialDeposit: 10_000 });
    const payment = await pay(t, account.accountId, 10_000);
    return { accountId: account.accountId, payment };
  };

  describe('before the cashback is due', () => {
    it('credits a REFUND entry and shrinks the pending cashback (cashbackAdjustment 0)', async () => {
      clock.advance(1000);
      const { accountId, payment } = await paid();
      clock.advance(1000);
      const res = await refund(payment.paymentId, { amount: 4000 }).expect(201);
      expect(res.body).toEqual({
        refundId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        paymentId: payment.paymentId,
        transactionId: expect.any(String),
        amount: 4000,
        cashbackAdjustment: 0,
        balance: 4000,
        payment: {
          ...payment,
          balance: undefined,
          refundedAmount: 4000,
          cashbackAmount: 120,
          cashbackRateBps: 200,
          status: 'IN_PROGRESS',
        },
      });
      const entries = await entriesOf(accountId);
      expect(entries.at(-1)).toEqual({
        entryId: expect.any(String),
        transactionId: res.body.transactionId,
        accountId,
        type: 'REFUND',
        amount: 4000,
        balanceAfter: 4000,
        timestamp: clock.now(),
        counterpartyAccountId: null,
        paymentId: payment.paymentId,
        reversedTransactionId: null,
      });
      const tx = await http().get(`/transactions/${res.body.transactionId}`).expect(200);
      expect(tx.body).toMatchObject({ type: 'REFUND', reversedAmount: 0 });

      // At the due time the shrunk cashback is what is credited.
      clock.set(payment.cashbackDueAt);
      const after = await http().get(`/payments/${payment.paymentId}`).expect(200);
      expect(after.body).toMatchObject({
        status: 'CASHBACK_RECEIVED',
        refundedAmount: 4000,
        cashbackAmount: 120,
      });
      const cashback = (await entriesOf(accountId)).filter((e) => e.type === 'CASHBACK');
      expect(cashback.map((e) => [e.amount, e.timestamp])).toEqual([[120, payment.cashbackDueAt]]);
      expect(await balanceOf(t, accountId)).toBe(4120);
    });

    it('refunds all that is left without a body, is REFUNDED and never credits the cashback', async () => {
      clock.advance(1000);
      const { accountId, payment } = await paid();
      await refund(payment.paymentId, { amount: 1000 }).expect(201);
      const res = await refund(payment.paymentId).expect(201);
      expect(res.body).toMatchObject({
        amount: 9000,
        cashbackAdjustment: 0,
        balance: 10_000,
        payment: { refundedAmount: 10_000, cashbackAmount: 0, status: 'REFUNDED' },
      });
      clock.set(payment.cashbackDueAt + 1);
      await drain(t);
      const got = await http().get(`/payments/${payment.paymentId}`).expect(200);
      expect(got.body).toMatchObject({ status: 'REFUNDED', cashbackAmount: 0 });
      expect((await entriesOf(accountId)).map((e) => e.type)).toEqual([
        'DEPOSIT',
        'PAYMENT',
        'REFUND',
        'REFUND',
      ]);
      expect(await balanceOf(t, accountId)).toBe(10_000);
    });

    it('an empty object also refunds all that is left', async () => {
      clock.advance(1000);
      const { payment } = await paid();
      const res = await refund(payment.paymentId, {}).expect(201);
      expect(res.body).toMatchObject({ amount: 10_000, payment: { status: 'REFUNDED' } });
    });
  });

  describe('after the cashback was credited', () => {
    it('books REFUND and CASHBACK_REVERSAL of the difference in one transaction', async () => {
      clock.advance(1000);
      const { accountId, payment } = await paid();
      clock.set(payment.cashbackDueAt + 5);
      await drain(t);
      expect(await balanceOf(t, accountId)).toBe(200);
      const res = await refund(payment.paymentId, { amount: 2550 }).expect(201);
      // floor(7450 × 2 %) = 149: 51 of the 200 credited go back.
      expect(res.body).toMatchObject({
        amount: 2550,
        cashbackAdjustment: 51,
        balance: 200 + 2550 - 51,
        payment: { refundedAmount: 2550, cashbackAmount: 149, status: 'CASHBACK_RECEIVED' },
      });
      const tx = await http().get(`/transactions/${res.body.transactionId}`).expect(200);
      expect(tx.body.type).toBe('REFUND');
      expect(
        (tx.body.entries as Entry[]).map((e) => [e.type, e.amount, e.balanceAfter, e.paymentId]),
      ).toEqual([
        ['REFUND', 2550, 2750, payment.paymentId],
        ['CASHBACK_REVERSAL', -51, 2699, payment.paymentId],
      ]);
    });

    it('a refund after the due time settles the cashback first (settle-on-touch), then reverses', async () => {
      clock.advance(1000);
      const { accountId, payment } = await paid();
      clock.set(payment.cashbackDueAt);
      const res = await refund(payment.paymentId).expect(201);
      expect(res.body).toMatchObject({
        amount: 10_000,
        cashbackAdjustment: 200,
        balance: 10_000,
        payment: { refundedAmount: 10_000, cashbackAmount: 0, status: 'REFUNDED' },
      });
      expect((await entriesOf(accountId)).map((e) => [e.type, e.amount])).toEqual([
        ['DEPOSIT', 10_000],
        ['PAYMENT', -10_000],
        ['CASHBACK', 200],
        ['REFUND', 10_000],
        ['CASHBACK_REVERSAL', -200],
      ]);
    });

    it('never fails for funds: the cashback reversal is covered by the refund', async () => {
      clock.advance(1000);
      const { accountId, payment } = await paid();
      clock.set(payment.cashbackDueAt + 1);
      await drain(t);
      await http().post('/withdrawals').send({ accountId, amount: 200 }).expect(201);
      const res = await refund(payment.paymentId, { amount: 1 }).expect(201);
      // floor(9999 × 2 %) = 199: the whole refund of 1 goes back as the reversal of 1.
      expect(res.body).toMatchObject({ amount: 1, cashbackAdjustment: 1, balance: 0 });
    });
  });

  describe('errors', () => {
    it('404 PAYMENT_NOT_FOUND for an unknown or malformed id', async () => {
      for (const id of ['payment999999999', 'nope', 'payment01']) {
        const res = await refund(id, { amount: 1 }).expect(404).expect('content-type', PROBLEM);
        expect(res.body).toMatchObject({ code: 'PAYMENT_NOT_FOUND', status: 404 });
      }
    });

    it('409 PAYMENT_FULLY_REFUNDED, 422 REFUND_EXCEEDS_PAYMENT; nothing changes', async () => {
      clock.advance(1000);
      const { accountId, payment } = await paid();
      const over = await refund(payment.paymentId, { amount: 10_001 }).expect(422);
      expect(over.body).toMatchObject({
        code: 'REFUND_EXCEEDS_PAYMENT',
        detail: `Payment ${payment.paymentId} has 10000 left to refund, not 10001.`,
      });
      await refund(payment.paymentId, { amount: 10_000 }).expect(201);
      for (const body of [{ amount: 1 }, {}]) {
        const done = await refund(payment.paymentId, body).expect(409);
        expect(done.body).toMatchObject({ code: 'PAYMENT_FULLY_REFUNDED', status: 409 });
      }
      expect(await balanceOf(t, accountId)).toBe(10_000);
    });

    it('400 for a bad amount (0, negative, fraction, string, null) or an unknown field', async () => {
      clock.advance(1000);
      const { accountId, payment } = await paid();
      for (const body of [
        { amount: 0 },
        { amount: -5 },
        { amount: 1.5 },
        { amount: '100' },
        { amount: null },
        { amount: 1, accountId },
      ]) {
        const res = await refund(payment.paymentId, body).expect(400);
        expect(res.body.code).toBe('VALIDATION_FAILED');
      }
      expect(await balanceOf(t, accountId)).toBe(0);
    });

    it('422 BALANCE_LIMIT_EXCEEDED when the refund would take the balance over 2^53−1', async () => {
      clock.advance(1000);
      const { accountId, payment } = await paid();
      // Balance 0 and 200 promised: top up to 2^53−1 − 200 − 5000, leaving room for 5000.
      for (let i = 0; i < 9; i++) {
        await http()
          .post('/deposits')
          .send({ accountId, amount: 1_000_000_000_000_000 })
          .expect(201);
      }
      await http().post('/deposits').send({ accountId, amount: 7_199_254_735_791 }).expect(201);
      const balance = await balanceOf(t, accountId);
      expect(balance).toBe(Number.MAX_SAFE_INTEGER - 5200);
      // The shrunk cashback frees its room: 5104 + floor(4896 × 2 %) = 5201 is 1 too many ...
      const res = await refund(payment.paymentId, { amount: 5104 }).expect(422);
      expect(res.body.code).toBe('BALANCE_LIMIT_EXCEEDED');
      expect(await balanceOf(t, accountId)).toBe(balance);
      // ... and 5103 + 97 fits exactly.
      const fits = await refund(payment.paymentId, { amount: 5103 }).expect(201);
      expect(fits.body).toMatchObject({
        balance: Number.MAX_SAFE_INTEGER - 97,
        payment: { cashbackAmount: 97 },
      });
    });
  });

  describe('with account controls', () => {
    it('a frozen account still takes a refund after the due time, its cashback reversal included', async () => {
      clock.advance(1000);
      const { accountId, payment } = await paid();
      clock.set(payment.cashbackDueAt + 1);
      await drain(t);
      await http().post(`/accounts/${accountId}/freeze`).expect(200);
      const res = await refund(payment.paymentId, { amount: 5000 }).expect(201);
      expect(res.body).toMatchObject({ cashbackAdjustment: 100, balance: 200 + 5000 - 100 });
      await http().post(`/accounts/${accountId}/unfreeze`).expect(200);
    });

    it('a closed account takes no refund: 422 ACCOUNT_CLOSED', async () => {
      clock.advance(1000);
      const { accountId, payment } = await paid();
      // Only an empty account closes: the cashback credited, then taken out.
      clock.set(payment.cashbackDueAt + 1);
      await drain(t);
      await http().post('/withdrawals').send({ accountId, amount: 200 }).expect(201);
      await http().post(`/accounts/${accountId}/close`).expect(200);
      const res = await refund(payment.paymentId, { amount: 1 }).expect(422);
      expect(res.body.code).toBe('ACCOUNT_CLOSED');
      const got = await http().get(`/payments/${payment.paymentId}`).expect(200);
      expect(got.body.refundedAmount).toBe(0);
    });
  });

  it('Idempotency-Key: a retry replays the refund and refunds nothing more', async () => {
    clock.advance(1000);
    const { accountId, payment } = await paid();
    const first = await refund(payment.paymentId, { amount: 300 }, 'refund-key-1').expect(201);
    const again = await refund(payment.paymentId, { amount: 300 }, 'refund-key-1').expect(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    const other = await refund(payment.paymentId, { amount: 301 }, 'refund-key-1').expect(422);
    expect(other.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await balanceOf(t, accountId)).toBe(300);
    const got = await http().get(`/payments/${payment.paymentId}`).expect(200);
    expect(got.body.refundedAmount).toBe(300);
  });

  it('20 concurrent refunds of one payment never exceed its amount', async () => {
    clock.advance(1000);
    const { accountId, payment } = await paid();
    const results = await Promise.all(
      Array.from({ length: 20 }, () => refund(payment.paymentId, { amount: 1500 })),
    );
    const statuses = results.map((r) => r.status).sort();
    // 6 × 1500 = 9000 fit; the 7th would need 10500; every later one is refused too.
    expect(statuses.filter((s) => s === 201)).toHaveLength(6);
    expect(
      results.filter((r) => r.status !== 201).map((r) => (r.body as { code: string }).code),
    ).toEqual(Array(14).fill('REFUND_EXCEEDS_PAYMENT'));
    expect(await balanceOf(t, accountId)).toBe(9000);
    const got = await http().get(`/payments/${payment.paymentId}`).expect(200);
    // floor(1000 × 2 %) = 20 is the cashback left.
    expect(got.body).toMatchObject({ refundedAmount: 9000, cashbackAmount: 20 });
    // Default amounts race too: exactly one takes the rest, the others find nothing left.
    const rest = await Promise.all(Array.from({ length: 5 }, () => refund(payment.paymentId)));
    expect(rest.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409]);
    expect(await balanceOf(t, accountId)).toBe(10_000);
  });

  it('a refund racing the cashback settlement ends in the same state in either order', async () => {
    // Each payment is refunded in part, either just before its due time or right after its
    // cashback is credited, or at the due time concurrently with the worker: the final
    // balance and the payment are the same in every case.
    clock.advance(1000);
    const cases = await Promise.all([paid(), paid(), paid()]);
    const due = cases[0].payment.cashbackDueAt;
    expect(cases.every((c) => c.payment.cashbackDueAt === due)).toBe(true);
    const [before, after, racing] = cases;
    clock.set(due - 1);
    await refund(before.payment.paymentId, { amount: 3333 }).expect(201);
    clock.set(due);
    await drain(t);
    await refund(after.payment.paymentId, { amount: 3333 }).expect(201);
    clock.set(due + 1000);
    const [raced] = await Promise.all([
      refund(racing.payment.paymentId, { amount: 3333 }),
      drain(t),
    ]);
    expect(raced.status).toBe(201);
    for (const { accountId, payment } of cases) {
      // 10000 − 10000 + 3333 + floor(6667 × 2 %) = 3333 + 133.
      expect(await balanceOf(t, accountId)).toBe(3466);
      const got = await http().get(`/payments/${payment.paymentId}`).expect(200);
      expect(got.body).toMatchObject({
        refundedAmount: 3333,
        cashbackAmount: 133,
        status: 'CASHBACK_RECEIVED',
      });
    }
  });
});

/** POST /transactions/{transactionId}/reversals. */
describe('reversals', () => {
  const clock = new ManualClock(1_763_900_000_000);
  const app = useLedgerTestApp(clock);
  let t: TestApp;
  beforeAll(() => (t = app()));
  const http = () => request(t.app.getHttpServer());
  const reverse = (transactionId: string, body?: object, key?: string) =>
    post(t, `/transactions/${transactionId}/reversals`, body, key);
  const transaction = async (id: string) =>
    (await http().get(`/transactions/${id}`).expect(200)).body as {
      type: string;
      reversedAmount: number;
      entries: Entry[];
    };

  it('reverses a deposit in full by default: a REVERSAL entry pointing at it', async () => {
    clock.advance(1000);
    const { accountId } = await createAccount(t);
    const deposit = await http().post('/deposits').send({ accountId, amount: 700 }).expect(201);
    clock.advance(1000);
    const res = await reverse(deposit.body.transactionId as string).expect(201);
    expect(res.body).toEqual({
      transactionId: expect.any(String),
      type: 'REVERSAL',
      reversedTransactionId: deposit.body.transactionId,
      amount: 700,
      entries: [
        {
          entryId: expect.stringMatching(/^\d+$/),
          transactionId: res.body.transactionId,
          accountId,
          type: 'REVERSAL',
          amount: -700,
          balanceAfter: 0,
          timestamp: clock.now(),
          counterpartyAccountId: null,
          paymentId: null,
          reversedTransactionId: deposit.body.transactionId,
        },
      ],
    });
    // The response shows the entry exactly as the ledger stores it.
    const history = await http().get(`/accounts/${accountId}/transactions`).expect(200);
    expect(history.body.data.at(-1)).toEqual(res.body.entries[0]);
    expect((await transaction(res.body.transactionId as string)).type).toBe('REVERSAL');
    expect((await transaction(deposit.body.transactionId as string)).reversedAmount).toBe(700);
    clock.advance(1); // `to` is exclusive: the statement then includes the reversal
    const csv = await http().get(`/accounts/${accountId}/statement`).query({ format: 'csv' });
    expect(csv.text.trim().split('\r\n').at(-1)).toBe(
      `${res.body.entries[0].entryId},${res.body.transactionId},${clock.now() - 1},REVERSAL,-700,0,,,${deposit.body.transactionId}`,
    );
  });

  it('reverses a withdrawal in part, then the rest; never more than the original', async () => {
    clock.advance(1000);
    const { accountId } = await createAccount(t, { initialDeposit: 1000 });
    const w = await http().post('/withdrawals').send({ accountId, amount: 600 }).expect(201);
    const id = w.body.transactionId as string;
    await reverse(id, { amount: 250 }).expect(201);
    const over = await reverse(id, { amount: 351 }).expect(422);
    expect(over.body).toMatchObject({
      code: 'REVERSAL_EXCEEDS_REMAINING',
      detail: `Transaction ${id} has 350 of 600 left to reverse, not 351.`,
    });
    const rest = await reverse(id).expect(201);
    expect(rest.body.amount).toBe(350);
    const none = await reverse(id).expect(422);
    expect(none.body.code).toBe('REVERSAL_EXCEEDS_REMAINING');
    expect((await transaction(id)).reversedAmount).toBe(600);
    expect(await balanceOf(t, accountId)).toBe(1000);
  });

  it('reverses a transfer: the target debited, the source credited, counterparties kept', async () => {
    clock.advance(1000);
    const a = await createAccount(t, { initialDeposit: 1000 });
    const b = await createAccount(t);
    const tr = await http()
      .post('/transfers')
      .send({ sourceAccountId: a.accountId, targetAccountId: b.accountId, amount: 800 })
      .expect(201);
    const res = await reverse(tr.body.transactionId as string, { amount: 300 }).expect(201);
    expect(
      (res.body.entries as Entry[]).map((e) => [
        e.accountId,
        e.type,
        e.amount,
        e.balanceAfter,
        e.counterpartyAccountId,
      ]),
    ).toEqual([
      [b.accountId, 'REVERSAL', -300, 500, a.accountId],
      [a.accountId, 'REVERSAL', 300, 500, b.accountId],
    ]);
    // The target spent the rest: reversing it needs funds the target no longer has.
    await http().post('/withdrawals').send({ accountId: b.accountId, amount: 500 }).expect(201);
    const broke = await reverse(tr.body.transactionId as string).expect(422);
    expect(broke.body.code).toBe('INSUFFICIENT_FUNDS');
    expect((await transaction(tr.body.transactionId as string)).reversedAmount).toBe(300);
  });

  it('a reversal that debits a frozen account is 422 ACCOUNT_FROZEN; one that credits it lands', async () => {
    clock.advance(1000);
    const a = await createAccount(t, { initialDeposit: 1000 });
    const b = await createAccount(t);
    const tr = await http()
      .post('/transfers')
      .send({ sourceAccountId: a.accountId, targetAccountId: b.accountId, amount: 400 })
      .expect(201);
    await http().post(`/accounts/${b.accountId}/freeze`).expect(200);
    const res = await reverse(tr.body.transactionId as string).expect(422);
    expect(res.body.code).toBe('ACCOUNT_FROZEN');
    const w = await http()
      .post('/withdrawals')
      .send({ accountId: b.accountId, amount: 1 })
      .expect(422);
    expect(w.body.code).toBe('ACCOUNT_FROZEN');
    await http().post(`/accounts/${b.accountId}/unfreeze`).expect(200);
    await http().post(`/accounts/${a.accountId}/freeze`).expect(200);
    // The frozen source is only credited back.
    await reverse(tr.body.transactionId as string).expect(201);
    expect([await balanceOf(t, a.accountId), await balanceOf(t, b.accountId)]).toEqual([1000, 0]);
  });

  it('422 NOT_REVERSIBLE for payments, cashbacks, refunds and reversals', async () => {
    clock.advance(1000);
    const { accountId } = await createAccount(t, { initialDeposit: 10_000 });
    const payment = await pay(t, accountId, 5000);
    const dep = await http().post('/deposits').send({ accountId, amount: 10 }).expect(201);
    const rev = await reverse(dep.body.transactionId as string, { amount: 1 }).expect(201);
    const ref = await http()
      .post(`/payments/${payment.paymentId}/refunds`)
      .send({ amount: 1 })
      .expect(201);
    clock.set(payment.cashbackDueAt + 1);
    await drain(t);
    const cashback = (
      (await http().get(`/accounts/${accountId}/transactions`).expect(200)).body.data as Entry[]
    ).find((e) => e.type === 'CASHBACK')!;
    for (const id of [
      payment.transactionId,
      cashback.transactionId,
      ref.body.transactionId as string,
      rev.body.transactionId as string,
    ]) {
      const res = await reverse(id).expect(422).expect('content-type', PROBLEM);
      expect(res.body.code).toBe('NOT_REVERSIBLE');
    }
  });

  it('404 TRANSACTION_NOT_FOUND for an unknown or malformed id; 400 for a bad amount', async () => {
    for (const id of ['00000000-0000-0000-0000-000000000000', 'not-a-uuid']) {
      const res = await reverse(id, { amount: 1 }).expect(404);
      expect(res.body.code).toBe('TRANSACTION_NOT_FOUND');
    }
    for (const body of [{ amount: 0 }, { amount: 2.5 }, { amount: null }, { amount: 1, x: 1 }]) {
      const res = await reverse('00000000-0000-0000-0000-000000000000', body).expect(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
    }
  });

  it('Idempotency-Key: a retry replays the reversal', async () => {
    clock.advance(1000);
    const { accountId } = await createAccount(t, { initialDeposit: 1000 });
    const dep = await http().post('/deposits').send({ accountId, amount: 500 }).expect(201);
    const id = dep.body.transactionId as string;
    const first = await reverse(id, { amount: 200 }, 'reversal-key-1').expect(201);
    const again = await reverse(id, { amount: 200 }, 'reversal-key-1').expect(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect((await transaction(id)).reversedAmount).toBe(200);
    expect(await balanceOf(t, accountId)).toBe(1300);
  });

  it('20 concurrent reversals of one transfer never exceed it', async () => {
    clock.advance(1000);
    const a = await createAccount(t, { initialDeposit: 5000 });
    const b = await createAccount(t, { initialDeposit: 5000 });
    const tr = await http()
      .post('/transfers')
      .send({ sourceAccountId: a.accountId, targetAccountId: b.accountId, amount: 1000 })
      .expect(201);
    const id = tr.body.transactionId as string;
    const results = await Promise.all(
      Array.from({ length: 20 }, () => reverse(id, { amount: 150 })),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(6);
    expect(
      results.filter((r) => r.status !== 201).map((r) => (r.body as { code: string }).code),
    ).toEqual(Array(14).fill('REVERSAL_EXCEEDS_REMAINING'));
    expect((await transaction(id)).reversedAmount).toBe(900);
    expect(await balanceOf(t, a.accountId)).toBe(4900);
    expect(await balanceOf(t, b.accountId)).toBe(5100);
  });
});

/** Two service instances on one database: the row locks, not the process, serialize. */
describe('refunds and reversals on two instances', () => {
  let one: TestApp;
  let two: TestApp;
  beforeAll(async () => {
    one = await createTestApp({ env: { CASHBACK_WORKER_INTERVAL_MS: '3600000' } });
    two = await createTestApp({
      database: one.database,
      env: { CASHBACK_WORKER_INTERVAL_MS: '3600000' },
    });
  });
  afterAll(async () => {
    await two?.close();
    await one?.close();
  });

  it('concurrent refunds and reversals through both never exceed their original', async () => {
    const { accountId } = await createAccount(one, { initialDeposit: 10_000 });
    const payment = await pay(one, accountId, 10_000);
    const other = await createAccount(one);
    const deposit = await request(two.app.getHttpServer())
      .post('/deposits')
      .send({ accountId: other.accountId, amount: 1000 })
      .expect(201);
    const apps = [one, two];
    const isReversal = (i: number) => i % 3 === 0;
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, i) => {
        const http = request(apps[i % 2].app.getHttpServer());
        return isReversal(i)
          ? http.post(`/transactions/${deposit.body.transactionId}/reversals`).send({ amount: 300 })
          : http.post(`/payments/${payment.paymentId}/refunds`).send({ amount: 1500 });
      }),
    );
    const ok = (reversal: boolean) =>
      results.filter((r, i) => r.status === 201 && isReversal(i) === reversal).length;
    // 16 refunds of 1500 for 10000: 6; 8 reversals of 300 for 1000: 3.
    expect([ok(false), ok(true)]).toEqual([6, 3]);
    expect(results.filter((r) => r.status >= 500)).toEqual([]);
    expect(await balanceOf(one, accountId)).toBe(9000);
    expect(await balanceOf(two, other.accountId)).toBe(100);
    await expectLedgerConsistent(one);
  });
});
